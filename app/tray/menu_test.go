package tray

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

const url = "http://127.0.0.1:8080"

func models(ids ...string) []engine.ModelInfo {
	var out []engine.ModelInfo
	for _, id := range ids {
		out = append(out, engine.ModelInfo{ID: id, Supported: true, SizeBytes: 2_500_000_000})
	}
	return out
}

func ready(id string) pool.ModelStatus {
	return pool.ModelStatus{ID: id, State: pool.StateReady, ResidentBytes: 1_200_000_000}
}

func ids(m Menu) []string {
	var out []string
	for _, it := range m.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestBuildLayout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state State
		want  []string
	}{
		{"empty", State{URL: url},
			[]string{IDOpen, IDCopy, "sep-models", "models", "models-none", "sep-app", IDQuit}},
		{"models sorted case-insensitively, login offered",
			State{URL: url, Models: models("b/two", "A/one", "a/three"), LoginOffered: true},
			[]string{IDOpen, IDCopy, "sep-models", "models", "model:A/one", "model:a/three", "model:b/two", "sep-app", IDLogin, IDQuit}},
		{"a loaded model missing from the dir still shows",
			State{URL: url, Models: models("a/one"), Pool: []pool.ModelStatus{ready("z/gone")}},
			[]string{IDOpen, IDCopy, "sep-models", "models", "model:a/one", "model:z/gone", "sep-app", IDQuit}},
		{"models dir unreadable",
			State{URL: url, ModelsErr: "permission denied"},
			[]string{IDOpen, IDCopy, "sep-models", "models", "models-error", "sep-app", IDQuit}},
		{"downloads and pending users",
			State{URL: url, Models: models("a/one"), Pending: 1, Downloads: []hub.Progress{
				{TaskID: "t1", Repo: "org/x", Status: hub.StatusDownloading},
				{TaskID: "t2", Repo: "org/done", Status: hub.StatusCompleted},
				{TaskID: "t3", Repo: "org/bad", Status: hub.StatusFailed},
			}},
			[]string{IDOpen, IDCopy, "sep-models", "models", "model:a/one", "sep-downloads", "downloads", "download:t1", "sep-users", IDUsers, "sep-app", IDQuit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(Build(tc.state)); !slices.Equal(got, tc.want) {
				t.Fatalf("items\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBuildModelItem(t *testing.T) {
	const id = "org/m"
	unsupported := engine.ModelInfo{ID: id, Unsupported: "architecture BertModel is not supported"}
	for _, tc := range []struct {
		name     string
		info     []engine.ModelInfo
		status   []pool.ModelStatus
		op       Op
		title    string
		checked  bool
		disabled bool
		tooltip  string // a part of it
	}{
		{"not loaded", models(id), nil, "", id, false, false, "Click to load (2.5 GB on disk)"},
		{"loaded", models(id), []pool.ModelStatus{ready(id)}, "", id, true, false, "Loaded (1.2 GB)"},
		{"pinned", models(id), []pool.ModelStatus{{ID: id, State: pool.StateReady, Pinned: true}}, "", id + " — pinned", true, false, "pinned"},
		{"generating", models(id), []pool.ModelStatus{{ID: id, State: pool.StateReady, InFlight: 2, Pinned: true}}, "", id + " — generating", true, false, "pinned"},
		{"loading from the menu", models(id), nil, OpLoad, id + " — Loading…", false, true, "Loading"},
		{"loading from elsewhere", models(id), []pool.ModelStatus{{ID: id, State: pool.StateLoading}}, "", id + " — Loading…", false, true, "Loading"},
		{"waiting for room", models(id), []pool.ModelStatus{{ID: id, State: pool.StatePending}}, "", id + " — Loading…", false, true, "Loading"},
		{"unloading from the menu", models(id), []pool.ModelStatus{ready(id)}, OpUnload, id + " — Unloading…", true, true, "Finishing"},
		{"unloading from elsewhere", models(id), []pool.ModelStatus{{ID: id, State: pool.StateUnloading}}, "", id + " — Unloading…", false, true, "Finishing"},
		{"unsupported", []engine.ModelInfo{unsupported}, nil, "", id + " — unsupported", false, true, "BertModel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := State{URL: url, Models: tc.info, Pool: tc.status, Ops: map[string]Op{}}
			if tc.op != "" {
				s.Ops[id] = tc.op
			}
			it, ok := find(Build(s), PrefixModel+id)
			if !ok {
				t.Fatal("no item for the model")
			}
			if it.Kind != KindCheck || it.Title != tc.title || it.Checked != tc.checked || it.Disabled != tc.disabled {
				t.Fatalf("got %+v\nwant title %q checked %v disabled %v", it, tc.title, tc.checked, tc.disabled)
			}
			if !strings.Contains(it.Tooltip, tc.tooltip) {
				t.Fatalf("tooltip %q, want it to contain %q", it.Tooltip, tc.tooltip)
			}
		})
	}
}

func TestBuildIcon(t *testing.T) {
	dl := []hub.Progress{{TaskID: "t", Repo: "o/r", Status: hub.StatusDownloading, BytesDone: 1, BytesTotal: 3}}
	for _, tc := range []struct {
		name  string
		state State
		want  Icon
	}{
		{"nothing", State{}, IconIdle},
		{"loaded", State{Pool: []pool.ModelStatus{ready("a/b")}}, IconLoaded},
		{"downloading beats loaded", State{Pool: []pool.ModelStatus{ready("a/b")}, Downloads: dl}, IconDownloading},
		{"generating beats downloading", State{Pool: []pool.ModelStatus{{ID: "a/b", State: pool.StateReady, InFlight: 1}}, Downloads: dl}, IconBusy},
		{"queued is busy", State{Pool: []pool.ModelStatus{{ID: "a/b", State: pool.StateReady, Queued: 1}}}, IconBusy},
		{"loading is busy", State{Pool: []pool.ModelStatus{{ID: "a/b", State: pool.StateLoading}}}, IconBusy},
		{"a menu op is busy", State{Ops: map[string]Op{"a/b": OpLoad}}, IconBusy},
		{"a finished download is not downloading", State{Downloads: []hub.Progress{{Status: hub.StatusCompleted}}}, IconIdle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Build(tc.state).Icon; got != tc.want {
				t.Fatalf("icon %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBuildDownloads(t *testing.T) {
	s := State{URL: url, Downloads: []hub.Progress{
		{TaskID: "a", Repo: "o/a", Status: hub.StatusDownloading, BytesDone: 999, BytesTotal: 1000},
		{TaskID: "b", Repo: "o/b", Status: hub.StatusPaused, BytesDone: 1, BytesTotal: 1000},
		{TaskID: "c", Repo: "o/c", Status: hub.StatusVerifying, BytesDone: 1000, BytesTotal: 1000},
		{TaskID: "d", Repo: "o/d", Status: hub.StatusPending},
	}}
	m := Build(s)
	for id, want := range map[string]string{"a": "o/a — 99%", "b": "o/b — paused", "c": "o/c — verifying", "d": "o/d — starting"} {
		it, ok := find(m, PrefixDownload+id)
		if !ok || it.Title != want || it.Disabled {
			t.Errorf("download %s: %+v, want an enabled %q", id, it, want)
		}
	}
	if m.Title != "66%" { // (999+1+1000) of 3000 bytes
		t.Errorf("title %q, want the overall 66%%", m.Title)
	}
}

func TestBuildTooltipAndActions(t *testing.T) {
	m := Build(State{URL: url, Pool: []pool.ModelStatus{ready("a/b"), ready("c/d")}, Pending: 3,
		Downloads: []hub.Progress{{Status: hub.StatusDownloading}}})
	want := "MLX Manager — " + url + "\n2 models loaded\nDownloading 1 model"
	if m.Tooltip != want {
		t.Errorf("tooltip %q, want %q", m.Tooltip, want)
	}
	if it, _ := find(m, IDCopy); it.Tooltip != url+"/v1" {
		t.Errorf("Copy API URL tooltip %q, want the /v1 URL", it.Tooltip)
	}
	if it, _ := find(m, IDUsers); it.Title != "3 users waiting for approval…" || it.Disabled {
		t.Errorf("users item %+v", it)
	}
	if m.Title != "" {
		t.Errorf("title %q without a known download size, want none", m.Title)
	}
	for _, it := range m.Items {
		if it.Kind == KindLabel && !it.Disabled {
			t.Errorf("label %s is clickable", it.ID)
		}
	}
}

func TestPercentAndSize(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		want        int
	}{{0, 0, 0}, {5, 0, 0}, {-1, 10, 0}, {1, 3, 33}, {999, 1000, 99}, {1000, 1000, 100}, {2000, 1000, 100}} {
		if got := percent(tc.done, tc.total); got != tc.want {
			t.Errorf("percent(%d, %d) = %d, want %d", tc.done, tc.total, got, tc.want)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 2_500_000_000: "2.5 GB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
