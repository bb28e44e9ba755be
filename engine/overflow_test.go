package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestContextOverflowPolicies runs a chat longer than the tiny model's
// 256-token window under each policy and checks what was kept by running the
// expected trimmed chat under "stop": same prompt, token for token.
func TestContextOverflowPolicies(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModel(t)
	ctx := context.Background()
	filler := func(who string, i int) string {
		return fmt.Sprintf("%s %d: %s", who, i, strings.Repeat("hello world ", 6))
	}
	sys := Message{Role: "system", Content: "You are terse."}
	var turns []Message
	for i := range 6 {
		turns = append(turns, Message{Role: "user", Content: filler("question", i)}, Message{Role: "assistant", Content: filler("answer", i)})
	}
	last := Message{Role: "user", Content: "and now?"}
	chatMsgs := append(append([]Message{sys}, turns...), last)
	opts := GenOptions{MaxTokens: 4}
	run := func(policy string, msgs []Message) (*Result, error) {
		return e.Chat(ctx, ChatRequest{Model: dir, Messages: msgs, Options: opts, ContextOverflow: policy}, nil)
	}

	_, err := run(OverflowStop, chatMsgs)
	var cl *ContextLengthError
	if !errors.As(err, &cl) {
		t.Fatalf("stop: err = %v, want a context length error (the chat must outgrow the window)", err)
	}
	full := cl.PromptTokens
	if _, err := run("", chatMsgs); !errors.As(err, &cl) {
		t.Fatalf("no policy: err = %v, want a context length error as before", err)
	}

	for _, tc := range []struct {
		policy string
		keep   func(k int) []Message // the chat with k messages dropped
	}{
		{OverflowRollingWindow, func(k int) []Message { return append(append([]Message{sys}, turns[k:]...), last) }},
		{OverflowTruncateMiddle, func(k int) []Message {
			return append(append([]Message{sys, turns[0]}, turns[1+k:]...), last)
		}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			res, err := run(tc.policy, chatMsgs)
			if err != nil {
				t.Fatal(err)
			}
			o := res.Overflow
			if o == nil || o.Policy != tc.policy || o.DroppedMessages == 0 || o.DroppedMessages%2 != 0 {
				t.Fatalf("overflow %+v: want whole turns dropped", o)
			}
			if got := res.Usage.PromptTokens; got+opts.MaxTokens > 256 || got+o.DroppedTokens != full {
				t.Fatalf("prompt %d + dropped %d, want %d in all and room for %d tokens in 256", got, o.DroppedTokens, full, opts.MaxTokens)
			}
			want, err := run(OverflowStop, tc.keep(o.DroppedMessages))
			if err != nil {
				t.Fatalf("the expected trimmed chat: %v", err)
			}
			if want.Usage.PromptTokens != res.Usage.PromptTokens {
				t.Fatalf("prompt %d tokens, the expected trimmed chat has %d", res.Usage.PromptTokens, want.Usage.PromptTokens)
			}
			// Dropping one turn fewer would not have fitted: the fewest were dropped.
			if _, err := run(OverflowStop, tc.keep(o.DroppedMessages-2)); !errors.As(err, &cl) {
				t.Fatalf("dropping %d messages would have fitted too: %v", o.DroppedMessages-2, err)
			}
		})
	}

	t.Run("truncate_middle drops the first message last", func(t *testing.T) {
		long := Message{Role: "user", Content: strings.Repeat("hello world ", 20)}
		res, err := run(OverflowTruncateMiddle, []Message{sys, long, {Role: "assistant", Content: "ok"}, long})
		if err != nil {
			t.Fatal(err)
		}
		if o := res.Overflow; o == nil || o.DroppedMessages != 2 {
			t.Fatalf("overflow %+v, want the first question and its answer dropped", o)
		}
	})
	t.Run("a chat that fits is untouched", func(t *testing.T) {
		res, err := run(OverflowRollingWindow, []Message{sys, last})
		if err != nil || res.Overflow != nil {
			t.Fatalf("overflow %+v, err %v", res.Overflow, err)
		}
	})
	t.Run("last message alone too long", func(t *testing.T) {
		_, err := run(OverflowRollingWindow, []Message{sys, {Role: "user", Content: strings.Repeat("hello world ", 200)}})
		if !errors.As(err, &cl) {
			t.Fatalf("err = %v, want a context length error", err)
		}
	})
	t.Run("unknown policy", func(t *testing.T) {
		var inv *InvalidError
		if _, err := run("drop_everything", chatMsgs); !errors.As(err, &inv) || inv.Param != "context_overflow" {
			t.Fatalf("err = %v", err)
		}
	})
}
