package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the layering the design fixes: engine and store
// know nothing of HTTP frameworks, tokens or each other; the API never reaches an
// executor directly. Like Tailscale's tstest/deptest, it asks the go command.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/mlx-manager/mlx-manager/"
	rules := []struct {
		pkgs      string   // package pattern
		forbidden []string // import path prefixes none of them may reach
	}{
		{"./engine/...", []string{"github.com/labstack/echo", "go.etcd.io/bbolt", "github.com/golang-jwt/jwt", mod + "api", mod + "store", mod + "app", "github.com/coder/websocket"}},
		{"./store/...", []string{mod + "engine", mod + "api", mod + "app", "net/http", "github.com/labstack/echo"}},
		{"./api/...", []string{mod + "engine/cpu", mod + "engine/graph", mod + "app"}},
		{"./engine/cpu/...", []string{mod + "engine/graph"}},
		{"./engine/graph/...", []string{mod + "engine/cpu"}},
		{"./engine/pool/...", []string{mod + "engine/cpu", mod + "engine/graph", mod + "engine/tokenizer", mod + "engine/hub"}},
	}
	for _, r := range rules {
		t.Run(r.pkgs, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, r.pkgs).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", r.pkgs, err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				fields := strings.Fields(line)
				if len(fields) == 0 {
					continue
				}
				for _, dep := range fields[1:] {
					for _, bad := range r.forbidden {
						if dep == bad || strings.HasPrefix(dep, bad+"/") {
							t.Errorf("%s imports %s", fields[0], dep)
						}
					}
				}
			}
		})
	}
}
