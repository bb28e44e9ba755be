package engine

import (
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// ModelRef is a model named by a client: a Hugging Face repo id ("org/name")
// with the characters the Hub allows, which the engine finds in its models
// dir; a "local/<name>" an admin registered (AddLocalModel) resolves to its
// folder instead. It cannot hold anything else, in particular
// no folder path ("/etc", "../x", "~/m"): only the CLI's engine
// (Options.Folders) opens folders it is given as plain strings by its own
// user, never by a request. The zero ModelRef names no model.
type ModelRef struct{ id string }

// ErrInvalidModelRef is wrapped by ParseModelRef's error.
var ErrInvalidModelRef = hub.ErrInvalidRepoID

// ParseModelRef is the one check of a model name that comes from a client. The
// API parses names with it at its edge; the engine's own methods take the
// string form (ModelRef.String) and refuse folder paths again, in resolveDir.
func ParseModelRef(s string) (ModelRef, error) {
	if !hub.ValidRepoID(s) {
		return ModelRef{}, fmt.Errorf("%w: %q is not a model id (org/name)", ErrInvalidModelRef, s)
	}
	return ModelRef{id: s}, nil
}

// IsModelRef reports whether s parses as a ModelRef: a name that would be
// taken for a model rather than, say, a profile.
func IsModelRef(s string) bool {
	_, err := ParseModelRef(s)
	return err == nil
}

// String is the repo id.
func (r ModelRef) String() string { return r.id }

// IsZero reports whether r names no model.
func (r ModelRef) IsZero() bool { return r.id == "" }
