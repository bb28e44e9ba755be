package store

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// While one commit runs, later callers queue and go together in the next
// transaction; each gets its own result.
func TestGroupCommitQueuesBehindARunningCommit(t *testing.T) {
	t.Parallel()
	const waiters = 10
	var g groupCommit
	allQueued := make(chan struct{})
	g.queued = func(n int) {
		if n == waiters {
			close(allQueued)
		}
	}
	inFirst, release := make(chan struct{}), make(chan struct{})
	var batches [][]string // commits never overlap, so no lock
	commit := func(batch []*auditReq) {
		var names []string
		for _, r := range batch {
			names = append(names, r.ev.Action)
			r.ev.ID = "id-" + r.ev.Action
		}
		batches = append(batches, names)
		if len(batches) == 1 {
			close(inFirst)
			<-release
		}
	}

	var wg sync.WaitGroup
	run := func(r *auditReq) {
		wg.Add(1)
		go func() { defer wg.Done(); g.do(r, commit) }()
	}
	first := &auditReq{ev: AuditEvent{Action: "first"}}
	run(first)
	<-inFirst
	reqs := make([]*auditReq, waiters)
	for i := range reqs {
		reqs[i] = &auditReq{ev: AuditEvent{Action: fmt.Sprint("w", i)}}
		run(reqs[i])
	}
	<-allQueued
	close(release)
	wg.Wait()
	g.wait()

	if len(batches) != 2 || !slices.Equal(batches[0], []string{"first"}) || len(batches[1]) != waiters {
		t.Fatalf("commits = %v, want [first] then all %d waiters in one", batches, waiters)
	}
	for _, r := range append(reqs, first) {
		if r.ev.ID != "id-"+r.ev.Action || r.err != nil {
			t.Errorf("%s: id %q err %v", r.ev.Action, r.ev.ID, r.err)
		}
	}
	if g.busy || len(g.queue) != 0 {
		t.Errorf("after the last commit: busy %v, %d queued", g.busy, len(g.queue))
	}
}

// Concurrent appends each come back with their own id, all stored, none twice.
func TestAuditConcurrentAppends(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 64
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := s.Audit().Append(AuditEvent{Action: "v1.chat.completions", Status: AuditSuccess, Detail: fmt.Sprint(i)})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = ev.ID
		}()
	}
	wg.Wait()
	page, err := s.Audit().Query(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for _, ev := range page.Events {
		stored[ev.ID] = ev.Detail
	}
	if len(stored) != n {
		t.Fatalf("%d events stored, want %d", len(stored), n)
	}
	for i, id := range ids {
		if stored[id] != fmt.Sprint(i) {
			t.Errorf("append %d got id %s, which holds %q", i, id, stored[id])
		}
	}
}

// A commit that fails reaches the caller as an error.
func TestAuditAppendAfterClose(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Audit().Append(AuditEvent{Action: "auth.login"}); err == nil {
		t.Fatal("append on a closed store succeeded")
	}
}

