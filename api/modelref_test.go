package api_test

import (
	"net/http"
	"testing"
)

// TestModelRefAtTheEdge: every /api route that takes a model parses it with the
// one constructor, so a folder, a traversal or an odd name is the same 400
// invalid_repo_id naming the field, whichever route it reaches, and no engine
// or Hub call is made with it.
func TestModelRefAtTheEdge(t *testing.T) {
	env := startLib(t, libOptions{})
	cases := []struct {
		name, method, path string
		body               any
		param              string
	}{
		{"download a folder", "POST", "/api/models/download", map[string]string{"model_id": "/etc"}, "model_id"},
		{"download a traversal", "POST", "/api/models/download", map[string]string{"model_id": "org/.."}, "model_id"},
		{"download odd unicode", "POST", "/api/models/download", map[string]string{"model_id": "org/na\u200bme"}, "model_id"},
		{"start a home folder", "POST", "/api/servers/start", map[string]any{"model": "~/models"}, "model"},
		{"stop a folder", "POST", "/api/servers/stop", map[string]any{"model": "/tmp/m"}, "model"},
		{"pin a dotted name", "POST", "/api/servers/org/name./pin", nil, "model"},
		{"config of a dotted name", "GET", "/api/models/config/bad..org/x", nil, "model"},
		{"delete a dotted name", "DELETE", "/api/models/org/a..b", nil, "model"},
		{"profile on a folder", "POST", "/api/profiles", map[string]any{"name": "Folder", "model": "/etc"}, "model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env.Error(t, tc.method, tc.path, env.Admin, tc.body, http.StatusBadRequest)
			if e.Code == nil || *e.Code != "invalid_repo_id" || e.Param == nil || *e.Param != tc.param {
				t.Errorf("code %v param %v, want invalid_repo_id on %s (%s)", e.Code, e.Param, tc.param, e.Message)
			}
		})
	}
	if got := len(env.Hub.Requests()); got != 0 {
		t.Errorf("the Hub saw %d requests for refused names", got)
	}
}
