package tray

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the tray behind its Control interface (no store, no
// HTTP) and keeps fyne.io/systray and D-Bus out of builds without the tray tag.
func TestDependencies(t *testing.T) {
	const mod = "github.com/mlx-manager/mlx-manager/"
	for _, tc := range []struct {
		tags      string
		forbidden []string
		required  []string
	}{
		{"", []string{mod + "store", mod + "api", "go.etcd.io/bbolt", "github.com/labstack/echo", "fyne.io/systray", "github.com/godbus/dbus"}, nil},
		{"tray", []string{mod + "store", mod + "api", "go.etcd.io/bbolt", "github.com/labstack/echo"}, []string{"fyne.io/systray"}},
	} {
		t.Run("tags="+tc.tags, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-tags", tc.tags, "-deps", ".")
			cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			deps := map[string]bool{}
			for _, d := range strings.Fields(string(out)) {
				deps[d] = true
			}
			for d := range deps {
				for _, bad := range tc.forbidden {
					if d == bad || strings.HasPrefix(d, bad+"/") {
						t.Errorf("app/tray reaches %s", d)
					}
				}
			}
			for _, need := range tc.required {
				if !deps[need] {
					t.Errorf("app/tray does not reach %s", need)
				}
			}
		})
	}
}
