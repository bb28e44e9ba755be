package autostart

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var serveArgs = []string{"serve", "--no-open"}

func TestNewPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string // relative to the temp dir; "" when New must fail
		err  error
	}{
		{"darwin", Options{GOOS: "darwin", Home: "H"}, "H/Library/LaunchAgents/io.github.mlx-manager.plist", nil},
		{"linux xdg", Options{GOOS: "linux", Home: "H", ConfigDir: "C"}, "C/autostart/mlx-manager.desktop", nil},
		{"linux home", Options{GOOS: "linux", Home: "H"}, "H/.config/autostart/mlx-manager.desktop", nil},
		{"freebsd", Options{GOOS: "freebsd", ConfigDir: "C"}, "C/autostart/mlx-manager.desktop", nil},
		{"windows", Options{GOOS: "windows", Home: "H"}, "", ErrUnsupported},
		{"darwin without home", Options{GOOS: "darwin"}, "", nil},
		{"linux without dirs", Options{GOOS: "linux"}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			o := tc.opts
			o.Exe = "/usr/local/bin/mlx-manager"
			for _, p := range []*string{&o.Home, &o.ConfigDir} {
				if *p != "" {
					*p = filepath.Join(root, *p)
				}
			}
			it, err := New(o)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("New(%+v) = %s, want an error", o, it.Path())
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tc.want); it.Path() != want {
				t.Fatalf("path %s, want %s", it.Path(), want)
			}
		})
	}
}

func TestRelativeExeRejected(t *testing.T) {
	if _, err := New(Options{GOOS: "linux", Home: t.TempDir(), Exe: "mlx-manager"}); err == nil {
		t.Fatal("a relative program path must be rejected: the session manager has another working directory")
	}
}

func TestEnableDisable(t *testing.T) {
	for _, goos := range []string{"darwin", "linux"} {
		t.Run(goos, func(t *testing.T) {
			it, err := New(Options{GOOS: goos, Home: t.TempDir(), Exe: "/opt/mlx/mlx-manager", Args: serveArgs})
			if err != nil {
				t.Fatal(err)
			}
			check := func(want bool) {
				t.Helper()
				on, err := it.Enabled()
				if err != nil || on != want {
					t.Fatalf("Enabled() = %v, %v; want %v", on, err, want)
				}
			}
			check(false)
			if err := it.SetEnabled(false); err != nil {
				t.Fatalf("disabling an absent item: %v", err)
			}
			for range 2 { // enabling twice replaces the file
				if err := it.SetEnabled(true); err != nil {
					t.Fatal(err)
				}
				check(true)
			}
			st, err := os.Stat(it.Path())
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644: launchd refuses agents others can write", st.Mode().Perm())
			}
			entries, _ := os.ReadDir(filepath.Dir(it.Path()))
			if len(entries) != 1 {
				t.Errorf("left temp files behind: %v", entries)
			}
			if err := it.SetEnabled(false); err != nil {
				t.Fatal(err)
			}
			check(false)
		})
	}
}

func TestEnableRewritesAMovedProgram(t *testing.T) {
	home := t.TempDir()
	for _, exe := range []string{"/old/mlx-manager", "/new/mlx-manager"} {
		it, err := New(Options{GOOS: "linux", Home: home, Exe: exe, Args: serveArgs})
		if err != nil {
			t.Fatal(err)
		}
		if err := it.SetEnabled(true); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(it.Path())
		if err != nil || !strings.Contains(string(b), "Exec="+exe+" serve") {
			t.Fatalf("after enabling %s: %s, %v", exe, b, err)
		}
	}
}

func TestEnabledReportsErrors(t *testing.T) {
	home := t.TempDir()
	it, err := New(Options{GOOS: "linux", Home: home, Exe: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	// A file where the autostart directory should be makes every path under it fail.
	if err := os.MkdirAll(filepath.Join(home, ".config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "autostart"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := it.Enabled(); err == nil {
		t.Error("Enabled: want an error when the directory is a file")
	}
	if err := it.SetEnabled(true); err == nil {
		t.Error("SetEnabled(true): want an error when the directory is a file")
	}
}

// plist is the part of a LaunchAgent this test reads back, the way launchd does.
type plist struct {
	Dict struct {
		Items []struct {
			XMLName xml.Name
			Value   string   `xml:",chardata"`
			Strings []string `xml:"string"`
		} `xml:",any"`
	} `xml:"dict"`
}

func parsePlist(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var p plist
	if err := xml.Unmarshal(b, &p); err != nil {
		t.Fatalf("plist does not parse: %v\n%s", err, b)
	}
	out := map[string]any{}
	var key string
	for _, it := range p.Dict.Items {
		switch it.XMLName.Local {
		case "key":
			key = it.Value
		case "array":
			out[key] = it.Strings
		case "true":
			out[key] = true
		default:
			out[key] = it.Value
		}
	}
	return out
}

func TestLaunchAgent(t *testing.T) {
	exe := "/Applications/MLX Manager.app/Contents/MacOS/mlx-manager"
	got := parsePlist(t, launchAgent(exe, serveArgs))
	want := map[string]any{
		"Label":                  Label,
		"ProgramArguments":       []string{exe, "serve", "--no-open"},
		"RunAtLoad":              true,
		"ProcessType":            "Interactive",
		"LimitLoadToSessionType": "Aqua",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plist\n got %#v\nwant %#v", got, want)
	}
	golden, err := os.ReadFile("testdata/launchagent.plist")
	if err != nil {
		t.Fatal(err)
	}
	if string(golden) != string(launchAgent(exe, serveArgs)) {
		t.Errorf("LaunchAgent differs from testdata/launchagent.plist:\n%s", launchAgent(exe, serveArgs))
	}
}

func TestDesktopEntry(t *testing.T) {
	exe := "/home/a b/bin/mlx-manager"
	entry := string(desktopEntry(exe, serveArgs))
	golden, err := os.ReadFile("testdata/mlx-manager.desktop")
	if err != nil {
		t.Fatal(err)
	}
	if string(golden) != entry {
		t.Errorf("desktop entry differs from testdata/mlx-manager.desktop:\n%s", entry)
	}
	for _, line := range strings.Split(entry, "\n") {
		if v, ok := strings.CutPrefix(line, "Exec="); ok {
			got, err := parseExec(v)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{exe, "serve", "--no-open"}; !slices.Equal(got, want) {
				t.Fatalf("Exec parses to %q, want %q", got, want)
			}
			return
		}
	}
	t.Fatal("no Exec line")
}

func TestExecArg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/usr/bin/mlx-manager", "/usr/bin/mlx-manager"},
		{"--no-open", "--no-open"},
		{"/a b/x", `"/a b/x"`},
		{`/a"b`, `"/a\\"b"`},
		{`/a\b`, `"/a\\\\b"`},
		{"/a$b", `"/a\\$b"`},
		{"/100%", "/100%%"},
		{"", `""`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := execArg(tc.in); got != tc.want {
				t.Fatalf("execArg(%q) = %s, want %s", tc.in, got, tc.want)
			}
			back, err := parseExec(tc.want)
			if err != nil || len(back) != 1 || back[0] != tc.in {
				t.Fatalf("parseExec(%s) = %q, %v; want [%q]", tc.want, back, err, tc.in)
			}
		})
	}
}

func TestControlCharactersRejected(t *testing.T) {
	for _, exe := range []string{"/a\nb", "/a\x01b", "/a\xffb"} {
		if _, err := New(Options{GOOS: "linux", Home: "/h", Exe: exe}); err == nil {
			t.Errorf("New accepted program path %q", exe)
		}
	}
}
