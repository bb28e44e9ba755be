package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// commandTimeout bounds a clipboard or notification command, so a stuck helper
// never freezes the menu.
const commandTimeout = 5 * time.Second

// command is one program to run for a desktop action.
type command struct {
	name  string
	args  []string
	stdin string
	// detach starts the program without waiting: a browser may stay in the
	// foreground for as long as it runs.
	detach bool
}

// system is the Desktop of the machine: the platform's own commands, found on
// PATH (open, pbcopy and osascript on macOS; xdg-open, wl-copy, xclip or xsel,
// and notify-send elsewhere).
type system struct {
	goos string
	look func(name string) (string, error)
	run  func(ctx context.Context, c command) error
	log  *slog.Logger
}

// NewDesktop returns the Desktop of this machine.
func NewDesktop(log *slog.Logger) Desktop {
	if log == nil {
		log = slog.Default()
	}
	return &system{goos: runtime.GOOS, look: exec.LookPath, run: runCommand, log: log}
}

func (s *system) Open(url string) error {
	c := command{name: "xdg-open", args: []string{url}, detach: true}
	switch s.goos {
	case "darwin":
		c.name = "open"
	case "windows":
		c.name, c.args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	}
	return s.first("open "+url, []command{c})
}

func (s *system) Copy(text string) error {
	var cs []command
	switch s.goos {
	case "darwin":
		cs = []command{{name: "pbcopy"}}
	case "windows":
		cs = []command{{name: "clip"}}
	default: // Wayland first: wl-copy fails fast without a Wayland session
		cs = []command{{name: "wl-copy"}, {name: "xclip", args: []string{"-selection", "clipboard"}}, {name: "xsel", args: []string{"--clipboard", "--input"}}}
	}
	for i := range cs {
		cs[i].stdin = text
	}
	return s.first("copy to the clipboard", cs)
}

func (s *system) Notify(title, body string) error {
	var c command
	switch s.goos {
	case "darwin":
		c = command{name: "osascript", args: []string{"-e", "display notification " + appleString(body) + " with title " + appleString(title)}}
	case "windows":
		return errors.New("notifications are not supported on windows")
	default:
		c = command{name: "notify-send", args: []string{"--app-name=MLX Manager", "--", title, body}}
	}
	return s.first("notify", []command{c})
}

// first runs the first of cs that succeeds, trying the next when one is missing
// or fails.
func (s *system) first(what string, cs []command) error {
	var errs []error
	for _, c := range cs {
		path, err := s.look(c.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.name = path
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		err = s.run(ctx, c)
		cancel()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
	}
	return fmt.Errorf("%s: %w", what, errors.Join(errs...))
}

func runCommand(ctx context.Context, c command) error {
	if c.detach {
		cmd := exec.Command(c.name, c.args...)
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait() // reap it whenever it ends; its exit status means nothing here
		return nil
	}
	// Stdout and stderr stay /dev/null: xclip and wl-copy leave a child serving
	// the clipboard, and a pipe would make Run wait for that child.
	cmd := exec.CommandContext(ctx, c.name, c.args...)
	cmd.Stdin = strings.NewReader(c.stdin)
	return cmd.Run()
}

// appleString quotes s as an AppleScript string literal.
func appleString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
