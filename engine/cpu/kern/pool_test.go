package kern

import (
	"sync/atomic"
	"testing"
	"time"
)

// unevenTask's chunks busy-compute for different lengths, from a few
// microseconds (decode's chunks) to well past doneSpin (prefill's), so the
// submitter both spins and parks waiting for the last chunk; it counts how
// often each chunk runs.
type unevenTask struct {
	runs []atomic.Int32
	long int // chunks c with c%long == long-1 run ~200 µs
}

func (t *unevenTask) runChunk(c, _ int) {
	d := 2 * time.Microsecond
	if c%t.long == t.long-1 {
		d = 200 * time.Microsecond
	}
	for start := time.Now(); time.Since(start) < d; {
	}
	t.runs[c].Add(1)
}

// TestPoolRunsEveryChunkOnce submits tasks whose last chunks outlast the
// submitter's spin: run must return only after every chunk ran, each once,
// whether the submitter or a worker finishes last.
func TestPoolRunsEveryChunkOnce(t *testing.T) {
	for _, threads := range []int{2, 3} {
		p := NewPool(threads)
		for round := range 60 {
			n := 1 + round%9
			task := &unevenTask{runs: make([]atomic.Int32, n), long: 1 + round%4}
			p.run(task, n)
			for c := range task.runs {
				if got := task.runs[c].Load(); got != 1 {
					t.Fatalf("threads %d round %d: chunk %d of %d ran %d times", threads, round, c, n, got)
				}
			}
			if p.waiting.Load() {
				t.Fatalf("threads %d round %d: waiting left set after run", threads, round)
			}
			if len(p.done) != 0 {
				t.Fatalf("threads %d round %d: a stale wake-up token is left", threads, round)
			}
		}
		p.Close()
	}
}
