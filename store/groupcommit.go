package store

import "sync"

// groupCommit writes audit appends in shared transactions: every /v1 request
// appends one event, and one fsync per event made 32 concurrent requests queue
// behind 32 fsyncs. An append joins the queue; when no commit is running, one
// committer goroutine starts and commits the whole queue in one transaction,
// then whatever was queued meanwhile, until the queue is empty and it ends.
// Nobody waits on a timer (bbolt's Batch waits up to MaxBatchDelay even for a
// lone write).
//
// The committer calls each request's done in the queue's order, which is the
// order it wrote them in (the bucket sequence that ends each id), one batch
// after the other: the audit log's live stream is handed its events in that
// order. A caller that needs its
// event durable before it goes on (Append) waits in done; a /v1 request does
// not (AppendAsync), so its response ends without an fsync on its path.
type groupCommit struct {
	mu    sync.Mutex
	queue []*auditReq
	busy  bool          // a committer runs
	idle  chan struct{} // closed when the running committer ends

	queued func(waiting int) // tests: called when an append queues behind a running commit
}

type auditReq struct {
	ev      AuditEvent
	err     error
	barrier bool                    // no event: done says everything queued before it is committed
	done    func(AuditEvent, error) // called by the committer, in commit order; may be nil
}

// maxAuditQueue bounds the events waiting for a commit: past it, an append
// waits for its own commit, so a disk slower than the requests slows them
// down instead of growing memory without end.
const maxAuditQueue = 4096

// add queues r and returns at once; commit runs later, in the committer. It
// reports whether the queue is past maxAuditQueue.
func (g *groupCommit) add(r *auditReq, commit func([]*auditReq)) (full bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, r)
	if g.busy {
		if g.queued != nil {
			g.queued(len(g.queue))
		}
		return len(g.queue) > maxAuditQueue
	}
	g.busy = true
	g.idle = make(chan struct{})
	go g.run(commit, g.idle)
	return false
}

// run commits the queue in batches until it is empty.
func (g *groupCommit) run(commit func([]*auditReq), idle chan struct{}) {
	defer close(idle)
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		commit(batch)
		for _, r := range batch {
			if r.done != nil {
				r.done(r.ev, r.err)
			}
		}
	}
}

// do queues r and returns once it is committed (r.ev and r.err are set).
func (g *groupCommit) do(r *auditReq, commit func([]*auditReq)) {
	wake := make(chan struct{})
	done := r.done
	r.done = func(ev AuditEvent, err error) {
		if done != nil {
			done(ev, err)
		}
		close(wake)
	}
	g.add(r, commit)
	<-wake
}

// flush returns once everything queued before it is committed; events queued
// after it are not waited for, so a steady stream of appends cannot hold it.
func (g *groupCommit) flush(commit func([]*auditReq)) {
	g.do(&auditReq{barrier: true}, commit)
}

// wait returns once no committer runs: at Close, after the last append.
func (g *groupCommit) wait() {
	g.mu.Lock()
	busy, idle := g.busy, g.idle
	g.mu.Unlock()
	if busy {
		<-idle
	}
}
