package sched

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

func newRunner(t *testing.T) model.Runner {
	t.Helper()
	r, err := cpu.New(modeltest.Open(t, modeltest.Spec{Seed: 3}), cpu.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func newSched(t *testing.T, r model.Runner, cfg Config) *Scheduler {
	t.Helper()
	s := New(r, cfg)
	t.Cleanup(s.Close)
	return s
}

func newSeq(t *testing.T, r model.Runner) model.Sequence {
	t.Helper()
	q, err := r.NewSequence(128)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func admit(t *testing.T, s *Scheduler, caller string) *Slot {
	t.Helper()
	sl, err := s.Admit(context.Background(), caller)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// greedyAlone decodes n tokens after prompt with plain Forward calls.
func greedyAlone(t *testing.T, r model.Runner, prompt []int32, n int) []int32 {
	t.Helper()
	q := newSeq(t, r)
	var out []int32
	for step := prompt; len(out) < n; step = out[len(out)-1:] {
		lg, err := q.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, argmax(lg))
	}
	return out
}

func promptOf(n, seed int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(1 + (seed*31+i*7)%250)
	}
	return p
}

// TestBatchedMatchesAlone runs requests of different prompt and answer lengths
// together in lockstep, with prompts longer than a chunk, and expects each
// one's greedy tokens to equal a run of its own; the steps show the batches.
func TestBatchedMatchesAlone(t *testing.T) {
	r := newRunner(t)
	s := newSched(t, r, Config{Slots: 4, Chunk: 8, Straggle: -1})
	lens := []struct{ prompt, n int }{{3, 12}, {21, 5}, {9, 9}, {30, 3}, {1, 7}, {15, 10}}
	want := make([][]int32, len(lens))
	for i, c := range lens {
		want[i] = greedyAlone(t, r, promptOf(c.prompt, i), c.n)
	}
	got := make([][]int32, len(lens))
	var wg sync.WaitGroup
	errs := make(chan error, len(lens))
	for i, c := range lens {
		wg.Go(func() {
			sl, err := s.Admit(context.Background(), "u")
			if err != nil {
				errs <- err
				return
			}
			defer sl.Release()
			q, err := r.NewSequence(128)
			if err != nil {
				errs <- err
				return
			}
			defer q.Close()
			for step := promptOf(c.prompt, i); len(got[i]) < c.n; step = got[i][len(got[i])-1:] {
				lg, err := sl.Forward(context.Background(), q, step)
				if err != nil {
					errs <- err
					return
				}
				got[i] = append(got[i], argmax(lg))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range lens {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("request %d: batched %v, alone %v", i, got[i], want[i])
		}
	}
	st := s.Stats()
	tokens := 0
	for _, c := range lens {
		tokens += c.prompt + c.n - 1
	}
	if st.Tokens != uint64(tokens) || st.Running != 0 || st.Admitted != uint64(len(lens)) || st.MaxBatch > 4 {
		t.Errorf("stats %+v, want %d tokens and at most 4 sequences a step", st, tokens)
	}
	t.Logf("%d steps, %d sequence-steps, largest batch %d", st.Steps, st.StepSeqs, st.MaxBatch)
}

// TestEveryWaySameTokens: a decode step run as one batch, as single
// forwards, or with one sequence alone and the rest batched (how a batch
// times a single forward) gives every request the tokens it gets alone, and
// the passes are counted as run.
func TestEveryWaySameTokens(t *testing.T) {
	r := newRunner(t)
	const n, answer = 4, 6
	want := make([][]int32, n)
	for i := range n {
		want[i] = greedyAlone(t, r, promptOf(5+i, i), answer)
	}
	for _, w := range []struct {
		name   string
		way    way
		passes int // a decode step's forward passes
	}{{"batch", wayBatch, 1}, {"singles", waySingles, n}, {"one alone", wayOneAlone, 2}} {
		t.Run(w.name, func(t *testing.T) {
			s := newSched(t, r, Config{Slots: n, Straggle: -1})
			decodes := 0
			s.plan = func(k int) plan {
				if k == n {
					decodes++
				}
				return plan{way: w.way}
			}
			got := make([][]int32, n)
			var wg sync.WaitGroup
			errs := make([]error, n)
			slots := make([]*Slot, n)
			for i := range slots {
				slots[i] = admit(t, s, "u") // all running before any call: lockstep from the prompts on
			}
			for i, sl := range slots {
				wg.Go(func() {
					defer sl.Release()
					q := newSeq(t, r)
					for step := promptOf(5+i, i); len(got[i]) < answer; step = got[i][len(got[i])-1:] {
						lg, err := sl.Forward(context.Background(), q, step)
						if err != nil {
							errs[i] = err
							return
						}
						got[i] = append(got[i], argmax(lg))
					}
				})
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("request %d: %v, alone %v", i, got[i], want[i])
				}
			}
			// In lockstep: one step of the four prompts, then answer-1 decode
			// steps of four.
			st := s.Stats()
			if decodes != answer-1 || st.StepSeqs != uint64(n*answer) || st.Steps != uint64(1+decodes*w.passes) {
				t.Errorf("%d decode steps of %d, stats %+v; want %d, each %d passes", decodes, n, st, answer-1, w.passes)
			}
		})
	}
}

// TestRoundRobinAdmission: with one slot busy, caller a queues three requests
// and caller b one; freed slots go a, b, a, a, not first come first served.
func TestRoundRobinAdmission(t *testing.T) {
	s := newSched(t, newRunner(t), Config{Slots: 1})
	waiting := make(chan struct{})
	s.onWait = func() { waiting <- struct{}{} }
	holder := admit(t, s, "a")
	got := make(chan string, 4)
	var wg sync.WaitGroup
	for _, name := range []string{"a1", "a2", "a3", "b1"} {
		wg.Go(func() {
			sl, err := s.Admit(context.Background(), name[:1])
			if err != nil {
				t.Error(err)
				return
			}
			got <- name
			sl.Release()
		})
		<-waiting // queued in this order
	}
	if st := s.Stats(); st.Waiting != 4 || st.Running != 1 {
		t.Fatalf("stats %+v", st)
	}
	holder.Release()
	wg.Wait()
	close(got)
	var order []string
	for n := range got {
		order = append(order, n)
	}
	if want := []string{"a1", "b1", "a2", "a3"}; !slices.Equal(order, want) {
		t.Fatalf("admitted %v, want %v", order, want)
	}
}

// TestCancelledCallLeaves: a call whose request ends leaves at once, even
// while the step waits (lockstep) for another slot that has no call yet; the
// slot then serves a new call, and a freed slot admits the next request.
func TestCancelledCallLeaves(t *testing.T) {
	r := newRunner(t)
	s := newSched(t, r, Config{Slots: 2, Straggle: -1})
	idle, busy := admit(t, s, "a"), admit(t, s, "b")
	q := newSeq(t, r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := busy.Forward(ctx, q, []int32{1, 2, 3})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	idle.Release() // lockstep now has only busy to wait for
	if _, err := busy.Forward(context.Background(), newSeq(t, r), []int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	busy.Release()
	next := admit(t, s, "c")
	if _, err := next.Forward(context.Background(), newSeq(t, r), []int32{4}); err != nil {
		t.Fatal(err)
	}
	next.Release()
	if st := s.Stats(); st.Running != 0 || st.Admitted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestWaiterLeavesAndClose: a waiting request whose context ends leaves the
// queue; Close fails the ones still waiting and later calls.
func TestWaiterLeavesAndClose(t *testing.T) {
	r := newRunner(t)
	s := New(r, Config{Slots: 1})
	waiting := make(chan struct{})
	s.onWait = func() { waiting <- struct{}{} }
	holder := admit(t, s, "a")
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() { _, err := s.Admit(ctx, "b"); left <- err }()
	<-waiting
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	if st := s.Stats(); st.Waiting != 0 {
		t.Fatalf("a cancelled waiter still counted: %+v", st)
	}
	go func() { _, err := s.Admit(context.Background(), "c"); left <- err }()
	<-waiting
	holder.Release()
	if err := <-left; err != nil {
		t.Fatal(err)
	}
	go func() { _, err := s.Admit(context.Background(), "d"); left <- err }()
	<-waiting
	s.Close()
	if err := <-left; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiter at close: %v", err)
	}
	if _, err := s.Admit(context.Background(), "e"); !errors.Is(err, ErrClosed) {
		t.Fatalf("admit after close: %v", err)
	}
}
