package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

type download struct {
	TaskID     string  `json:"task_id"`
	DownloadID string  `json:"download_id"`
	ModelID    string  `json:"model_id"`
	Status     string  `json:"status"`
	BytesDone  int64   `json:"bytes_done"`
	BytesTotal int64   `json:"bytes_total"`
	Percent    float64 `json:"percent"`
	SpeedBPS   float64 `json:"speed_bps"`
	ETASeconds float64 `json:"eta_seconds"`
	Error      string  `json:"error"`
	Files      []struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		Done   int64  `json:"done"`
		Status string `json:"status"`
	} `json:"files"`
}

func (env *libEnv) startDownload(t *testing.T, token, id string) download {
	t.Helper()
	var d download
	env.JSON(t, "POST", "/api/models/download", token, map[string]string{"model_id": id}, http.StatusAccepted, &d)
	if d.TaskID == "" || d.DownloadID != d.TaskID || d.ModelID != id {
		t.Fatalf("start download = %+v", d)
	}
	return d
}

// follow reads a progress stream to its end, checking that it starts with a
// snapshot and that bytes never go backwards within a run.
func follow(t *testing.T, st *sseStream) []download {
	t.Helper()
	var seen []download
	for {
		ev, ok := st.next(t)
		if !ok {
			return seen
		}
		var d download
		ev.decode(t, &d)
		if ev.Name != "" {
			t.Errorf("progress event named %q, want plain messages", ev.Name)
		}
		seen = append(seen, d)
	}
}

func TestDownloadWithProgress(t *testing.T) {
	spec := modeltest.Spec{Seed: 5, Shards: 3}
	repo := hubRepo(t, "mlx-community/Sharded-Tiny", spec)
	env := startLib(t, libOptions{Repos: []hubtest.Repo{repo}})
	// One shard stalls until both watchers are connected; the stalled request is
	// then given up and resumed with a Range request.
	env.Hub.SetFault("model-00002-of-00003.safetensors", hubtest.Fault{StallAfter: 100})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")

	d := env.startDownload(t, user, repo.ID)
	again := env.startDownload(t, env.Admin, repo.ID)
	if again.TaskID != d.TaskID {
		t.Errorf("second start of a running download: task %s, want the same %s", again.TaskID, d.TaskID)
	}
	tabs := []*sseStream{
		env.openSSE(t, "/api/models/download/"+d.TaskID+"/progress", user),
		env.openSSE(t, "/api/models/download/"+d.TaskID+"/progress", env.Admin),
	}
	firsts := make([]download, len(tabs))
	for i, tab := range tabs {
		ev, ok := tab.next(t)
		if !ok {
			t.Fatalf("tab %d: no snapshot", i+1)
		}
		ev.decode(t, &firsts[i])
	}
	// Clear the fault only once the stall was noticed and the shard asked for again
	// from where it stopped; clearing it earlier lets the stalled request finish.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := env.Hub.Await(ctx, func() bool { return env.Hub.RangeRequests("model-00002-of-00003.safetensors") > 0 }); err != nil {
		t.Fatalf("the stalled shard was not resumed with a Range request: %v", err)
	}
	env.Hub.SetFault("model-00002-of-00003.safetensors", hubtest.Fault{})
	for i, tab := range tabs {
		seen := append([]download{firsts[i]}, follow(t, tab)...)
		if len(seen) < 2 {
			t.Fatalf("tab %d saw %d events, want a snapshot and updates", i+1, len(seen))
		}
		last := seen[len(seen)-1]
		if last.Status != "completed" || last.BytesDone != last.BytesTotal || last.Percent != 100 {
			t.Errorf("tab %d: last event %+v, want completed", i+1, last)
		}
		if len(last.Files) != len(repo.Files) {
			t.Errorf("tab %d: %d files, want %d", i+1, len(last.Files), len(repo.Files))
		}
		for _, f := range last.Files {
			if f.Status != "completed" || f.Done != f.Size {
				t.Errorf("tab %d: file %+v", i+1, f)
			}
		}
		if first := seen[0]; first.Status != "downloading" && first.Status != "pending" {
			t.Errorf("tab %d: first event %+v, want the running state", i+1, first)
		}
	}

	// A finished download's stream is its final state, then the end.
	late := follow(t, env.openSSE(t, "/api/models/download/"+d.TaskID+"/progress", user))
	if len(late) != 1 || late[0].Status != "completed" {
		t.Errorf("late watcher saw %+v", late)
	}
	var list []download
	env.JSON(t, "GET", "/api/models/downloads", user, nil, http.StatusOK, &list)
	if len(list) != 1 || list[0].TaskID != d.TaskID || list[0].Status != "completed" {
		t.Errorf("downloads = %+v", list)
	}
	var local []localItem
	env.JSON(t, "GET", "/api/models/local", user, nil, http.StatusOK, &local)
	if len(local) != 1 || local[0].ID != repo.ID || !local[0].Supported {
		t.Fatalf("local after download = %+v", local)
	}
	// The downloaded model runs (starting it is an admin action by default).
	var srv server
	env.JSON(t, "POST", "/api/servers/start", env.Admin, map[string]any{"model": repo.ID}, http.StatusOK, &srv)
	if srv.State != "ready" {
		t.Errorf("started downloaded model: %+v", srv)
	}
	if n := countAudit(t, env, "model.download"); n != 2 {
		t.Errorf("%d model.download audit events, want 2", n)
	}
	env.Error(t, "GET", "/api/models/download/"+d.TaskID+"/progress", "", nil, http.StatusUnauthorized)
	env.Error(t, "GET", "/api/models/download/nope/progress?token="+user, "", nil, http.StatusNotFound)
}

