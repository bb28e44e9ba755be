package store

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// While one commit runs, later callers queue and go together in the next
// transaction, led by the first of them; each gets its own result.
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
