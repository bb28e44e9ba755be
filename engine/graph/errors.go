package graph

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by a Sequence used after it or its Runner was closed.
var ErrClosed = errors.New("graph: closed")

// recoverTo turns a gomlx panic into an error at the package boundary. gomlx
// reports bad shapes and backend failures by panicking; callers of a
// model.Runner expect errors.
func recoverTo(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if e, ok := r.(error); ok {
		*err = fmt.Errorf("gomlx: %w", e)
		return
	}
	*err = fmt.Errorf("gomlx: %v", r)
}