func TestDownloadPauseResumeCancel(t *testing.T) {
	repoA := hubRepo(t, "org/Model-A", modeltest.Spec{Seed: 11})
	repoB := hubRepo(t, "org/Model-B", modeltest.Spec{Seed: 12})
	// Stalls last until the client gives up, and the manager waits a minute: the
	// downloads stay in progress until the test acts.
	env := startLib(t, libOptions{Repos: []hubtest.Repo{repoA, repoB},
		Manager: func(o *hub.ManagerOptions) { o.StallTimeout = 60e9 }})
	env.Hub.SetFault("model.safetensors", hubtest.Fault{StallAfter: 64})

	a := env.startDownload(t, env.Admin, repoA.ID)
	watch := env.openSSE(t, "/api/models/download/"+a.TaskID+"/progress", env.Admin)
	watch.until(t, func(ev sseEvent) bool {
		var d download
		ev.decode(t, &d)
		return d.Status == "downloading" && d.BytesDone > 0
	})
	var d download
	env.JSON(t, "POST", "/api/models/download/"+a.TaskID+"/pause", env.Admin, nil, http.StatusOK, &d)
	if d.Status != "paused" || d.BytesDone == 0 {
		t.Errorf("after pause: %+v, want paused with bytes kept", d)
	}
	env.JSON(t, "POST", "/api/models/download/"+a.TaskID+"/pause", env.Admin, nil, http.StatusOK, &d) // idempotent

	env.Hub.SetFault("model.safetensors", hubtest.Fault{})
	env.JSON(t, "POST", "/api/models/download/"+a.TaskID+"/resume", env.Admin, nil, http.StatusOK, &d)
	watch.until(t, func(ev sseEvent) bool {
		ev.decode(t, &d)
		return d.Status == "completed"
	})
	if _, ok := watch.next(t); ok {
		t.Error("the progress stream went on after completed")
	}
	if e := env.Error(t, "POST", "/api/models/download/"+a.TaskID+"/pause", env.Admin, nil, http.StatusConflict); *e.Code != "download_completed" {
		t.Errorf("pause of a completed download: %+v", e)
	}

	env.Hub.SetFault("model.safetensors", hubtest.Fault{StallAfter: 64})
	b := env.startDownload(t, env.Admin, repoB.ID)
	env.JSON(t, "POST", "/api/models/download/"+b.TaskID+"/cancel", env.Admin, nil, http.StatusOK, &d)
	if d.Status != "cancelled" {
		t.Errorf("after cancel: %+v", d)
	}
	if e := env.Error(t, "POST", "/api/models/download/"+b.TaskID+"/resume", env.Admin, nil, http.StatusConflict); *e.Code != "download_cancelled" {
		t.Errorf("resume of a cancelled download: %+v", e)
	}
	env.Error(t, "POST", "/api/models/download/unknown/cancel", env.Admin, nil, http.StatusNotFound)
	var local []localItem
	env.JSON(t, "GET", "/api/models/local", env.Admin, nil, http.StatusOK, &local)
	if len(local) != 1 || local[0].ID != repoA.ID {
		t.Errorf("local = %+v, want only the completed model", local)
	}
	if n := countAudit(t, env, "model.download.cancel"); n != 1 {
		t.Errorf("%d cancel audit events", n)
	}

	// "Clear finished" empties the list of the completed and the cancelled
	// download; the completed model stays on disk.
	var cleared struct {
		Cleared int `json:"cleared"`
	}
	env.JSON(t, "DELETE", "/api/models/downloads", env.Admin, nil, http.StatusOK, &cleared)
	if cleared.Cleared != 2 {
		t.Errorf("cleared %d downloads, want 2", cleared.Cleared)
	}
	var list []download
	env.JSON(t, "GET", "/api/models/downloads", env.Admin, nil, http.StatusOK, &list)
	if len(list) != 0 {
		t.Errorf("downloads after clearing: %+v", list)
	}
	env.JSON(t, "GET", "/api/models/local", env.Admin, nil, http.StatusOK, &local)
	if len(local) != 1 || local[0].ID != repoA.ID {
		t.Errorf("local after clearing = %+v, want the completed model kept", local)
	}
	if n := countAudit(t, env, "model.downloads_clear"); n != 1 {
		t.Errorf("%d clear audit events", n)
	}
}

