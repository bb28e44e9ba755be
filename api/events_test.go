package api_test

import (
	"net/http"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

type modelEvent struct {
	Kind   string `json:"kind"`
	Model  string `json:"model"`
	Reason string `json:"reason"`
	Bytes  int64  `json:"bytes"`
}

func TestServerEvents(t *testing.T) {
	repo := hubRepo(t, "org/Streamed", modeltest.Spec{Seed: 21})
	env := startLib(t, libOptions{Repos: []hubtest.Repo{repo}})
	env.install(t, "test/a", tinySpec)
	env.JSON(t, "POST", "/api/servers/start", env.Admin, map[string]any{"model": "test/a"}, http.StatusOK, nil)
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")

	st := env.openSSE(t, "/api/servers/events", user)
	first, ok := st.next(t)
	if !ok || first.Name != "snapshot" {
		t.Fatalf("first event = %+v, want the snapshot", first)
	}
	var snap struct {
		Servers   []server   `json:"servers"`
		Memory    memory     `json:"memory"`
		Downloads []download `json:"downloads"`
	}
	first.decode(t, &snap)
	if len(snap.Servers) != 1 || snap.Servers[0].Model != "test/a" || snap.Memory.Models != 1 || snap.Downloads == nil {
		t.Fatalf("snapshot = %+v", snap)
	}

	env.JSON(t, "POST", "/api/servers/stop", env.Admin, map[string]any{"model": "test/a"}, http.StatusOK, nil)
	var ev modelEvent
	st.until(t, func(e sseEvent) bool {
		if e.Name != "model" {
			return false
		}
		e.decode(t, &ev)
		return ev.Kind == "unloaded"
	})
	if ev.Model != "test/a" || ev.Reason != "unload" {
		t.Errorf("unloaded event = %+v", ev)
	}
	var mem memory
	st.until(t, func(e sseEvent) bool { return e.Name == "memory" }).decode(t, &mem)
	if mem.Models != 0 || mem.UsedBytes != 0 {
		t.Errorf("memory after unload = %+v", mem)
	}

	d := env.startDownload(t, env.Admin, repo.ID)
	var dl download
	st.until(t, func(e sseEvent) bool {
		if e.Name != "download" {
			return false
		}
		e.decode(t, &dl)
		return dl.Status == "completed"
	})
	if dl.TaskID != d.TaskID || dl.BytesDone != dl.BytesTotal {
		t.Errorf("download event = %+v", dl)
	}

	// Disabling the account ends its stream at the next keep-alive.
	var users []struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	}
	env.JSON(t, "GET", "/api/auth/users", env.Admin, nil, http.StatusOK, &users)
	for _, u := range users {
		if u.Email == "user@example.com" {
			env.JSON(t, "PUT", "/api/auth/users/"+u.ID, env.Admin, map[string]string{"status": "disabled"}, http.StatusOK, nil)
		}
	}
	for {
		if _, ok := st.next(t); !ok {
			break
		}
	}
	env.Error(t, "GET", "/api/servers/events", "", nil, http.StatusUnauthorized)
}

func TestEventStreamsEndOnShutdown(t *testing.T) {
	env := startLib(t, libOptions{})
	st := env.openSSE(t, "/api/servers/events", env.Admin)
	if ev, _ := st.next(t); ev.Name != "snapshot" {
		t.Fatalf("first event %+v", ev)
	}
	done := make(chan error, 1)
	go func() { done <- env.API.Shutdown(t.Context()) }()
	for {
		if _, ok := st.next(t); !ok {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Issue #25: account and settings changes reach open pages on the event stream,
// so the admin's badge and the users page follow without polling; a plain user
// never sees accounts.
func TestAccountEvents(t *testing.T) {
	env := startLib(t, libOptions{})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")
	admin := env.openSSE(t, "/api/servers/events", env.Admin)
	plain := env.openSSE(t, "/api/servers/events", user)
	for _, st := range []*sseStream{admin, plain} {
		if first, ok := st.next(t); !ok || first.Name != "snapshot" {
			t.Fatalf("first event %+v", first)
		}
	}

	carol := env.Register(t, "carol@example.com", "correct horse battery")
	var ev struct {
		Pending int    `json:"pending"`
		ID      string `json:"id"`
	}
	admin.until(t, func(e sseEvent) bool { return e.Name == "users" }).decode(t, &ev)
	if ev.Pending != 1 || ev.ID != carol.ID {
		t.Fatalf("after a registration: %+v", ev)
	}
	env.JSON(t, "PUT", "/api/auth/users/"+carol.ID, env.Admin, map[string]string{"status": "approved"}, http.StatusOK, nil)
	admin.until(t, func(e sseEvent) bool { return e.Name == "users" }).decode(t, &ev)
	if ev.Pending != 0 || ev.ID != carol.ID {
		t.Fatalf("after approval: %+v", ev)
	}

	env.JSON(t, "PUT", "/api/settings/auth", env.Admin, map[string]any{"registration": "invite"}, http.StatusOK, nil)
	var set struct {
		Key string `json:"key"`
	}
	// Events arrive in order: the plain user's first event after the snapshot is
	// the settings change, with no account event before it.
	next, ok := plain.next(t)
	if !ok || next.Name != "settings" {
		t.Fatalf("a plain user's stream got %+v before the settings change", next)
	}
	next.decode(t, &set)
	if set.Key != "auth" {
		t.Fatalf("settings event %+v", set)
	}
	admin.until(t, func(e sseEvent) bool { return e.Name == "settings" })
}
