package engine

import (
	"context"
	"fmt"
	"strings"

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
	// Only the text is wanted: no content spans.
	in := chat.Input{AddGenerationPrompt: true, Inert: func(string) bool { return true }}
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

// CountChatTokens is the number of prompt tokens req takes: its messages and
// tools through the model's template, encoded exactly as Chat encodes them.
// The model is loaded for it, since how a template shows tools depends on the
// model's config.
func (e *Engine) CountChatTokens(ctx context.Context, req ChatRequest) (int, error) {
	lease, l, err := e.acquire(ctx, req.Model, req.Options.KeepAlive)
	if err != nil {
		return 0, err
	}
	defer lease.Release()
	j, err := l.chatPrompt(&req)
	if err != nil {
		return 0, err
	}
	return len(j.prompt), nil
}

// Detokenize decodes token ids with a model's tokenizer, without loading its
// weights. Ids outside the vocabulary are an error naming the first one.
func (e *Engine) Detokenize(ctx context.Context, id string, ids []int32) (string, error) {
	dir, err := e.resolveDir(id)
	if err != nil {
		return "", err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return "", fmt.Errorf("detokenize with %s: %w", id, err)
	}
	for i, t := range ids {
		if t < 0 || int(t) >= tok.VocabSize() {
			return "", &InvalidError{Param: fmt.Sprintf("tokens[%d]", i), Err: fmt.Errorf("token %d is outside the vocabulary (0..%d)", t, tok.VocabSize()-1)}
		}
	}
	return tok.Decode(ids, false), nil
}

// TokenPieces is the text each token adds, as llama-server's with_pieces shows
// it: decoded after the tokens before it (a window of them), so the spaces
// that tokenizers fold into the next token are kept.
func (e *Engine) TokenPieces(ctx context.Context, id string, ids []int32) ([]string, error) {
	dir, err := e.resolveDir(id)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("detokenize with %s: %w", id, err)
	}
	const window = 8 // enough for any merge of bytes and spaces across tokens
	out := make([]string, len(ids))
	for i, t := range ids {
		if t < 0 || int(t) >= tok.VocabSize() {
			return nil, &InvalidError{Param: fmt.Sprintf("tokens[%d]", i), Err: fmt.Errorf("token %d is outside the vocabulary (0..%d)", t, tok.VocabSize()-1)}
		}
		before := tok.Decode(ids[max(0, i-window):i], false)
		after := tok.Decode(ids[max(0, i-window):i+1], false)
		out[i] = strings.TrimPrefix(after, before)
	}
	return out, nil
}
