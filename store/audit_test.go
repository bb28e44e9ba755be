package store_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// seedAudit writes n events one second apart, cycling users, models and statuses.
func seedAudit(t *testing.T, st *store.Store, clock *storetest.Clock, n int) []store.AuditEvent {
	t.Helper()
	var out []store.AuditEvent
	for i := range n {
		ev := store.AuditEvent{
			Action:     []string{"v1.chat.completions", "v1.embeddings", "auth.login"}[i%3],
			Status:     []string{store.AuditSuccess, store.AuditError}[i%2],
			UserID:     []string{"u1", "u2"}[i%2],
			Model:      []string{"m1", "m2", ""}[i%3],
			DurationMS: float64(10 * (i + 1)),
		}
		if ev.Action == "v1.chat.completions" {
			ev.PromptTokens, ev.CompletionTokens, ev.TTFTMS = 5, 7, 2
		}
		got, err := st.Audit().Append(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
		clock.Advance(time.Second)
	}
	return out
}

func ids(evs []store.AuditEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// newest returns the ids of evs that satisfy keep, newest first.
func newest(evs []store.AuditEvent, keep func(store.AuditEvent) bool) []string {
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		if keep(evs[i]) {
			out = append(out, evs[i].ID)
		}
	}
	return out
}

func TestAuditQuery(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	start := clock.Now()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	evs := seedAudit(t, st, clock, 12)
	all := func(store.AuditEvent) bool { return true }

	cases := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"all newest first", store.AuditFilter{}, newest(evs, all)},
		{"user", store.AuditFilter{UserID: "u1"}, newest(evs, func(e store.AuditEvent) bool { return e.UserID == "u1" })},
		{"model", store.AuditFilter{Model: "m2"}, newest(evs, func(e store.AuditEvent) bool { return e.Model == "m2" })},
		{"action prefix", store.AuditFilter{Action: "v1"}, newest(evs, func(e store.AuditEvent) bool { return strings.HasPrefix(e.Action, "v1.") })},
		{"action exact", store.AuditFilter{Action: "auth.login"}, newest(evs, func(e store.AuditEvent) bool { return e.Action == "auth.login" })},
		{"action not a word prefix", store.AuditFilter{Action: "v1.chat.comp"}, nil},
		{"status", store.AuditFilter{Status: store.AuditError}, newest(evs, func(e store.AuditEvent) bool { return e.Status == store.AuditError })},
		{"time range", store.AuditFilter{From: start.Add(3 * time.Second), To: start.Add(6 * time.Second)},
			[]string{evs[5].ID, evs[4].ID, evs[3].ID}},
		{"limit and offset", store.AuditFilter{Offset: 2, Limit: 3}, []string{evs[9].ID, evs[8].ID, evs[7].ID}},
		{"cursor", store.AuditFilter{Before: evs[4].ID}, []string{evs[3].ID, evs[2].ID, evs[1].ID, evs[0].ID}},
		{"cursor and filter", store.AuditFilter{Before: evs[4].ID, UserID: "u2"}, []string{evs[3].ID, evs[1].ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := st.Audit().Query(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page.Events); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ids = %v\nwant %v", got, tc.want)
			}
		})
	}

	// Walking pages by cursor visits every event once.
	var walked []string
	f := store.AuditFilter{Limit: 5}
	for {
		page, err := st.Audit().Query(f)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(page.Events)...)
		if page.Next == "" {
			break
		}
		f.Before = page.Next
	}
	if want := newest(evs, all); !reflect.DeepEqual(walked, want) {
		t.Fatalf("paged walk = %v\nwant %v", walked, want)
	}
	if _, err := st.Audit().Query(store.AuditFilter{Before: "zz"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestAuditStats(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	seedAudit(t, st, clock, 6)
	got, err := st.Audit().Stats(store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := store.AuditStats{
		Total:            6,
		ByAction:         map[string]int{"v1.chat.completions": 2, "v1.embeddings": 2, "auth.login": 2},
		ByStatus:         map[string]int{store.AuditSuccess: 3, store.AuditError: 3},
		ByModel:          map[string]int{"m1": 2, "m2": 2},
		PromptTokens:     10,
		CompletionTokens: 14,
		AvgDurationMS:    35, // (10+20+...+60)/6
		AvgTTFTMS:        2,
		TokensByUser: map[string]store.TokenUsage{"u1": {Requests: 1, PromptTokens: 5, CompletionTokens: 7},
			"u2": {Requests: 1, PromptTokens: 5, CompletionTokens: 7}},
		TokensByBackend: map[string]store.TokenUsage{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats = %+v\nwant  %+v", got, want)
	}
	u1, err := st.Audit().Stats(store.AuditFilter{UserID: "u1", Action: "v1"})
	if err != nil || u1.Total != 2 || u1.PromptTokens != 5 {
		t.Fatalf("filtered stats = %+v, %v", u1, err)
	}
}

func TestAuditAppendTruncates(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	long := strings.Repeat("é", 1000) // 2 bytes each: the cut must not split one
	ev, err := st.Audit().Append(store.AuditEvent{Action: "v1.x", ErrorMessage: long})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.ErrorMessage) > 512 || !strings.HasPrefix(long, ev.ErrorMessage) || len(ev.ErrorMessage)%2 != 0 {
		t.Fatalf("truncated message has %d bytes", len(ev.ErrorMessage))
	}
	if ev.ID == "" || ev.Time.IsZero() {
		t.Fatalf("event not stamped: %+v", ev)
	}
}

func TestAuditRetention(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	start := clock.Now()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	a := st.Audit()

	r, err := a.Retention()
	if err != nil || r != store.DefaultAuditRetention {
		t.Fatalf("default retention = %+v, %v", r, err)
	}
	for _, bad := range []store.AuditRetention{{Days: 0, MaxEvents: 1000}, {Days: 30, MaxEvents: 5}} {
		if err := a.SetRetention(bad); err == nil {
			t.Fatalf("SetRetention(%+v) accepted", bad)
		}
	}

	// One event per day for 40 days, then enforce the 30-day default.
	for range 40 {
		if _, err := a.Append(store.AuditEvent{Action: "auth.login"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
	}
	clock.Set(start.Add(40 * 24 * time.Hour))
	n, err := a.EnforceRetention()
	if err != nil || n != 10 {
		t.Fatalf("age prune removed %d, %v; want 10", n, err)
	}
	// Now the size cap: keep the newest 100 of 140 more.
	if err := a.SetRetention(store.AuditRetention{Days: 3650, MaxEvents: 100}); err != nil {
		t.Fatal(err)
	}
	var last store.AuditEvent
	for range 140 {
		if last, err = a.Append(store.AuditEvent{Action: "auth.login"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err = a.EnforceRetention()
	if err != nil || n != 70 {
		t.Fatalf("size prune removed %d, %v; want 70", n, err)
	}
	if c, _ := a.Count(); c != 100 {
		t.Fatalf("count after prune = %d, want 100", c)
	}
	page, _ := a.Query(store.AuditFilter{Limit: 1})
	if len(page.Events) != 1 || page.Events[0].ID != last.ID {
		t.Fatal("the newest event was pruned")
	}
}

// Pruning more than one batch works across transactions.
func TestAuditPruneBatches(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	st.SetPruneBatch(7)
	seedAudit(t, st, clock, 30)
	removed, err := st.Audit().Prune(clock.Now().Add(-5*time.Second), 20)
	if err != nil || removed != 25 {
		t.Fatalf("removed %d, %v; want 25 by age", removed, err)
	}
	seedAudit(t, st, clock, 30)
	removed, err = st.Audit().Prune(time.Time{}, 8)
	if err != nil || removed != 27 {
		t.Fatalf("removed %d, %v; want 27 by size", removed, err)
	}
}

func TestAuditTokenUse(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	add := func(user, key string, prompt, completion int) {
		t.Helper()
		if _, err := st.Audit().Append(store.AuditEvent{Action: "v1.chat.completions", Status: store.AuditSuccess,
			UserID: user, APIKeyID: key, PromptTokens: prompt, CompletionTokens: completion}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	add("u1", "k1", 100, 1) // before the cut: not counted
	from := clock.Now()
	add("u1", "k1", 10, 5)
	add("u1", "", 3, 4)
	add("u2", "k2", 1, 1)
	add("", "", 7, 0)
	if _, err := st.Audit().Append(store.AuditEvent{Action: "auth.login", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Audit().TokenUse(from)
	if err != nil {
		t.Fatal(err)
	}
	want := store.TokenUse{ByUser: map[string]int64{"u1": 22, "u2": 2}, ByKey: map[string]int64{"k1": 15, "k2": 2}, Anonymous: 7}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("token use %+v, want %+v", got, want)
	}
}

func TestAuditTokenSums(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	for _, ev := range []store.AuditEvent{
		{Action: "v1.chat.completions", UserEmail: "a@x", Backend: "gpu", PromptTokens: 10, CompletionTokens: 5},
		{Action: "v1.messages", UserEmail: "a@x", PromptTokens: 3, CompletionTokens: 2},
		{Action: "v1.chat.completions", UserID: "u2", Backend: "gpu", PromptTokens: 1, CompletionTokens: 1},
		{Action: "v1.chat.completions", UserEmail: "a@x", Backend: "cloud", Status: store.AuditError},
		{Action: "auth.login", UserEmail: "a@x"},
	} {
		if _, err := st.Audit().Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	s, err := st.Audit().Stats(store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.TokenUsage{"a@x": {Requests: 2, PromptTokens: 13, CompletionTokens: 7}, "u2": {Requests: 1, PromptTokens: 1, CompletionTokens: 1}}
	if !reflect.DeepEqual(s.TokensByUser, want) {
		t.Errorf("by user %+v", s.TokensByUser)
	}
	want = map[string]store.TokenUsage{"gpu": {Requests: 2, PromptTokens: 11, CompletionTokens: 6}, "cloud": {Requests: 1}}
	if !reflect.DeepEqual(s.TokensByBackend, want) {
		t.Errorf("by backend %+v", s.TokensByBackend)
	}
}
