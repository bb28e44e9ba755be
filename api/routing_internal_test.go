package api

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/api/route"
	"github.com/mlx-manager/mlx-manager/store"
)

// TestRouteLocalName: the store validates rules with its own name for this
// daemon's engine, which must be the router's.
func TestRouteLocalName(t *testing.T) {
	if store.RouteLocal != route.Local {
		t.Fatalf("store.RouteLocal %q, route.Local %q", store.RouteLocal, route.Local)
	}
}
