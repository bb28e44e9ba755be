package enginetest

import (
	"context"
	"errors"
	"fmt"
)

func checkErrors(ctx context.Context, e *env) error {
	p, err := e.pair(16)
	if err != nil {
		return err
	}
	defer p.close()
	vocab := int32(e.m.Config.VocabSize)
	prompt := e.prompt(10, 13)
	bad := []struct {
		what   string
		tokens []int32
	}{
		{"no tokens", nil},
		{"token -1", []int32{5, -1}},
		{"token = vocab size", []int32{vocab}},
	}
	for _, b := range bad {
		if err := mustFail(ctx, p, b.what, b.tokens, 0); err != nil {
			return err
		}
	}
	if _, _, err := p.forward(ctx, "10 tokens after rejected input", prompt, e.tol); err != nil {
		return err
	}
	if err := mustFail(ctx, p, "7 tokens past maxLen 16", e.prompt(7, 14), 10); err != nil {
		return err
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.got.Forward(canceled, e.prompt(2, 15)); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("Forward with a canceled context: error %v, want context.Canceled", err)
	}
	if n := p.got.Len(); n != 10 {
		return fmt.Errorf("Len() = %d after a canceled Forward, want 10", n)
	}
	for _, n := range []int{11, -1} {
		if err := p.got.Truncate(n); err == nil {
			return fmt.Errorf("Truncate(%d) of 10 tokens succeeded", n)
		}
	}
	_, _, err = p.forward(ctx, "6 tokens up to maxLen after the errors", e.prompt(6, 16), e.tol)
	return err
}

// mustFail expects Forward and Hidden of tokens to fail and leave Len at n.
func mustFail(ctx context.Context, p *pair, what string, tokens []int32, n int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: panic: %v", what, r)
		}
	}()
	if _, err := p.got.Forward(ctx, tokens); err == nil {
		return fmt.Errorf("Forward of %s succeeded", what)
	}
	if _, err := p.got.Hidden(ctx, tokens); err == nil {
		return fmt.Errorf("Hidden of %s succeeded", what)
	}
	if got := p.got.Len(); got != n {
		return fmt.Errorf("Len() = %d after rejected %s, want %d", got, what, n)
	}
	return nil
}
