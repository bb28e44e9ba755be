package store

import "sync"

// groupCommit writes concurrent audit appends in shared transactions: every /v1
// request appends one event, and one fsync per event made 32 concurrent requests
// queue behind 32 fsyncs. The first caller to find no write running becomes the
// leader and commits everything queued; callers that arrive meanwhile wait and
// go in the next transaction, led by the first of them. So nobody waits on a
// timer (bbolt's Batch waits up to MaxBatchDelay even for a lone write), a
// leader commits one transaction and hands on, and every caller returns only
// once its own event is durable, as with db.Update.
type groupCommit struct {
	mu    sync.Mutex
	queue []*auditReq
	busy  bool

	queued func(waiting int) // tests: called when a caller starts waiting behind a commit
}

type auditReq struct {
	ev   AuditEvent
	err  error
	lead bool          // set before wake closes: this waiter leads the next commit
	wake chan struct{} // closed when the event is committed or the waiter leads
}

// do queues r and returns once commit has written it (r.ev and r.err are set).
func (g *groupCommit) do(r *auditReq, commit func([]*auditReq)) {
	r.wake = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.busy {
		if g.queued != nil {
			g.queued(len(g.queue))
		}
		g.mu.Unlock()
		<-r.wake
		if !r.lead {
			return
		}
		g.mu.Lock()
	}
	g.busy = true
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	commit(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		next.lead = true
		close(next.wake)
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	for _, o := range batch {
		if o != r {
			close(o.wake)
		}
	}
}
