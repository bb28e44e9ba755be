package kern

import (
	"slices"
	"sync"
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

// orderTask records which thread ran each chunk, in the order each thread
// ran them.
type orderTask struct {
	mu  sync.Mutex
	ran [][]int // per thread
	d   []time.Duration
}

func (t *orderTask) runChunk(c, tid int) {
	for start := time.Now(); time.Since(start) < t.d[c]; {
	}
	t.mu.Lock()
	t.ran[tid] = append(t.ran[tid], c)
	t.mu.Unlock()
}

// TestPoolRangesOwnFrontStealBack: under runRanges every chunk runs once,
// each thread takes its own share front to back, and what it does not
// reach the others take from the back, whichever thread is late.
func TestPoolRangesOwnFrontStealBack(t *testing.T) {
	for _, threads := range []int{2, 3} {
		p := NewPool(threads)
		for round := range 60 {
			n := 1 + round%13
			task := &orderTask{ran: make([][]int, threads), d: make([]time.Duration, n)}
			for c := range task.d {
				task.d[c] = 2 * time.Microsecond
				if c%(1+round%4) == 0 {
					task.d[c] = 100 * time.Microsecond
				}
			}
			p.runRanges(task, n)
			owner := func(c int) int { // the share c is in
				for i := range threads {
					if c >= i*n/threads && c < (i+1)*n/threads {
						return i
					}
				}
				panic(c)
			}
			seen := make([]int, n)
			// Per share: its owner's chunks, then the others', as taken.
			own, stolen := make([][]int, threads), make([][]int, threads)
			for tid, cs := range task.ran {
				for _, c := range cs {
					seen[c]++
					if o := owner(c); o == tid {
						own[o] = append(own[o], c)
					} else {
						stolen[o] = append(stolen[o], c)
					}
				}
			}
			for c, k := range seen {
				if k != 1 {
					t.Fatalf("threads %d round %d: chunk %d of %d ran %d times", threads, round, c, n, k)
				}
			}
			for i := range threads {
				lo, hi := i*n/threads, (i+1)*n/threads
				for j, c := range own[i] {
					if c != lo+j {
						t.Fatalf("threads %d round %d: share [%d,%d)'s owner ran %v, not its front in order", threads, round, lo, hi, own[i])
					}
				}
				if len(own[i])+len(stolen[i]) != hi-lo {
					t.Fatalf("threads %d round %d: share [%d,%d) ran %v + %v", threads, round, lo, hi, own[i], stolen[i])
				}
				slices.Sort(stolen[i])
				for j, c := range stolen[i] {
					if c != lo+len(own[i])+j {
						t.Fatalf("threads %d round %d: share [%d,%d): others took %v, not its back", threads, round, lo, hi, stolen[i])
					}
				}
			}
		}
		p.Close()
	}
}

// spanOrderTask is orderTask run in pieces: it records each piece a
// thread ran as its first chunk and length.
type spanOrderTask struct {
	orderTask
	pieces [][][2]int // per thread
}

func (t *spanOrderTask) runChunks(c0, c1, tid int) {
	for c := c0; c < c1; c++ {
		t.runChunk(c, tid)
	}
	t.mu.Lock()
	t.pieces[tid] = append(t.pieces[tid], [2]int{c0, c1 - c0})
	t.mu.Unlock()
}

// TestPoolRangesHalves: a spanTask's owner takes its share front to back
// in pieces of at most half of what is left (one chunk at the end), the
// others steal single chunks from the back; every chunk runs once.
func TestPoolRangesHalves(t *testing.T) {
	for _, threads := range []int{2, 3} {
		p := NewPool(threads)
		for round := range 60 {
			n := threads * (1 + round%20)
			task := &spanOrderTask{orderTask: orderTask{ran: make([][]int, threads), d: make([]time.Duration, n)},
				pieces: make([][][2]int, threads)}
			for c := range task.d {
				task.d[c] = 5 * time.Microsecond
			}
			p.runRanges(task, n)
			seen := make([]int, n)
			for _, cs := range task.ran {
				for _, c := range cs {
					seen[c]++
				}
			}
			for c, k := range seen {
				if k != 1 {
					t.Fatalf("threads %d round %d: chunk %d of %d ran %d times", threads, round, c, n, k)
				}
			}
			for tid := range threads {
				lo, hi := tid*n/threads, (tid+1)*n/threads
				next, left := lo, hi-lo
				for _, pc := range task.pieces[tid] {
					if pc[0] != next || pc[1] > (left+1)/2 || pc[1] < 2 {
						t.Fatalf("threads %d round %d: share [%d,%d): owner's pieces %v (one-chunk pieces go through runChunk)",
							threads, round, lo, hi, task.pieces[tid])
					}
					next, left = next+pc[1], left-pc[1]
				}
			}
		}
		p.Close()
	}
}
