package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const mod = "github.com/mlx-manager/mlx-manager"

// testHelpers are packages only tests use. They may import each other; no
// other package may import them.
var testHelpers = []string{"api/apitest", "api/v1test", "api/ollamatest", "engine/enginetest", "engine/hub/hubtest",
	"engine/model/modeltest", "store/storetest", "internal/testenv", "e2e", "loadtest"}

// importRules is the one table of who may import whom inside this module
// (non-test code; tests may import what they test). A row names a package, or a
// package and everything below it ("engine/model/..."); the most specific row
// applies. who lists the importers, with the same "/..." form, "main" for the
// root package and "tests" for testHelpers. doc is the "Who may import me:"
// sentence of the package's doc comment, checked word for word, so the comment
// and the rule cannot drift apart.
var importRules = []struct {
	pkg string
	who []string
	doc string
}{
	{"api", []string{"main", "app", "tests"}, ""},
	{"api/auth", []string{"api", "app", "tests"}, "api, and app for the daemon's JWT secret."},
	{"api/metrics", []string{"api"}, "api."},
	{"api/openai", []string{"api"}, "api."},
	{"api/ollama", []string{"api", "api/openai", "app"}, "api, api/openai for keep_alive, and app for the CLI, a client of this API."},
	{"api/route", []string{"api"}, "api."},
	{"api/translate", []string{"api/route"}, "api/route."},
	{"app", []string{"main"}, ""},
	{"app/...", []string{"app"}, ""},
	{"app/tray", []string{"app"}, "app."},
	{"assets", []string{"api", "app"}, "api and app."},
	{"assets/icons", []string{"app/tray"}, ""},
	{"engine", []string{"app", "app/tray", "api", "api/openai", "api/ollama", "tests"}, "app, app/tray, api, api/openai and api/ollama. I import no HTTP or storage package."},
	{"engine/bench", []string{"app"}, "app (the CLI)."},
	{"engine/chat", []string{"engine"}, ""},
	{"engine/cpu", []string{"app", "engine/bench", "tests"}, "app (which wires me in as the executor) and engine/bench."},
	{"engine/cpu/kern", []string{"engine/cpu", "engine/bench", "app"}, "engine/cpu, engine/bench, app and their tests."},
	{"engine/graph", []string{"app", "tests"}, "app (which wires me in as the executor) and tests."},
	{"engine/hub", []string{"engine", "tests"}, "engine, which builds the client and the download manager from engine.HubOptions."},
	{"engine/model", []string{"engine/...", "app", "tests"}, "engine/... and app, which wires an executor in. I import no HTTP, storage or executor package."},
	{"engine/model/...", []string{"engine/model/...", "engine", "tests"}, ""},
	{"engine/model/reference", []string{"tests"}, "tests and tools."},
	{"engine/model/siglip", []string{"engine/model/..."}, "the model families whose vision tower is SigLIP (gemma3, idefics3)."},
	{"engine/model/qwenvit", []string{"engine/model/..."}, "the model families whose vision tower is Qwen2.5-VL's (qwen2vl)."},
	{"engine/pool", []string{"engine"}, "engine (the facade)."},
	{"engine/safetensors", []string{"engine/..."}, "the engine's packages."},
	{"engine/sample", []string{"engine/..."}, "the engine's packages."},
	{"engine/sample/grammar", []string{"engine/..."}, "the engine's packages."},
	{"engine/sched", []string{"engine", "engine/bench"}, "engine, and engine/bench to measure batching."},
	{"engine/tokenizer", []string{"engine"}, ""},
	{"engine/vision", []string{"engine", "tests"}, "engine."},
	{"store", []string{"api", "app", "tests"}, ""},
	{"api/apitest", []string{"tests"}, "tests of api and app."},
	{"engine/enginetest", []string{"tests"}, "tests only."},
	{"engine/model/modeltest", []string{"tests"}, "tests only."},
	{"store/storetest", []string{"tests"}, "tests of any package."},
	{"internal/testenv", []string{"tests"}, ""},
	{"internal/jsonlex", []string{"api/openai", "api/route"}, "api/openai and api/route."},
	{"internal/meminfo", []string{"engine/pool", "engine/safetensors"}, "engine/pool and engine/safetensors."},
}

