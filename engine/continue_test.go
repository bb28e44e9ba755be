package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestContinueFinal: the prompt of a prefilled answer is the conversation's
// generation prompt followed by the assistant's text, kept as plain text.
func TestContinueFinal(t *testing.T) {
	e := newTestEngine(t)
	l, err := openLoaded(context.Background(), "tiny", tinyModel(t), e.newRunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	msgs := []Message{{Role: "user", Content: "Name a colour."}, {Role: "assistant", Content: "The colour is <|im_end|>"}}
	j, err := l.chatPrompt(&ChatRequest{Messages: msgs, ContinueFinal: true})
	if err != nil {
		t.Fatal(err)
	}
	text := l.tok.Decode(j.prompt, false)
	if !strings.HasSuffix(text, "<|im_start|>assistant\nThe colour is <|im_end|>") || strings.Count(text, "<|im_start|>assistant") != 1 {
		t.Fatalf("prompt %q", text)
	}
	plain, err := l.chatPrompt(&ChatRequest{Messages: msgs})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.tok.Decode(plain.prompt, false); !strings.HasSuffix(got, "<|im_end|>\n<|im_start|>assistant\n") {
		t.Fatalf("without ContinueFinal the answer is a new turn: %q", got)
	}
	var inv *InvalidError
	if _, err := l.chatPrompt(&ChatRequest{Messages: msgs[:1], ContinueFinal: true}); !errors.As(err, &inv) {
		t.Fatalf("continuing a user message: %v", err)
	}
}
