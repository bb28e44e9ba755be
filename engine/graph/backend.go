package graph

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// Backends are process-wide: a PJRT client per model would each claim device
// memory, and the pure-Go one holds only a worker pool. Runners share them and
// never finalize them; a runner's Close frees its own tensors and graphs.
var (
	backendsMu   sync.Mutex
	openBackends = map[string]backends.Backend{} // guarded by backendsMu, keyed by the name Backend() reports
)

// simplegoName is what Backend() reports for the pure-Go backend.
const simplegoName = "gomlx/simplego"

// simplegoConfig runs a graph's ops one after another; large DotGenerals
// still split across the worker pool. gomlx v0.26.0's parallel op scheduler
// reads its use counters without the lock it writes them under
// (simplego/exec.go:430), which the race detector reports; ops in sequence
// avoid that, and cost nothing where the matrix products dominate.
const simplegoConfig = simplego.BackendName + ":ops_sequential"

// selectBackend opens the backend named by want:
//
//	""                  XLA if a PJRT plugin is installed (CUDA, then Metal, then CPU), else pure Go
//	"go", "simplego"    the pure-Go backend
//	"xla"               XLA with the best installed plugin, an error if none
//	"xla:<plugin>"      that plugin ("cpu", "cuda", "metal", or an absolute path)
//
// It returns the backend and its report name ("gomlx/simplego", "gomlx/xla:cpu").
func selectBackend(want string) (backends.Backend, string, error) {
	want = strings.TrimSpace(want)
	switch {
	case want == "":
		if plugin := bestXLAPlugin(); plugin != "" {
			return openBackend("gomlx/xla:"+plugin, "xla:"+plugin)
		}
		return openBackend(simplegoName, simplegoConfig)
	case want == "go" || want == "simplego":
		return openBackend(simplegoName, simplegoConfig)
	case want == "xla":
		plugin := bestXLAPlugin()
		if plugin == "" {
			return nil, "", fmt.Errorf("backend xla: %w", errNoXLA())
		}
		return openBackend("gomlx/xla:"+plugin, "xla:"+plugin)
	case strings.HasPrefix(want, "xla:"):
		if !xlaCompiled {
			return nil, "", fmt.Errorf("backend %s: %w", want, errNoXLA())
		}
		return openBackend("gomlx/"+want, want)
	}
	return nil, "", fmt.Errorf("unknown backend %q (want \"\", \"go\", \"xla\" or \"xla:<plugin>\")", want)
}

func openBackend(name, config string) (b backends.Backend, _ string, err error) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if b, ok := openBackends[name]; ok && !b.IsFinalized() {
		return b, name, nil
	}
	// backends.NewWithConfig panics on an unknown backend name.
	defer recoverTo(&err)
	b, err = backends.NewWithConfig(config)
	if err != nil {
		return nil, "", fmt.Errorf("open backend %s: %w", name, err)
	}
	openBackends[name] = b
	return b, name, nil
}
