package modeltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Token ids WriteYesNoReranker gives the tokenizer.
const (
	YesToken = 512
	NoToken  = 513
)

// WriteYesNoReranker writes spec (a "qwen3" model, Qwen3-Reranker's
// architecture) into dir with a vocabulary of at least 576 rows and a
// tokenizer that also knows "yes" (YesToken), "no" (NoToken) and the
// ChatML specials <|im_start|> and <|im_end|> of the reranker's prompt,
// which the test tokenizer lacks. dir's name should say Qwen3-Reranker:
// that is how the engine tells the reranker from a Qwen3 chat model.
func WriteYesNoReranker(dir string, spec Spec) error {
	spec.Vocab = max(spec.Vocab, 576)
	if err := Write(dir, spec); err != nil {
		return err
	}
	path := filepath.Join(dir, "tokenizer.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	var tj struct {
		Rest  map[string]json.RawMessage
		Added []map[string]any
		Model map[string]any
	}
	if err := json.Unmarshal(raw, &tj.Rest); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	if err := errors.Join(json.Unmarshal(tj.Rest["added_tokens"], &tj.Added), json.Unmarshal(tj.Rest["model"], &tj.Model)); err != nil {
		return fmt.Errorf("modeltest: tokenizer.json: %w", err)
	}
	vocab, ok := tj.Model["vocab"].(map[string]any)
	if !ok {
		return fmt.Errorf("modeltest: tokenizer.json has no vocabulary")
	}
	vocab["yes"], vocab["no"] = YesToken, NoToken
	for i, s := range []string{"<|im_start|>", "<|im_end|>"} {
		vocab[s] = NoToken + 1 + i
		tj.Added = append(tj.Added, map[string]any{"id": NoToken + 1 + i, "content": s, "single_word": false,
			"lstrip": false, "rstrip": false, "normalized": false, "special": true})
	}
	out := map[string]any{}
	for k, v := range tj.Rest {
		out[k] = v
	}
	out["added_tokens"], out["model"] = tj.Added, tj.Model
	return writeJSON(path, out)
}
