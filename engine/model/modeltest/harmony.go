package modeltest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Ids of harmony's control tokens (gpt-oss's o200k_harmony has them at
// 200002-200012) in the tokenizer WriteHarmony writes: after the tiny
// tokenizer's 512 tokens, so Spec.Vocab must be at least HarmonyCall+1.
const (
	HarmonyStart = 512 + iota
	HarmonyEnd
	HarmonyMessage
	HarmonyChannel
	HarmonyConstrain
	HarmonyReturn
	HarmonyCall
)

var harmonyTokens = []string{"<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"}

// WriteHarmony writes the model of s (a gptoss one, say) with harmony's
// control tokens added to the tokenizer as special tokens, the chat
// template template (gpt-oss's, from a test's data) and <|return|> and
// <|call|> as its EOS tokens, as gpt-oss's generation_config.json has them.
func WriteHarmony(dir string, s Spec, template string) error {
	if s.Vocab <= HarmonyCall {
		return fmt.Errorf("modeltest: a vocabulary of %d has no room for harmony's tokens up to %d", s.Vocab, HarmonyCall)
	}
	s.EOS = []int{HarmonyReturn, HarmonyCall}
	if err := Write(dir, s); err != nil {
		return err
	}
	var tok map[string]any
	if err := readJSON(filepath.Join(dir, "tokenizer.json"), &tok); err != nil {
		return err
	}
	added, _ := tok["added_tokens"].([]any)
	for i, text := range harmonyTokens {
		added = append(added, map[string]any{"id": HarmonyStart + i, "content": text, "single_word": false,
			"lstrip": false, "rstrip": false, "normalized": false, "special": true})
	}
	tok["added_tokens"] = added
	if err := writeJSON(filepath.Join(dir, "tokenizer.json"), tok); err != nil {
		return err
	}
	var cfg map[string]any
	if err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &cfg); err != nil {
		return err
	}
	cfg["chat_template"] = template
	cfg["additional_special_tokens"] = harmonyTokens
	return writeJSON(filepath.Join(dir, "tokenizer_config.json"), cfg)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("modeltest: %s: %w", path, err)
	}
	return nil
}