func TestDownloadErrors(t *testing.T) {
	gated := hubRepo(t, "org/Gated", tinySpec)
	gated.Gated = true
	ok := hubRepo(t, "org/Fine", tinySpec)
	env := startLib(t, libOptions{Repos: []hubtest.Repo{gated, ok},
		Manager: func(o *hub.ManagerOptions) { o.FreeSpace = func(string) (int64, error) { return 1000, nil } }})
	cases := []struct {
		name, model string
		want        int
		code        string
	}{
		{"invalid id", "not-a-repo", http.StatusBadRequest, "invalid_repo_id"},
		{"path trick", "../etc", http.StatusBadRequest, "invalid_repo_id"},
		{"not found", "nobody/Nothing", http.StatusNotFound, "model_not_found"},
		{"gated", gated.ID, http.StatusForbidden, "gated_repo"},
		{"no disk space", ok.ID, http.StatusInsufficientStorage, "insufficient_storage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env.Error(t, "POST", "/api/models/download", env.Admin, map[string]string{"model_id": tc.model}, tc.want)
			if e.Code == nil || *e.Code != tc.code {
				t.Errorf("code %v, want %s (%s)", e.Code, tc.code, e.Message)
			}
		})
	}
	env.Error(t, "POST", "/api/models/download", env.Admin, `{"model_id":"a/b","extra":1}`, http.StatusBadRequest)

	env.JSON(t, "PUT", "/api/settings/hub", env.Admin, map[string]any{"offline": true}, http.StatusOK, nil)
	if e := env.Error(t, "POST", "/api/models/download", env.Admin, map[string]string{"model_id": ok.ID}, http.StatusConflict); *e.Code != "offline_mode" {
		t.Errorf("offline download: %+v", e)
	}

	noHub := startLib(t, libOptions{NoHub: true})
	if e := noHub.Error(t, "POST", "/api/models/download", noHub.Admin, map[string]string{"model_id": ok.ID}, http.StatusServiceUnavailable); *e.Code != "hub_unavailable" {
		t.Errorf("no hub: %+v", e)
	}
}
