package api

import (
	"github.com/mlx-manager/mlx-manager/engine"
)

// errNoEngine and errNoHub answer routes whose part the daemon was started without.
func errNoEngine() *Error {
	return &Error{Kind: engine.KindUnavailable, Code: "engine_unavailable", Message: "the model engine is not running"}
}

func errNoHub() *Error {
	return &Error{Kind: engine.KindUnavailable, Code: "hub_unavailable", Message: "the hugging face hub client is not configured"}
}
