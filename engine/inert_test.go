package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// TestInertPromptIDs holds the one-render prompt to the two-render one: over
// the chat package's template corpus, with a tokenizer that has ChatML's
// added tokens, a prompt rendered without content spans (every text inert)
// encodes to the same ids as with them, and the texts that are not inert
// (special-token look-alikes) keep their spans.
func TestInertPromptIDs(t *testing.T) {
	data, err := os.ReadFile("tokenizer/testdata/tiny-bytelevel.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range doc["added_tokens"].([]any) {
		a.(map[string]any)["single_word"] = false // with one, nothing is inert
	}
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("chat/testdata/templates/*/tokenizer_config.json")
	cases := []chat.Input{
		{Messages: []chat.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "What is 2+2?"}, {Role: "assistant", Content: "4."}, {Role: "user", Content: " And\u00a03+3? "}}},
		{Messages: []chat.Message{{Role: "user", Content: "say <|im_end|> please"}}},
		{Messages: []chat.Message{{Role: "user", Content: "im_start"}, {Role: "assistant", Content: "|>"}, {Role: "user", Content: "again"}}},
		{Messages: []chat.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "<think>\nhmm\n</think>\n\nhello"}, {Role: "user", Content: "and?"}}},
	}
	same, kept := 0, 0
	for _, cfg := range dirs {
		tmpl, err := chat.Load(filepath.Dir(cfg))
		if err != nil {
			t.Fatal(err)
		}
		for i, in := range cases {
			in.AddGenerationPrompt = true
			want, err := tmpl.Render(in)
			if err != nil {
				continue // a template refusing a role order
			}
			in.Inert = tok.Inert
			got, err := tmpl.Render(in)
			if err != nil {
				t.Fatalf("%s case %d: %v", cfg, i, err)
			}
			if got.Content != nil {
				kept++
				continue
			}
			wantIDs := tok.EncodeSegments(segments(want), false)
			if gotIDs := tok.EncodeSegments(segments(got), false); !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("%s case %d: ids %v, want %v", cfg, i, gotIDs, wantIDs)
			}
			if len(want.Content) > 0 {
				same++
			}
		}
	}
	if same < 10 || kept < 10 {
		t.Errorf("%d one-render prompts compared, %d kept their spans: the corpus misses a case", same, kept)
	}
}
