package store

import (
	"sync"
	"time"
)

// groupCommit writes audit appends in shared transactions: every /v1 request
// appends one event, and one fsync per event made 32 concurrent requests queue
// behind 32 fsyncs. An append joins the queue; when no commit is running, one
// committer goroutine starts and commits the whole queue in one transaction,
// then whatever was queued meanwhile, until the queue is empty and it ends.
// Only appends nobody waits for linger (AppendAsync's): their committer waits up
// to linger for more before it commits, so that the events of concurrent
// requests, which end over some milliseconds, share one transaction and its two
// fsyncs instead of one each every few events. An append someone waits for
// (Append, a Flush, Close, a query) cuts the wait short: it never waits on the
// timer, as it would in bbolt's Batch.
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

	linger time.Duration // how long a queue of appends nobody waits for waits for more; 0: not at all
	urgent bool          // the queue holds an append someone waits for: no lingering
	hurry  chan struct{} // told (buffered, never blocks) when the queue becomes urgent

	queued func(waiting int) // tests: called when an append queues behind a running commit
}

type auditReq struct {
	ev      AuditEvent
	err     error
	barrier bool                    // no event: done says everything queued before it is committed
	waited  bool                    // its caller waits for its commit (do)
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
	if full := len(g.queue) > maxAuditQueue; (r.waited || full) && !g.urgent {
		g.urgent = true
		if g.hurry == nil {
			g.hurry = make(chan struct{}, 1)
		}
		select {
		case g.hurry <- struct{}{}:
		default:
		}
	}
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

// run commits the queue in batches until it is empty; a batch nobody waits
// for first lingers.
func (g *groupCommit) run(commit func([]*auditReq), idle chan struct{}) {
	defer close(idle)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		g.mu.Lock()
		if len(g.queue) > 0 && !g.urgent && g.linger > 0 {
			if g.hurry == nil {
				g.hurry = make(chan struct{}, 1)
			}
			hurry := g.hurry
			g.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(g.linger)
			} else {
				timer.Reset(g.linger)
			}
			select {
			case <-timer.C:
			case <-hurry:
				timer.Stop()
			}
			g.mu.Lock()
		}
		batch := g.queue
		g.queue = nil
		g.urgent = false
		select { // a hurry told for this batch is spent
		case <-g.hurry:
		default:
		}
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
	r.waited = true
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
