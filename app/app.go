// Package app is the process: it parses the command line, wires store, engine, api
// and the tray together, and runs the subcommands (serve, version, tokenize, run,
// bench). Packages below it know nothing of one another's construction.
package app

import (
	"context"
	"fmt"
	"io"
	"maps"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
)

// version is set at build time: -ldflags "-X github.com/mlx-manager/mlx-manager/app.version=v1.2.3".
var version = ""

// Version is this build's version: the linker-set one, else the VCS revision Go
// recorded, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			return "dev-" + rev[:12] + dirty
		}
	}
	return "dev"
}

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the daemon: web UI, API and menu-bar icon", runServe},
		{"run", "chat with a model, or answer one prompt: run MODEL [PROMPT]", runRun},
		{"pull", "download a model from Hugging Face through the daemon: pull REPO", runPull},
		{"ls", "list the downloaded models", runList},
		{"ps", "list the models loaded in the daemon", runPS},
		{"stop", "unload a model from the daemon: stop MODEL", runStop},
		{"show", "show a model's details: show MODEL", runShow},
		{"rm", "delete a downloaded model: rm MODEL", runRemove},
		{"tokenize", "print the token ids of a text: tokenize MODEL TEXT", runTokenize},
		{"bench", "measure load, prefill and decode speed", runBench},
		{"logits", "print a model's logits: logits MODEL --ids 1,2,3 [--all] [--json]", runLogits},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintf(stdout, "mlx-manager %s\nkernels: %s\n", Version(), kern.Info())
			if w := kern.Info().Warning(); w != "" {
				_, err = fmt.Fprintln(stdout, "warning:", w)
			}
			return err
		}},
	}
}

// Main runs one subcommand and returns the process exit code: 0 ok, 1 failure,
// 2 a mistake in the command line.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		args = []string{"serve"}
	case args[0] == "--version" || args[0] == "-version" || args[0] == "-v" || args[0] == "-V":
		args = []string{"version"}
	case args[0] == "help" && len(args) > 1:
		return helpCommand(ctx, args[1], stdout, stderr)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help":
		usage(stdout)
		return 0
	case strings.HasPrefix(args[0], "-"):
		// `mlx-manager --addr :8080` serves, as the bare command does.
		args = append([]string{"serve"}, args...)
	}
	name, rest := args[0], args[1:]
	if c, ok := findCommand(name); ok {
		return exitCode(c.name, c.run(ctx, rest, stdout, stderr), stderr)
	}
	unknownCommand(name, stderr)
	return 2
}

// commandAliases are other names users of ollama type.
var commandAliases = map[string]string{"list": "ls", "delete": "rm", "remove": "rm"}

func findCommand(name string) (command, bool) {
	if a, ok := commandAliases[name]; ok {
		name = a
	}
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// helpCommand is `help COMMAND`: the command's use and flags, on stdout.
func helpCommand(ctx context.Context, name string, stdout, stderr io.Writer) int {
	c, ok := findCommand(name)
	if !ok {
		unknownCommand(name, stderr)
		return 2
	}
	fmt.Fprintf(stdout, "mlx-manager %s: %s\n\nflags:\n", c.name, c.usage)
	// -h makes the command's flag set print its flags and stop.
	return exitCode(c.name, c.run(ctx, []string{"-h"}, stdout, stdout), stderr)
}

// unknownCommand says so, with the nearest command when it looks like a typo.
func unknownCommand(name string, stderr io.Writer) {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	names = append(names, slices.Sorted(maps.Keys(commandAliases))...)
	if s := closest(name, names); s != "" {
		fmt.Fprintf(stderr, "mlx-manager: unknown command %q; did you mean %q?\n\n", name, s)
	} else {
		fmt.Fprintf(stderr, "mlx-manager: unknown command %q\n\n", name)
	}
	usage(stderr)
}