// Appends that do not wait, from many goroutines and mixed with ones that do,
// are all stored; done hears of them one at a time in the order they were written,
// before Close returns; a query sees them without waiting.
func TestAuditAppendAsync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var (
		mu   sync.Mutex
		seen []AuditEvent // in the order done was called
		busy bool         // a done call runs
	)
	done := func(ev AuditEvent, err error) {
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		if busy {
			t.Error("done called concurrently")
		}
		busy = true
		seen = append(seen, ev)
		busy = false
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := AuditEvent{Action: "v1.chat.completions", Status: AuditSuccess, Detail: fmt.Sprint(i)}
			if i%10 == 0 {
				ev.Action = "auth.login"
				saved, err := s.Audit().Append(ev)
				if err != nil {
					t.Error(err)
					return
				}
				done(saved, nil)
				return
			}
			s.Audit().AppendAsync(ev, done)
		}()
	}
	wg.Wait()
	page, err := s.Audit().Query(AuditFilter{Action: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != n-n/10 {
		t.Errorf("a query after the appends returned sees %d events, want %d", len(page.Events), n-n/10)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	async := 0
	for i, ev := range seen {
		if ev.Action != "auth.login" {
			async++
			// The id's last 16 hex digits are the bucket sequence: the commit order.
			if i > 0 && seen[i-1].Action != "auth.login" && seen[i-1].ID[16:] >= ev.ID[16:] {
				t.Errorf("done heard %s after %s", ev.ID, seen[i-1].ID)
			}
		}
	}
	mu.Unlock()
	if async != n-n/10 {
		t.Fatalf("done heard of %d queued events by Close, want %d", async, n-n/10)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Audit().Query(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	details := map[string]bool{}
	for _, ev := range all.Events {
		details[ev.Detail] = true
	}
	for i := range n {
		if !details[fmt.Sprint(i)] {
			t.Errorf("event %d lost across Close", i)
		}
	}
}

// Events queued while a commit runs are all written by Close, which waits for
// the committer; the ones queued after a flush are not what it waits for.
func TestAuditCloseWritesTheQueue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	inFirst, release := make(chan struct{}), make(chan struct{})
	first := true
	s.Audit().AppendAsync(AuditEvent{Action: "first"}, func(AuditEvent, error) {
		if first { // the committer: later events queue behind this call
			first = false
			close(inFirst)
			<-release
		}
	})
	<-inFirst
	const queued = 50
	for i := range queued {
		s.Audit().AppendAsync(AuditEvent{Action: "v1.chat.completions", Detail: fmt.Sprint(i)}, nil)
	}
	close(release)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.Audit().Count()
	if err != nil {
		t.Fatal(err)
	}
	if n != queued+1 {
		t.Fatalf("%d events after reopening, want %d", n, queued+1)
	}
}

// A failed commit reaches done as an error.
func TestAuditAppendAsyncAfterClose(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	errc := make(chan error, 1)
	s.Audit().AppendAsync(AuditEvent{Action: "v1.chat.completions"}, func(_ AuditEvent, err error) { errc <- err })
	if err := <-errc; err == nil {
		t.Fatal("append on a closed store succeeded")
	}
}

// Appends nobody waits for linger for company: those queued within the linger
// share one commit, and an append someone waits for (here a Flush) commits them
// at once, with no wait on the timer (an hour: the test would time out).
func TestGroupCommitLingers(t *testing.T) {
	t.Parallel()
	g := groupCommit{linger: time.Hour}
	var batches [][]string // commits never overlap, so no lock
	commit := func(batch []*auditReq) {
		var names []string
		for _, r := range batch {
			if !r.barrier {
				names = append(names, r.ev.Action)
			}
		}
		batches = append(batches, names)
	}
	const n = 10
	for i := range n {
		g.add(&auditReq{ev: AuditEvent{Action: fmt.Sprint("a", i)}}, commit)
	}
	g.flush(commit)
	g.wait()
	if len(batches) != 1 || len(batches[0]) != n {
		t.Fatalf("commits = %v, want all %d appends in one", batches, n)
	}
	if g.busy || len(g.queue) != 0 || g.urgent {
		t.Errorf("after the commit: busy %v, %d queued, urgent %v", g.busy, len(g.queue), g.urgent)
	}

	// With nobody waiting, the linger's end commits them.
	g.linger = time.Millisecond
	done := make(chan struct{})
	g.add(&auditReq{ev: AuditEvent{Action: "late"}, done: func(AuditEvent, error) { close(done) }}, commit)
	<-done
	g.wait()
	if len(batches) != 2 || !slices.Equal(batches[1], []string{"late"}) {
		t.Fatalf("commits = %v, want [late] second", batches)
	}
}

// Close writes the events still lingering at once: with an hour's linger the
// test would time out if it waited for it, and nothing is lost on shutdown.
func TestAuditCloseCutsTheLinger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{AuditLinger: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const queued = 20
	for i := range queued {
		s.Audit().AppendAsync(AuditEvent{Action: "v1.chat.completions", Detail: fmt.Sprint(i)}, nil)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Audit().Count(); err != nil || n != queued {
		t.Fatalf("%d events after reopening (err %v), want %d", n, err, queued)
	}
}