// under reports whether pkg is pattern, or below it for a "/..." pattern.
func under(pkg, pattern string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// ruleFor is the most specific row for pkg.
func ruleFor(pkg string) (who []string, ok bool) {
	best := -1
	for _, r := range importRules {
		score := len(r.pkg)
		if r.pkg == pkg {
			score += 1 << 10 // the package's own row beats "pkg/..."
		}
		if under(pkg, r.pkg) && score > best {
			best, who, ok = score, r.who, true
		}
	}
	return who, ok
}

// mayImport applies who to an importer.
func mayImport(importer string, who []string) bool {
	for _, w := range who {
		switch {
		case w == "tests":
			for _, h := range testHelpers {
				if under(importer, h) {
					return true
				}
			}
		case w == "main" && importer == "":
			return true
		case w != "main" && under(importer, w):
			return true
		}
	}
	return false
}

// moduleImports lists each package of the module with the module packages it
// imports directly (non-test files), both relative to the module ("" is main).
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rel := func(p string) (string, bool) {
		if p == mod {
			return "", true
		}
		r, ok := strings.CutPrefix(p, mod+"/")
		return r, ok
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, _ := rel(fields[0])
		imports[pkg] = nil
		for _, imp := range fields[1:] {
			if r, ok := rel(imp); ok {
				imports[pkg] = append(imports[pkg], r)
			}
		}
	}
	return imports
}

// TestImportRules checks every import inside the module against importRules:
// api reaches the engine through its facade only, app wires executors but does
// not use the pool, the chat templates or the sampler, and so on.
func TestImportRules(t *testing.T) {
	for pkg, imps := range moduleImports(t) {
		for _, imp := range imps {
			who, ok := ruleFor(imp)
			if !ok {
				t.Errorf("%s has no row in importRules: decide who may import it", imp)
				continue
			}
			if !mayImport(pkg, who) {
				name := pkg
				if name == "" {
					name = "main"
				}
				t.Errorf("%s imports %s, which only %v may import", name, imp, who)
			}
		}
	}
}

// TestImportRulesEnforced proves the rules refuse what issue #25 forbids.
func TestImportRulesEnforced(t *testing.T) {
	refused := [][2]string{
		{"api", "engine/pool"}, {"api", "engine/chat"}, {"api", "engine/sample"}, {"api", "engine/sample/grammar"},
		{"api", "engine/model"}, {"api", "engine/cpu"}, {"api", "engine/graph"}, {"api", "engine/tokenizer"},
		{"api/openai", "engine/sample"}, {"app", "engine/pool"}, {"app", "engine/chat"}, {"app", "engine/sample"},
		{"app/tray", "engine/pool"}, {"engine", "api"}, {"engine", "store"}, {"store", "engine"},
		{"engine/cpu", "engine/graph"}, {"engine/graph", "engine/cpu"}, {"engine/pool", "engine/hub"},
		{"api", "engine/enginetest"}, {"engine", "engine/model/reference"}, {"api", "engine/hub"},
		{"app/tray", "engine/hub"}, {"api/openai", "engine/hub"}, {"api/ollama", "engine/pool"},
		{"app", "engine/hub"}, {"app/config", "engine/pool"}, {"app", "engine/sample/grammar"},
	}
	for _, e := range refused {
		who, ok := ruleFor(e[1])
		if ok && mayImport(e[0], who) {
			t.Errorf("%s may import %s", e[0], e[1])
		}
	}
	allowed := [][2]string{{"api", "engine"}, {"app", "engine/cpu"}, {"app", "engine/graph"}, {"engine", "engine/pool"},
		{"engine/model/all", "engine/model/llama"}, {"engine/enginetest", "engine/model/reference"}, {"", "app"}}
	for _, e := range allowed {
		if who, ok := ruleFor(e[1]); !ok || !mayImport(e[0], who) {
			t.Errorf("%s may not import %s", e[0], e[1])
		}
	}
}

