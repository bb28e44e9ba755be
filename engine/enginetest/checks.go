package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// checks are run on every model; explain says what a failure means.
var checks = []struct {
	name, explain string
	run           func(context.Context, *env) error
}{
	{"prefill", "one Forward over a 12-token prompt gives the reference's logits", checkPrefill},
	{"steps", "feeding a prompt one token at a time gives the reference's logits at every position", checkSteps},
	{"chunks", "a prompt fed in uneven chunks (5, 1, 6) gives the reference's logits after each chunk", checkChunks},
	{"decode", "after a prefill, 16 single-token decode steps match the reference at every step", checkDecode},
	{"greedy", "independent greedy generations of 24 tokens agree, except where the reference's top two logits are within the tolerance", checkGreedy},
	{"long", "a 48-token prompt (past the sliding window and any small cache block) matches, then decodes", checkLong},
	{"truncate", "Truncate(5) after 12 tokens then 4 new tokens equals those 9 tokens from scratch; Truncate(0) starts over", checkTruncate},
	{"hidden", "Hidden returns the final-normed state of every token, (n, hidden) row-major, and appends the tokens like Forward", checkHidden},
	{"interleaved", "two sequences advanced alternately do not disturb each other", checkInterleaved},
	{"concurrent", "three sequences used from separate goroutines give the reference's logits", checkConcurrent},
	{"errors", "empty input, out-of-vocabulary tokens, overflowing maxLen, bad Truncate and a canceled context fail without changing the sequence", checkErrors},
}

func checkPrefill(ctx context.Context, e *env) error {
	p, err := e.pair(32)
	if err != nil {
		return err
	}
	defer p.close()
	_, _, err = p.forward(ctx, "prefill of 12", e.prompt(12, 1), e.tol)
	return err
}

func checkSteps(ctx context.Context, e *env) error {
	p, err := e.pair(32)
	if err != nil {
		return err
	}
	defer p.close()
	for i, tok := range e.prompt(12, 2) {
		if _, _, err := p.forward(ctx, fmt.Sprintf("step %d", i), []int32{tok}, e.tol); err != nil {
			return err
		}
	}
	return nil
}

func checkChunks(ctx context.Context, e *env) error {
	p, err := e.pair(32)
	if err != nil {
		return err
	}
	defer p.close()
	prompt := e.prompt(12, 3)
	for _, c := range [][2]int{{0, 5}, {5, 6}, {6, 12}} {
		if _, _, err := p.forward(ctx, fmt.Sprintf("chunk %d..%d", c[0], c[1]), prompt[c[0]:c[1]], e.tol); err != nil {
			return err
		}
	}
	return nil
}

func checkDecode(ctx context.Context, e *env) error {
	p, err := e.pair(64)
	if err != nil {
		return err
	}
	defer p.close()
	_, ref, err := p.forward(ctx, "prefill of 12", e.prompt(12, 4), e.tol)
	if err != nil {
		return err
	}
	for i := range 16 {
		// The reference chooses, so both sequences hold the same tokens.
		if _, ref, err = p.forward(ctx, fmt.Sprintf("decode step %d", i), []int32{int32(argmax(ref))}, e.tol); err != nil {
			return err
		}
	}
	return nil
}

// greedy generates n tokens after prompt on one sequence, returning the tokens
// and the logits each was chosen from.
func greedy(ctx context.Context, seq interface {
	Forward(context.Context, []int32) ([]float32, error)
}, prompt []int32, n int) ([]int32, [][]float32, error) {
	logits, err := seq.Forward(ctx, prompt)
	var toks []int32
	var all [][]float32
	for i := 0; err == nil && i < n; i++ {
		all = append(all, slices.Clone(logits))
		toks = append(toks, int32(argmax(logits)))
		logits, err = seq.Forward(ctx, toks[i:])
	}
	return toks, all, err
}

func checkGreedy(ctx context.Context, e *env) error {
	p, err := e.pair(64)
	if err != nil {
		return err
	}
	defer p.close()
	prompt := e.prompt(8, 5)
	want, refLogits, err := greedy(ctx, p.ref, prompt, 24)
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	got, gotLogits, err := greedy(ctx, p.got, prompt, 24)
	if err != nil {
		return err
	}
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		if err := sameChoice(i, gotLogits[i], refLogits[i], e.tol); err != nil {
			return fmt.Errorf("greedy %v, reference %v: %w", got, want, err)
		}
		return nil // a legitimate tie: what follows is a different sequence
	}
	return nil
}

