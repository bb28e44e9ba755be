package tray

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// fakeSystem is a machine with some commands on PATH; the ones named in fail
// exit with an error.
func fakeSystem(goos string, onPath []string, fail ...string) (*system, *[]command) {
	var ran []command
	s := &system{
		goos: goos,
		look: func(name string) (string, error) {
			if slices.Contains(onPath, name) {
				return "/usr/bin/" + name, nil
			}
			return "", exec.ErrNotFound
		},
		run: func(_ context.Context, c command) error {
			ran = append(ran, c)
			if slices.Contains(fail, strings.TrimPrefix(c.name, "/usr/bin/")) {
				return errors.New("exit status 1")
			}
			return nil
		},
	}
	return s, &ran
}

func TestDesktopCommands(t *testing.T) {
	all := []string{"open", "pbcopy", "osascript", "xdg-open", "wl-copy", "xclip", "xsel", "notify-send", "rundll32", "clip"}
	for _, tc := range []struct {
		name   string
		goos   string
		onPath []string
		fail   []string
		act    func(Desktop) error
		want   []string // each command run: name and args joined by spaces
		stdin  string
	}{
		{"open on macOS", "darwin", all, nil, func(d Desktop) error { return d.Open(url) }, []string{"/usr/bin/open " + url}, ""},
		{"open on Linux", "linux", all, nil, func(d Desktop) error { return d.Open(url) }, []string{"/usr/bin/xdg-open " + url}, ""},
		{"open on Windows", "windows", all, nil, func(d Desktop) error { return d.Open(url) }, []string{"/usr/bin/rundll32 url.dll,FileProtocolHandler " + url}, ""},
		{"copy on macOS", "darwin", all, nil, func(d Desktop) error { return d.Copy("x") }, []string{"/usr/bin/pbcopy"}, "x"},
		{"copy on Wayland", "linux", all, nil, func(d Desktop) error { return d.Copy("x") }, []string{"/usr/bin/wl-copy"}, "x"},
		{"copy on X11 falls back to xclip", "linux", all, []string{"wl-copy"}, func(d Desktop) error { return d.Copy("x") },
			[]string{"/usr/bin/wl-copy", "/usr/bin/xclip -selection clipboard"}, "x"},
		{"copy with only xsel", "linux", []string{"xsel"}, nil, func(d Desktop) error { return d.Copy("x") },
			[]string{"/usr/bin/xsel --clipboard --input"}, "x"},
		{"notify on macOS", "darwin", all, nil, func(d Desktop) error { return d.Notify(`Could not "load"`, `a\b`) },
			[]string{`/usr/bin/osascript -e display notification "a\\b" with title "Could not \"load\""`}, ""},
		{"notify on Linux", "linux", all, nil, func(d Desktop) error { return d.Notify("T", "-b") },
			[]string{"/usr/bin/notify-send --app-name=MLX Manager -- T -b"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ran := fakeSystem(tc.goos, tc.onPath, tc.fail...)
			if err := tc.act(s); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range *ran {
				got = append(got, strings.Join(append([]string{c.name}, c.args...), " "))
				if c.stdin != tc.stdin {
					t.Errorf("%s: stdin %q, want %q", c.name, c.stdin, tc.stdin)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ran\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}

func TestDesktopErrors(t *testing.T) {
	s, _ := fakeSystem("linux", nil)
	err := s.Copy("x")
	if err == nil || !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "clipboard") {
		t.Fatalf("copy without any tool: %v", err)
	}
	s, _ = fakeSystem("linux", []string{"notify-send"}, "notify-send")
	if err := s.Notify("t", "b"); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("failing notify-send: %v", err)
	}
	s, _ = fakeSystem("windows", nil)
	if err := s.Notify("t", "b"); err == nil {
		t.Fatal("notify on windows: want an error")
	}
}

// The real runner with a real command: stdin reaches it and a failure is reported.
func TestRunCommand(t *testing.T) {
	sh, err := exec.LookPath("sh")
	testenv.Need(t, err == nil, "sh on PATH")
	if err := runCommand(context.Background(), command{name: sh, args: []string{"-c", `read x; test "$x" = hello`}, stdin: "hello\n"}); err != nil {
		t.Fatalf("stdin did not reach the command: %v", err)
	}
	if err := runCommand(context.Background(), command{name: sh, args: []string{"-c", "exit 3"}}); err == nil {
		t.Fatal("a failing command must be an error")
	}
	if err := runCommand(context.Background(), command{name: sh, args: []string{"-c", "exit 0"}, detach: true}); err != nil {
		t.Fatal(err)
	}
}
