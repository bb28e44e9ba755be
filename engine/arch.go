package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// UnsupportedError is a model whose architecture this engine cannot run. It says
// which one, and which ones it can, so that the user learns it from the answer,
// not from the log. It unwraps to ErrUnsupported.
type UnsupportedError struct {
	Model        string
	Architecture string   // config.json's architectures[0]; "" when it names none
	Supported    []string // the architectures the engine runs, sorted
}

func (e *UnsupportedError) Error() string {
	arch := e.Architecture
	if arch == "" {
		arch = "(config.json names none)"
	}
	prefix := ""
	if e.Model != "" {
		prefix = e.Model + ": "
	}
	return fmt.Sprintf("%sarchitecture %s is not supported; this engine runs %s", prefix, arch, strings.Join(e.Supported, ", "))
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// SupportedArchitectures lists the config.json architectures the engine runs,
// from the model registry (engine/model/all), sorted.
func SupportedArchitectures() []string { return model.Architectures() }

// architectureOf reads architectures[0] of a config.json; "" when it names none
// or is not JSON.
func architectureOf(raw []byte) string {
	var c struct {
		Architectures []string `json:"architectures"`
	}
	if json.Unmarshal(raw, &c) != nil || len(c.Architectures) == 0 {
		return ""
	}
	return c.Architectures[0]
}

// checkArchitecture is nil when the engine runs the architecture config.json
// names, else an *UnsupportedError for model id.
func checkArchitecture(id string, raw []byte) error {
	arch := architectureOf(raw)
	supported := SupportedArchitectures()
	if arch != "" && slices.Contains(supported, arch) {
		return nil
	}
	return &UnsupportedError{Model: id, Architecture: arch, Supported: supported}
}

// checkDir is checkArchitecture for a model folder. A missing or unreadable
// config.json is left to the load, which reports it as it is.
func checkDir(id, dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil
	}
	return checkArchitecture(id, raw)
}
