package v1test

import (
	"strings"
	"testing"
)

type textResponse struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Text         string `json:"text"`
		Index        int    `json:"index"`
		FinishReason string `json:"finish_reason"`
		Logprobs     *struct {
			Tokens        []string             `json:"tokens"`
			TokenLogprobs []float64            `json:"token_logprobs"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
			TextOffset    []int                `json:"text_offset"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func completion(extra map[string]any) map[string]any {
	b := map[string]any{"model": tinyID, "prompt": "Once upon a time", "temperature": 0, "logit_bias": noEOS}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func TestCompletions(t *testing.T) {
	e := start(t, envOptions{})
	var r textResponse
	e.call(t, "/v1/completions", completion(nil), 200, &r)
	if !strings.HasPrefix(r.ID, "cmpl-") || r.Object != "text_completion" || len(r.Choices) != 1 ||
		r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 16 {
		t.Fatalf("default completion (max_tokens 16, as OpenAI): %+v", r)
	}
	plain := r.Choices[0].Text

	e.call(t, "/v1/completions", completion(map[string]any{"echo": true}), 200, &r)
	if r.Choices[0].Text != "Once upon a time"+plain {
		t.Errorf("echo: %q", r.Choices[0].Text)
	}

	e.call(t, "/v1/completions", completion(map[string]any{"prompt": []string{"a", "b"}, "n": 2, "max_tokens": 2, "temperature": 1, "seed": 3}), 200, &r)
	if len(r.Choices) != 4 || r.Usage.CompletionTokens != 8 {
		t.Fatalf("2 prompts × n 2: %+v", r)
	}
	for i, c := range r.Choices {
		if c.Index != i {
			t.Errorf("choice %d index %d", i, c.Index)
		}
	}

	e.call(t, "/v1/completions", completion(map[string]any{"max_tokens": 4, "logprobs": 2}), 200, &r)
	lp := r.Choices[0].Logprobs
	if lp == nil || len(lp.Tokens) != 4 || len(lp.TokenLogprobs) != 4 || len(lp.TopLogprobs) != 4 || lp.TextOffset[0] != 0 {
		t.Fatalf("logprobs %+v", lp)
	}
	if strings.Join(lp.Tokens, "") != r.Choices[0].Text {
		t.Errorf("tokens %q do not spell %q", lp.Tokens, r.Choices[0].Text)
	}
	for i, top := range lp.TopLogprobs {
		if len(top) == 0 || len(top) > 2 || lp.TextOffset[i] != len(strings.Join(lp.Tokens[:i], "")) {
			t.Errorf("position %d: top %v offset %d", i, top, lp.TextOffset[i])
		}
	}

	// Streamed: the same text, then the finish chunk, then usage, then [DONE].
	body := completion(map[string]any{"stream": true, "echo": true, "stream_options": map[string]any{"include_usage": true}})
	evs := e.stream(t, "/v1/completions", body)
	var text, finish string
	var usage int
	for _, ev := range evs[:len(evs)-1] {
		var c textResponse
		ev.decode(t, &c)
		for _, ch := range c.Choices {
			text += ch.Text
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
		if c.Usage != nil {
			usage = c.Usage.CompletionTokens
		}
	}
	if evs[len(evs)-1].Data != "[DONE]" || text != "Once upon a time"+plain || finish != "length" || usage != 16 {
		t.Errorf("stream: %q %s usage %d", text, finish, usage)
	}
}

// TestStoriesContinuation checks real text: the answer continues the prompt
// exactly, punctuation and leading spaces included.
func TestStoriesContinuation(t *testing.T) {
	e := start(t, envOptions{stories: true})
	for prompt, want := range map[string]string{
		"Once upon a time":  ", there was",
		"Once upon a time,": " there was",
	} {
		var r textResponse
		e.call(t, "/v1/completions", map[string]any{"model": storiesID, "prompt": prompt, "max_tokens": 6, "temperature": 0}, 200, &r)
		if text := r.Choices[0].Text; !strings.HasPrefix(text, want) {
			t.Errorf("%q continued with %q, want %q…", prompt, text, want)
		}
	}
}
