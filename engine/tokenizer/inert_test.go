package tokenizer

import (
	"slices"
	"sync"
	"testing"
)

// TestInertEncodesTheSame checks Inert's promise on the encoder itself: an
// inert text between any two pieces of template text encodes the same as
// content (no added tokens matched in it) and as template text. The pieces
// are token fragments, lstrip/rstrip tokens and Unicode spaces: the places
// where a text could join an added token.
func TestInertEncodesTheSame(t *testing.T) {
	tok := variant(t, "tiny-bytelevel.json", func(doc map[string]any) {
		for _, a := range doc["added_tokens"].([]any) {
			a.(map[string]any)["single_word"] = false
		}
	})
	around := []string{"", "<|im_start|>", "user\n", "<|im_end|>\n", "<|im_", "<|", "start|>", "|>", "<", ">", "|",
		"<L>", "<R>", " <L>", "<R> ", " ", "\u00a0", "\u3000<L>", "<think>", "ab"}
	texts := []string{"hello", "a b", "é", "im_start", "im_", "start", "|>", "<|", "<|im_end|>", "L", "R", "think", "x<y",
		"\u00a0x\u00a0", "x\u00a0", "\u3000x", "im_end|", "\xff", "<L>", "x>", "<x"}
	checked, differ := 0, 0
	for _, text := range texts {
		inert := tok.Inert(text)
		for _, pre := range around {
			for _, post := range around {
				marked := tok.EncodeSegments([]Segment{{Text: pre, ParseSpecial: true}, {Text: text}, {Text: post, ParseSpecial: true}}, false)
				plain := tok.EncodeSegments([]Segment{{Text: pre + text + post, ParseSpecial: true}}, false)
				if slices.Equal(marked, plain) {
					continue
				}
				if inert {
					t.Errorf("Inert(%q), but %q+%q+%q encodes as %v marked and %v plain", text, pre, text, post, marked, plain)
				}
				differ++
			}
		}
		if inert {
			checked++
		}
	}
	// Both kinds must occur, or the test proves nothing.
	if checked < 6 || differ == 0 {
		t.Errorf("%d inert texts, %d differing encodings: the corpus misses a case", checked, differ)
	}
	for _, s := range []string{"hello", "a b", "é", "x\u00a0"} {
		if !tok.Inert(s) {
			t.Errorf("Inert(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"im_start", "<|im_end|>", "|>", "<|", "x>", "\xff"} {
		if tok.Inert(s) {
			t.Errorf("Inert(%q) = true, want false", s)
		}
	}
}

// TestInertNever: with single_word or normalized added tokens the text
// around a token decides the match, so nothing is inert.
func TestInertNever(t *testing.T) {
	single := loadFixture(t, "tiny-bytelevel.json") // <W> is single_word
	normalized := variant(t, "tiny-bytelevel.json", func(doc map[string]any) {
		doc["normalizer"] = map[string]any{"type": "Lowercase"}
		doc["added_tokens"] = []any{map[string]any{"id": 277, "content": "<N>", "normalized": true, "special": false}}
	})
	for _, tok := range []*Tokenizer{single, normalized} {
		if tok.Inert("hello") {
			t.Error("Inert(hello) = true with a single_word or normalized added token")
		}
	}
	none := variant(t, "tiny-bytelevel.json", func(doc map[string]any) { doc["added_tokens"], doc["post_processor"] = []any{}, nil })
	if !none.Inert("<|im_start|>") || none.Inert("\xff") {
		t.Error("without added tokens every valid UTF-8 text is inert")
	}
}

// TestInertConcurrentFirstUse: the index Inert builds on first use is shared
// by a model's concurrent requests.
func TestInertConcurrentFirstUse(t *testing.T) {
	tok := variant(t, "tiny-bytelevel.json", func(doc map[string]any) {
		for _, a := range doc["added_tokens"].([]any) {
			a.(map[string]any)["single_word"] = false
		}
	})
	var wg sync.WaitGroup
	got := make([]bool, 8)
	for i := range got {
		wg.Go(func() { got[i] = tok.Inert("hello") && !tok.Inert("im_start") })
	}
	wg.Wait()
	for i, ok := range got {
		if !ok {
			t.Errorf("goroutine %d: wrong answer", i)
		}
	}
}