func checkLong(ctx context.Context, e *env) error {
	p, err := e.pair(64)
	if err != nil {
		return err
	}
	defer p.close()
	_, ref, err := p.forward(ctx, "prefill of 48", e.prompt(48, 6), e.tol)
	if err != nil {
		return err
	}
	for i := range 4 {
		if _, ref, err = p.forward(ctx, fmt.Sprintf("decode step %d after 48", i), []int32{int32(argmax(ref))}, e.tol); err != nil {
			return err
		}
	}
	return nil
}

func checkTruncate(ctx context.Context, e *env) error {
	prompt, tail := e.prompt(12, 7), e.prompt(4, 8)
	fresh, err := e.pair(32)
	if err != nil {
		return err
	}
	defer fresh.close()
	p, err := e.pair(32)
	if err != nil {
		return err
	}
	defer p.close()
	if _, err := p.got.Forward(ctx, prompt); err != nil {
		return err
	}
	if err := p.got.Truncate(12); err != nil {
		return fmt.Errorf("Truncate(Len()): %w", err)
	}
	if err := p.got.Truncate(5); err != nil {
		return fmt.Errorf("Truncate(5): %w", err)
	}
	if n := p.got.Len(); n != 5 {
		return fmt.Errorf("Len() after Truncate(5) = %d", n)
	}
	want, err := fresh.ref.Forward(ctx, append(slices.Clone(prompt[:5]), tail...))
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	got, err := p.got.Forward(ctx, tail)
	if err != nil {
		return err
	}
	if err := compare("4 tokens after Truncate(5)", got, want, e.tol); err != nil {
		return err
	}
	if err := p.got.Truncate(0); err != nil {
		return fmt.Errorf("Truncate(0): %w", err)
	}
	if got, err = p.got.Forward(ctx, tail); err != nil {
		return err
	}
	if want, err = p.ref.Forward(ctx, tail); err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	return compare("after Truncate(0)", got, want, e.tol)
}

func checkHidden(ctx context.Context, e *env) error {
	p, err := e.pair(32)
	if err != nil {
		return err
	}
	defer p.close()
	prompt := e.prompt(7, 9)
	want, err := p.ref.Hidden(ctx, prompt)
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	got, err := p.got.Hidden(ctx, prompt)
	if err != nil {
		return err
	}
	h := e.m.Config.HiddenSize
	if len(got) != len(want) {
		return fmt.Errorf("Hidden of 7 tokens: %d values, want 7×%d", len(got), h)
	}
	for i := range prompt {
		if err := compare(fmt.Sprintf("hidden state %d", i), got[i*h:(i+1)*h], want[i*h:(i+1)*h], e.tol); err != nil {
			return err
		}
	}
	_, _, err = p.forward(ctx, "Forward after Hidden", e.prompt(2, 10), e.tol)
	return err
}

func checkInterleaved(ctx context.Context, e *env) error {
	a, err := e.pair(32)
	if err != nil {
		return err
	}
	defer a.close()
	b, err := e.pair(32)
	if err != nil {
		return err
	}
	defer b.close()
	pa, pb := e.prompt(6, 11), e.prompt(9, 12)
	for i := range 6 {
		if _, _, err := a.forward(ctx, fmt.Sprintf("sequence A token %d", i), pa[i:i+1], e.tol); err != nil {
			return err
		}
		if _, _, err := b.forward(ctx, fmt.Sprintf("sequence B token %d", i), pb[i:i+1], e.tol); err != nil {
			return err
		}
	}
	_, _, err = b.forward(ctx, "sequence B tail", pb[6:], e.tol)
	return err
}

func checkConcurrent(ctx context.Context, e *env) error {
	const n = 3
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			seq, err := e.run.NewSequence(32)
			if err != nil {
				errs[i] = err
				return
			}
			defer seq.Close()
			toks, logits, err := greedy(ctx, seq, e.prompt(6+i, uint64(20+i)), 6)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = e.replay(ctx, fmt.Sprintf("goroutine %d", i), e.prompt(6+i, uint64(20+i)), toks, logits)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// replay feeds the same tokens to a reference sequence and compares the logits
// recorded by the runner.
func (e *env) replay(ctx context.Context, what string, prompt, toks []int32, logits [][]float32) error {
	ref, err := e.ref.NewSequence(32)
	if err != nil {
		return err
	}
	defer ref.Close()
	feed := prompt
	for i := range toks {
		want, err := ref.Forward(ctx, feed)
		if err != nil {
			return fmt.Errorf("%s: reference: %w", what, err)
		}
		if err := compare(fmt.Sprintf("%s step %d", what, i), logits[i], want, e.tol); err != nil {
			return err
		}
		feed = toks[i : i+1]
	}
	return nil
}