// TestAPIUsesEngineFacadeOnly is the issue #25 rule in its general form: no
// package of api/ (non-test code, test helpers aside) imports an engine sub-package, whatever
// importRules says of it, and the rules would refuse every one that exists.
func TestAPIUsesEngineFacadeOnly(t *testing.T) {
	imports := moduleImports(t)
	for pkg, imps := range imports {
		for _, imp := range imps {
			helper := mayImport(pkg, []string{"tests"})
			if under(pkg, "api/...") && !helper && strings.HasPrefix(imp, "engine/") {
				t.Errorf("%s imports %s: api reaches the engine through its facade (package engine) only", pkg, imp)
			}
		}
	}
	for sub := range imports {
		if !strings.HasPrefix(sub, "engine/") || mayImport(sub, []string{"tests"}) {
			continue // test helpers are for api's tests
		}
		if who, ok := ruleFor(sub); ok && mayImport("api", who) {
			t.Errorf("importRules lets api import %s", sub)
		}
	}
}

// appWires are the engine sub-packages app/ may import: the executors and the
// bench it wires in, and engine/model, which names what an executor runs. The
// pool, the Hub, the chat templates and the sampler it reaches through the
// engine's facade (issue #25).
var appWires = []string{"engine/cpu/...", "engine/graph/...", "engine/bench/...", "engine/model"}

// TestAppWiresOnly is the issue #25 rule for app/ in its general form: no
// package of app/ (non-test code) imports an engine sub-package other than
// appWires, whatever importRules says of it, and the rules would refuse
// engine/pool, engine/hub, engine/chat and engine/sample (with what is below
// them) to every package of app/.
func TestAppWiresOnly(t *testing.T) {
	imports := moduleImports(t)
	for pkg, imps := range imports {
		if !under(pkg, "app/...") {
			continue
		}
		for _, imp := range imps {
			if strings.HasPrefix(imp, "engine/") && !mayImport(imp, appWires) {
				t.Errorf("%s imports %s: app wires executors in and reaches the rest of the engine through its facade (package engine)", pkg, imp)
			}
		}
	}
	for sub := range imports {
		for _, banned := range []string{"engine/pool/...", "engine/hub/...", "engine/chat/...", "engine/sample/..."} {
			if !under(sub, banned) || mayImport(sub, []string{"tests"}) {
				continue
			}
			who, ok := ruleFor(sub)
			for app := range imports {
				if ok && under(app, "app/...") && mayImport(app, who) {
					t.Errorf("importRules lets %s import %s", app, sub)
				}
			}
		}
	}
}

var whoLine = regexp.MustCompile(`Who may import me: (.*?\.)(?:\s|$)`)

// TestImportDocs: each package's "Who may import me" comment says what its row
// allows.
func TestImportDocs(t *testing.T) {
	for _, r := range importRules {
		if r.doc == "" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(filepath.FromSlash(r.pkg), "doc.go"))
		if err != nil {
			t.Errorf("%s: %v", r.pkg, err)
			continue
		}
		text := strings.Join(strings.Fields(strings.ReplaceAll(string(raw), "\n//", "")), " ")
		if !strings.Contains(text, "Who may import me: "+r.doc) {
			m := whoLine.FindStringSubmatch(text)
			got := "(none)"
			if m != nil {
				got = m[1]
			}
			t.Errorf("%s/doc.go says who may import it is %q; importRules says %q", r.pkg, got, r.doc)
		}
	}
}

// TestDependencyDirection keeps the layering the design fixes: engine and store
// know nothing of HTTP frameworks, tokens or each other; the API never reaches an
// executor directly. Like Tailscale's tstest/deptest, it asks the go command.
func TestDependencyDirection(t *testing.T) {
	const mod = mod + "/"
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
