package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Label names the login item: the LaunchAgent's Label and the bundle identifier
// of MLX Manager.app (Info.plist.tmpl), so launchd and the Finder see one app.
const Label = "io.github.mlx-manager"

// ErrUnsupported: this system has no login item this package knows how to write.
var ErrUnsupported = errors.New("launch at login is not supported on this system")

// Options say where the login item lives and what it starts.
type Options struct {
	GOOS      string   // runtime.GOOS when empty
	Home      string   // the user's home directory (macOS: ~/Library/LaunchAgents)
	ConfigDir string   // the XDG config directory (Linux: $XDG_CONFIG_HOME, else ~/.config)
	Exe       string   // absolute path of the program to start
	Args      []string // its arguments, e.g. serve --no-open
}

// Item is the login item of one program. Its methods touch only its one file.
type Item struct {
	path    string
	content []byte
}

// New describes the login item for o. It fails with ErrUnsupported on systems
// other than macOS and the XDG desktops (Linux, the BSDs).
func New(o Options) (*Item, error) {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if !filepath.IsAbs(o.Exe) {
		return nil, fmt.Errorf("login item: program path %q is not absolute", o.Exe)
	}
	for _, a := range append([]string{o.Exe}, o.Args...) {
		// Neither XML 1.0 nor a desktop entry can carry most control characters.
		if strings.ContainsFunc(a, unicode.IsControl) || !utf8.ValidString(a) {
			return nil, fmt.Errorf("login item: argument %q has control characters or is not UTF-8", a)
		}
	}
	switch o.GOOS {
	case "darwin":
		if o.Home == "" {
			return nil, errors.New("login item: no home directory")
		}
		return &Item{
			path:    filepath.Join(o.Home, "Library", "LaunchAgents", Label+".plist"),
			content: launchAgent(o.Exe, o.Args),
		}, nil
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		if o.ConfigDir == "" {
			if o.Home == "" {
				return nil, errors.New("login item: no config or home directory")
			}
			o.ConfigDir = filepath.Join(o.Home, ".config")
		}
		return &Item{
			path:    filepath.Join(o.ConfigDir, "autostart", "mlx-manager.desktop"),
			content: desktopEntry(o.Exe, o.Args),
		}, nil
	}
	return nil, fmt.Errorf("%w (%s)", ErrUnsupported, o.GOOS)
}

// Path is the file that makes the program start at login.
func (it *Item) Path() string { return it.path }

// Enabled reports whether the login item exists. One written by another build
// (an older path to the program) counts; SetEnabled(true) rewrites it.
func (it *Item) Enabled() (bool, error) {
	_, err := os.Stat(it.path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("login item: %w", err)
}

// SetEnabled writes or removes the login item. Writing replaces the file
// atomically, so a crash never leaves half a plist for launchd to reject.
func (it *Item) SetEnabled(on bool) error {
	if !on {
		if err := os.Remove(it.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("disable launch at login: %w", err)
		}
		return nil
	}
	if err := writeAtomic(it.path, it.content); err != nil {
		return fmt.Errorf("enable launch at login: %w", err)
	}
	return nil
}

func writeAtomic(path string, content []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".mlx-manager-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(content)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o644)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
