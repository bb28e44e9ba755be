package model

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrUnsupportedArch is returned for a config.json whose architecture is not registered.
var ErrUnsupportedArch = errors.New("unsupported architecture")

// Arch is one model family: how its config maps onto Config, and how its
// tensors are bound and run (Build).
type Arch struct {
	// Name is the value of architectures[0] in config.json, e.g. "LlamaForCausalLM".
	Name string
	// Configure sets the family's layout flags (QKVBias, OBias, QKNorm, ...) on a
	// parsed config and rejects settings the family has but the executors do not
	// support. raw is the whole config.json, for family-specific keys.
	Configure func(c *Config, raw []byte) error
	// Build binds the family's tensors through b and returns its forward pass.
	Build func(c *Config, b *Binder) (Definition, error)
}

var (
	archMu sync.RWMutex
	archs  = map[string]Arch{} // guarded by archMu
)

// Register adds an architecture. It panics on an empty or duplicate name: both
// are programming errors in an init function.
func Register(a Arch) {
	if a.Name == "" {
		panic("model.Register: empty architecture name")
	}
	archMu.Lock()
	defer archMu.Unlock()
	if _, dup := archs[a.Name]; dup {
		panic("model.Register: duplicate architecture " + a.Name)
	}
	archs[a.Name] = a
}

// Lookup finds the architecture named by architectures[0].
func Lookup(architectures []string) (Arch, error) {
	if len(architectures) == 0 {
		return Arch{}, fmt.Errorf("%w: config.json names no architecture", ErrUnsupportedArch)
	}
	archMu.RLock()
	a, ok := archs[architectures[0]]
	archMu.RUnlock()
	if !ok {
		return Arch{}, fmt.Errorf("%w: %s (supported: %v)", ErrUnsupportedArch, architectures[0], Architectures())
	}
	return a, nil
}

// Architectures lists the registered architecture names, sorted.
func Architectures() []string {
	archMu.RLock()
	defer archMu.RUnlock()
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
