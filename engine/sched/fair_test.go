package sched

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestShare: which admitted requests a step runs, given their callers in
// admission order.
func TestShare(t *testing.T) {
	for _, tc := range []struct {
		name    string
		callers string // one letter per admitted request, oldest first
		slots   int
		want    string // r: runs, s: suspended
	}{
		{"fewer than slots", "aab", 4, "rrr"},
		{"exactly the slots", "aaaa", 4, "rrrr"},
		{"newcomer takes the newest of the largest", "aaaab", 4, "rrrsr"},
		{"two newcomers take two", "aaaabc", 4, "rrssrr"},
		{"a second request of a newcomer", "aaaabb", 4, "rrssrr"},
		{"the largest share gives first", "aaabbc", 4, "rrsrsr"},
		{"more callers than slots: the oldest callers", "abcde", 4, "rrrrs"},
		{"one slot: the oldest caller", "ab", 1, "rs"},
		{"interleaved admissions", "ababa", 2, "rrsss"},
		{"shares of three over five slots", "aaaaabbbcc", 5, "rrsssrrsrs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := share(strings.Split(tc.callers, ""), tc.slots)
			var b strings.Builder
			for _, run := range got {
				b.WriteByte("sr"[btoi(run)])
			}
			if b.String() != tc.want {
				t.Errorf("share(%s, %d) = %s, want %s", tc.callers, tc.slots, b.String(), tc.want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noWait fails the test if a request has to wait for a slot.
func noWait(t *testing.T, s *Scheduler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onWait = func() { t.Error("a request waited for a slot") }
}

func callerStats(t *testing.T, s *Scheduler, want map[string]CallerStats) {
	t.Helper()
	if got := s.Stats().Callers; !maps.Equal(got, want) {
		t.Fatalf("callers %+v, want %+v", got, want)
	}
}

// TestNewcomerRunsAtOnce: with caller a holding both slots, caller b's
// request is admitted without waiting, a's newest request is suspended (its
// pending call is left out of the steps while b's run) and resumes when b
// releases its slot.
func TestNewcomerRunsAtOnce(t *testing.T) {
	r := newRunner(t)
	s := newSched(t, r, Config{Slots: 2, Straggle: -1})
	a1, a2 := admit(t, s, "a"), admit(t, s, "a")
	q1, q2, qb := newSeq(t, r), newSeq(t, r), newSeq(t, r)
	a2done := make(chan error, 1)
	go func() {
		_, err := a2.Forward(context.Background(), q2, []int32{5, 6, 7})
		a2done <- err
	}() // lockstep: it waits for a1's call, which comes later

	noWait(t, s)
	b := admit(t, s, "b")
	callerStats(t, s, map[string]CallerStats{"a": {Running: 1, Suspended: 1}, "b": {Running: 1}})
	bdone := make(chan error, 1)
	go func() {
		_, err := b.Forward(context.Background(), qb, []int32{1, 2, 3, 4})
		bdone <- err
	}()
	if _, err := a1.Forward(context.Background(), q1, []int32{9, 8}); err != nil {
		t.Fatal(err)
	}
	if err := <-bdone; err != nil {
		t.Fatal(err)
	}
	// Both steps so far ran every call of a running slot: a2's was waiting
	// before b was admitted, so it would have run had a2 not been suspended.
	select {
	case err := <-a2done:
		t.Fatalf("the suspended request was stepped (err %v)", err)
	default:
	}
	if q2.Len() != 0 {
		t.Fatalf("the suspended sequence holds %d tokens", q2.Len())
	}

	b.Release()
	callerStats(t, s, map[string]CallerStats{"a": {Running: 2}})
	if _, err := a1.Forward(context.Background(), q1, []int32{3}); err != nil { // lockstep: a2 runs with it
		t.Fatal(err)
	}
	if err := <-a2done; err != nil {
		t.Fatal(err)
	}
	a1.Release()
	a2.Release()
	if st := s.Stats(); st.Suspensions != 1 || st.Running != 0 || st.Suspended != 0 || st.Admitted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestNoShareToTake: a newcomer waits when no caller holds more than one slot,
// and when its caller already has its share; round-robin admission goes on.
func TestNoShareToTake(t *testing.T) {
	s := newSched(t, newRunner(t), Config{Slots: 2})
	waiting := make(chan struct{})
	s.onWait = func() { waiting <- struct{}{} }
	a, b := admit(t, s, "a"), admit(t, s, "b")
	admitted := make(chan *Slot)
	for _, caller := range []string{"c", "b"} {
		go func() {
			sl, err := s.Admit(context.Background(), caller)
			if err != nil {
				t.Error(err)
			}
			admitted <- sl
		}()
		<-waiting
	}
	callerStats(t, s, map[string]CallerStats{"a": {Running: 1}, "b": {Running: 1, Waiting: 1}, "c": {Waiting: 1}})
	a.Release()
	c := <-admitted
	if c == nil || c.caller != "c" {
		t.Fatalf("first admitted %+v, want c's (b already runs one)", c)
	}
	callerStats(t, s, map[string]CallerStats{"b": {Running: 1, Waiting: 1}, "c": {Running: 1}})
	c.Release()
	b2 := <-admitted
	callerStats(t, s, map[string]CallerStats{"b": {Running: 2}})
	b.Release()
	b2.Release()
	if st := s.Stats(); st.Suspensions != 0 {
		t.Fatalf("stats %+v: nobody had a share to give", st)
	}
}

// TestSuspendedCallCancels: a suspended request whose client goes away leaves
// at once, and releasing it gives nothing back to run that was not running.
func TestSuspendedCallCancels(t *testing.T) {
	r := newRunner(t)
	s := newSched(t, r, Config{Slots: 2, Straggle: -1})
	a1, a2 := admit(t, s, "a"), admit(t, s, "a")
	b := admit(t, s, "b")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a2.Forward(ctx, newSeq(t, r), []int32{1, 2})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled suspended call: %v", err)
	}
	a2.Release()
	callerStats(t, s, map[string]CallerStats{"a": {Running: 1}, "b": {Running: 1}})
	a1.Release()
	b.Release()
}

// TestShrinkingSuspends: fewer slots suspend the newest requests, with their
// calls; more resume them.
func TestShrinkingSuspends(t *testing.T) {
	r := newRunner(t)
	s := newSched(t, r, Config{Slots: 3, Straggle: -1})
	a, b, c := admit(t, s, "a"), admit(t, s, "b"), admit(t, s, "c")
	s.SetConfig(Config{Slots: 1, Straggle: -1})
	callerStats(t, s, map[string]CallerStats{"a": {Running: 1}, "b": {Suspended: 1}, "c": {Suspended: 1}})
	done := make(chan error, 1)
	go func() {
		_, err := c.Forward(context.Background(), newSeq(t, r), []int32{1, 2})
		done <- err
	}()
	if _, err := a.Forward(context.Background(), newSeq(t, r), []int32{4}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("a suspended call ran (err %v)", err)
	default:
	}
	s.SetConfig(Config{Slots: 3, Straggle: -1})
	callerStats(t, s, map[string]CallerStats{"a": {Running: 1}, "b": {Running: 1}, "c": {Running: 1}})
	a.Release() // lockstep: c's call runs once no other running slot is due one
	b.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Release()
}

// oneAtATime hides a runner's ForwardBatch: the scheduler then runs one slot
// a step, as with the graph executor.
type oneAtATime struct{ model.Runner }

// TestSuspendedMatchesAlone: caller b's requests arrive while caller a's hold
// every slot, so some of a's are suspended part way (in the prompt or in the
// answer) and resumed later; every request's greedy tokens still equal a run
// of its own, with batched steps and with one slot a step.
func TestSuspendedMatchesAlone(t *testing.T) {
	r := newRunner(t)
	t.Run("batched", func(t *testing.T) { suspendedMatchesAlone(t, r, r) })
	t.Run("one-at-a-time", func(t *testing.T) { suspendedMatchesAlone(t, r, oneAtATime{r}) })
}

func suspendedMatchesAlone(t *testing.T, r, stepper model.Runner) {
	s := newSched(t, stepper, Config{Slots: 3, Chunk: 4, Straggle: -1})
	type req struct {
		caller      string
		prompt, out int
	}
	reqs := []req{{"a", 9, 14}, {"a", 3, 12}, {"a", 13, 10}, {"b", 6, 5}, {"a", 2, 6}, {"b", 11, 4}, {"c", 5, 3}}
	want := make([][]int32, len(reqs))
	for i, c := range reqs {
		want[i] = greedyAlone(t, r, promptOf(c.prompt, i), c.out)
	}
	got := make([][]int32, len(reqs))
	errs := make(chan error, len(reqs))
	var wg sync.WaitGroup
	run := func(i int, sl *Slot) {
		defer sl.Release()
		q, err := r.NewSequence(128)
		if err != nil {
			errs <- err
			return
		}
		defer q.Close()
		for step := promptOf(reqs[i].prompt, i); len(got[i]) < reqs[i].out; step = got[i][len(got[i])-1:] {
			lg, err := sl.Forward(context.Background(), q, step)
			if err != nil {
				errs <- err
				return
			}
			got[i] = append(got[i], argmax(lg))
		}
	}
	// a's first three hold the slots before b's first arrives, which then
	// suspends one at once; the rest admit themselves. All four are
	// admitted before any runs: a request started earlier could finish
	// (and free its slot) before b's arrived, on a loaded machine, and
	// then nothing was suspended (make test failed so, once).
	first := make([]*Slot, 4)
	for i := range first {
		first[i] = admit(t, s, reqs[i].caller)
	}
	for i, sl := range first {
		wg.Go(func() { run(i, sl) })
	}
	for i := 4; i < len(reqs); i++ {
		wg.Go(func() {
			sl, err := s.Admit(context.Background(), reqs[i].caller)
			if err != nil {
				errs <- err
				return
			}
			run(i, sl)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range reqs {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("request %d (%s): with suspensions %v, alone %v", i, reqs[i].caller, got[i], want[i])
		}
	}
	st := s.Stats()
	maxBatch := 3
	if _, ok := stepper.(model.Batcher); !ok {
		maxBatch = 1
	}
	if st.Suspensions == 0 || st.Running+st.Suspended+st.Waiting != 0 || st.MaxBatch > maxBatch {
		t.Errorf("stats %+v, want suspensions and at most %d sequences a step", st, maxBatch)
	}
	t.Logf("%d steps, %d suspensions, largest batch %d", st.Steps, st.Suspensions, st.MaxBatch)
}

// TestPromptChunksByCaller: a step's prompt budget goes to the callers
// running the fewest requests, then in arrival order.
func TestPromptChunksByCaller(t *testing.T) {
	bt, ok := newRunner(t).(model.Batcher)
	if !ok {
		t.Fatal("the cpu runner batches")
	}
	s := &Scheduler{cfg: Config{Slots: 4, Chunk: 6}, batcher: bt}
	slot := func(caller string, order uint64, tokens int) *Slot {
		sl := &Slot{s: s, caller: caller}
		if tokens > 0 {
			sl.call = &call{tokens: make([]int32, tokens), order: order}
		}
		s.running = append(s.running, sl)
		return sl
	}
	a1, a2, a3 := slot("a", 1, 1), slot("a", 2, 5), slot("a", 3, 9)
	b := slot("b", 4, 4)
	s.mu.Lock()
	parts := s.pickLocked()
	s.mu.Unlock()
	type want struct {
		sl *Slot
		n  int
	}
	var got []want
	for _, p := range parts {
		got = append(got, want{p.sl, p.n})
	}
	// a1's decode token and b's whole prompt (b runs one request, a three);
	// a's prompts wait for the next step rather than lengthen b's.
	if exp := []want{{a1, 1}, {b, 4}}; !slices.Equal(got, exp) {
		t.Fatalf("step %+v, want %+v", got, exp)
	}
	// Then a's, oldest first, up to the chunk size.
	b.call = nil
	s.mu.Lock()
	parts = s.pickLocked()
	s.mu.Unlock()
	got = got[:0]
	for _, p := range parts {
		got = append(got, want{p.sl, p.n})
	}
	if exp := []want{{a1, 1}, {a2, 5}, {a3, 1}}; !slices.Equal(got, exp) {
		t.Fatalf("next step %+v, want %+v", got, exp)
	}
}
