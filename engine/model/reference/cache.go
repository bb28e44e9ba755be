package reference

import (
	"fmt"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// weights decodes each tensor to float64 the first time it is used and keeps
// it: the same arithmetic as decoding on every use, without paying for it on
// every token. The reference is meant for tiny models, so the copy is small.
type weights struct {
	mu      sync.Mutex
	linears map[*model.Linear]*dense    // guarded by mu
	norms   map[*model.Tensor][]float64 // guarded by mu
}

func (w *weights) linear(l *model.Linear) (*dense, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d, ok := w.linears[l]; ok {
		return d, nil
	}
	d, err := decodeLinear(l)
	if err != nil {
		return nil, err
	}
	if w.linears == nil {
		w.linears = map[*model.Linear]*dense{}
	}
	w.linears[l] = d
	return d, nil
}

// vector decodes a small float tensor (a norm weight) once.
func (w *weights) vector(t *model.Tensor) ([]float64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.norms[t]; ok {
		return v, nil
	}
	f, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	if w.norms == nil {
		w.norms = map[*model.Tensor][]float64{}
	}
	w.norms[t] = widen(f)
	return w.norms[t], nil
}
