package engine

import (
	"context"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// Tokenize encodes text with a model's tokenizer, without loading its weights.
// With special, added tokens written in the text ("<|im_start|>") become those
// tokens, as Hugging Face tokenizers do by default; without, they stay text.
// addSpecial adds what the tokenizer's post-processor adds (BOS for Llama 2).
func (e *Engine) Tokenize(ctx context.Context, id, text string, special, addSpecial bool) ([]int32, error) {
	dir, err := e.resolveDir(id)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("tokenize with %s: %w", id, err)
	}
	if special {
		return tok.Encode(text, addSpecial), nil
	}
	return tok.EncodeUntrusted(text, addSpecial), nil
}

// RenderChat renders messages through a model's chat template with the
// generation prompt, as the model will see them.
func (e *Engine) RenderChat(ctx context.Context, id string, msgs []Message) (string, error) {
	dir, err := e.resolveDir(id)
	if err != nil {
		return "", err
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		return "", fmt.Errorf("render chat with %s: %w", id, err)
	}
	in := chat.Input{AddGenerationPrompt: true}
	for _, m := range msgs {
		cm, err := chatMessage(m)
		if err != nil {
			return "", &InvalidError{Param: "messages", Err: err}
		}
		in.Messages = append(in.Messages, cm)
	}
	r, err := tmpl.Render(in)
	if err != nil {
		return "", fmt.Errorf("render chat with %s: %w", id, err)
	}
	return r.Text, nil
}
