// Package app is the process: it parses the command line, wires store, engine, api
// and the tray together, and runs the subcommands (serve, version, tokenize, run,
// bench). Packages below it know nothing of one another's construction.
package app

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
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
		{"run", "generate from a model: run MODEL PROMPT", runRun},
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
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help":
		usage(stdout)
		return 0
	case strings.HasPrefix(args[0], "-"):
		// `mlx-manager --addr :8080` serves, as the bare command does.
		args = append([]string{"serve"}, args...)
	}
	name, rest := args[0], args[1:]
	var names []string
	for _, c := range commands() {
		if c.name == name {
			return exitCode(name, c.run(ctx, rest, stdout, stderr), stderr)
		}
		names = append(names, c.name)
	}
	if s := closest(name, names); s != "" {
		fmt.Fprintf(stderr, "mlx-manager: unknown command %q; did you mean %q?\n\n", name, s)
	} else {
		fmt.Fprintf(stderr, "mlx-manager: unknown command %q\n\n", name)
	}
	usage(stderr)
	return 2
}
