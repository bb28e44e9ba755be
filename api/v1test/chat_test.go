package v1test

import (
	"net/http"
	"strings"
	"testing"
)

type chatMessage struct {
	Role             string  `json:"role"`
	Content          *string `json:"content"`
	ReasoningContent string  `json:"reasoning_content"`
}

type chatResponse struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Created           int64  `json:"created"`
	Model             string `json:"model"`
	SystemFingerprint string `json:"system_fingerprint"`
	Choices           []struct {
		Index        int         `json:"index"`
		Message      chatMessage `json:"message"`
		FinishReason string      `json:"finish_reason"`
		Logprobs     *struct {
			Content []struct {
				Token       string  `json:"token"`
				Logprob     float64 `json:"logprob"`
				Bytes       []int   `json:"bytes"`
				TopLogprobs []struct {
					Token   string  `json:"token"`
					Logprob float64 `json:"logprob"`
				} `json:"top_logprobs"`
			} `json:"content"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		TotalTokens         int `json:"total_tokens"`
		PromptTokensDetails struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
}

func userMsg(text string) []map[string]any {
	return []map[string]any{{"role": "user", "content": text}}
}

func chatBody(extra map[string]any) map[string]any {
	b := map[string]any{"model": tinyID, "messages": userMsg("Hello there"), "logit_bias": noEOS, "temperature": 0}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (e *env) chat(t *testing.T, extra map[string]any) chatResponse {
	t.Helper()
	var r chatResponse
	e.call(t, "/v1/chat/completions", chatBody(extra), http.StatusOK, &r)
	return r
}

func content(r chatResponse, i int) string {
	if c := r.Choices[i].Message.Content; c != nil {
		return *c
	}
	return ""
}

func TestChatCompletion(t *testing.T) {
	e := start(t, envOptions{})
	r := e.chat(t, map[string]any{"max_tokens": 6})
	if !strings.HasPrefix(r.ID, "chatcmpl-") || r.Object != "chat.completion" || r.Created == 0 || r.Model != tinyID ||
		!strings.HasPrefix(r.SystemFingerprint, "fp_") {
		t.Errorf("envelope %+v", r)
	}
	if len(r.Choices) != 1 || r.Choices[0].Message.Role != "assistant" || r.Choices[0].FinishReason != "length" {
		t.Fatalf("choices %+v", r.Choices)
	}
	if u := r.Usage; u.CompletionTokens != 6 || u.PromptTokens < 3 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %+v", u)
	}
	if content(r, 0) == "" {
		t.Error("no content")
	}
	// The same prompt again: the engine reuses the KV cache of the last request.
	again := e.chat(t, map[string]any{"max_tokens": 6})
	if d := again.Usage.PromptTokensDetails; again.Usage.PromptTokens != r.Usage.PromptTokens || d.CachedTokens == 0 || d.CachedTokens >= r.Usage.PromptTokens {
		t.Errorf("second request: %d prompt tokens, %d cached", again.Usage.PromptTokens, d.CachedTokens)
	}

	ev := e.auditOf(t, "v1.chat.completions")
	if ev.Status != "success" || ev.Model != tinyID || ev.PromptTokens != r.Usage.PromptTokens ||
		ev.CompletionTokens != 6 || ev.HTTPStatus != 200 || ev.APIKeyID == "" || ev.UserID == "" || ev.TTFTMS <= 0 {
		t.Errorf("audit %+v", ev)
	}
}

type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// streamed is what a chat stream said, per choice.
type streamed struct {
	chunks  []chunk
	content map[int]string
	finish  map[int]string
	roles   map[int]int // role chunks per choice
	done    bool
}

func (e *env) chatStream(t *testing.T, extra map[string]any) streamed {
	t.Helper()
	body := chatBody(extra)
	body["stream"] = true
	evs := e.stream(t, "/v1/chat/completions", body)
	s := streamed{content: map[int]string{}, finish: map[int]string{}, roles: map[int]int{}}
	for i, ev := range evs {
		if ev.Data == "[DONE]" {
			if i != len(evs)-1 {
				t.Fatalf("[DONE] is event %d of %d", i, len(evs))
			}
			s.done = true
			break
		}
		var c chunk
		ev.decode(t, &c)
		s.chunks = append(s.chunks, c)
		for _, ch := range c.Choices {
			if ch.Delta.Role != "" {
				s.roles[ch.Index]++
				if s.content[ch.Index] != "" || s.finish[ch.Index] != "" {
					t.Errorf("role chunk of choice %d after its content", ch.Index)
				}
			} else if s.roles[ch.Index] == 0 {
				t.Errorf("choice %d: chunk before its role chunk: %s", ch.Index, ev.Data)
			}
			if ch.Delta.Content != nil {
				s.content[ch.Index] += *ch.Delta.Content
			}
			if ch.FinishReason != nil {
				s.finish[ch.Index] = *ch.FinishReason
			}
		}
	}
	if !s.done {
		t.Fatal("stream did not end with [DONE]")
	}
	return s
}

func TestChatStream(t *testing.T) {
	e := start(t, envOptions{})
	whole := e.chat(t, map[string]any{"max_tokens": 8})
	s := e.chatStream(t, map[string]any{"max_tokens": 8, "stream_options": map[string]any{"include_usage": true}})
	if s.content[0] != content(whole, 0) || s.finish[0] != "length" || s.roles[0] != 1 {
		t.Errorf("streamed %q (%s, %d role chunks), whole %q", s.content[0], s.finish[0], s.roles[0], content(whole, 0))
	}
	last := s.chunks[len(s.chunks)-1]
	if last.Usage == nil || len(last.Choices) != 0 || last.Usage.CompletionTokens != 8 || last.Usage.PromptTokens != whole.Usage.PromptTokens {
		t.Errorf("usage chunk %+v", last)
	}
	for _, c := range s.chunks {
		if c.ID != s.chunks[0].ID || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion.chunk" || c.Model != tinyID {
			t.Fatalf("chunk envelope %+v", c)
		}
		if c.Usage != nil && len(c.Choices) > 0 {
			t.Errorf("usage in a content chunk")
		}
	}
	if ev := e.auditOf(t, "v1.chat.completions"); ev.CompletionTokens != 8 || ev.Status != "success" || ev.TTFTMS <= 0 {
		t.Errorf("audit %+v", ev)
	}

	// n choices stream one after the other, each with its index.
	s = e.chatStream(t, map[string]any{"max_tokens": 3, "n": 2, "seed": 5, "temperature": 1})
	if len(s.finish) != 2 || s.roles[0] != 1 || s.roles[1] != 1 || s.finish[1] != "length" {
		t.Errorf("n=2 stream: finish %v roles %v", s.finish, s.roles)
	}
}

func TestReproducible(t *testing.T) {
	e := start(t, envOptions{})
	greedy := map[string]any{"max_tokens": 10, "temperature": 0}
	if a, b := e.chat(t, greedy), e.chat(t, greedy); content(a, 0) != content(b, 0) {
		t.Errorf("temperature 0 differs: %q vs %q", content(a, 0), content(b, 0))
	}
	seeded := map[string]any{"max_tokens": 10, "temperature": 1.5, "seed": 1234}
	a, b := e.chat(t, seeded), e.chat(t, seeded)
	if content(a, 0) != content(b, 0) {
		t.Errorf("seed 1234 differs: %q vs %q", content(a, 0), content(b, 0))
	}
	seeded["seed"] = 99
	if c := e.chat(t, seeded); content(c, 0) == content(a, 0) {
		t.Logf("seeds 1234 and 99 agree on %q (possible, unlikely)", content(a, 0))
	}
	n := e.chat(t, map[string]any{"max_tokens": 4, "n": 3, "temperature": 1, "seed": 7})
	if len(n.Choices) != 3 || n.Usage.CompletionTokens != 12 || n.Usage.PromptTokens != a.Usage.PromptTokens {
		t.Fatalf("n=3: %d choices, usage %+v", len(n.Choices), n.Usage)
	}
	for i, c := range n.Choices {
		if c.Index != i {
			t.Errorf("choice %d has index %d", i, c.Index)
		}
	}
}

// asciiStop picks a two-letter stop string out of text (the random model also
// writes broken UTF-8) and returns it with the text before its first occurrence.
func asciiStop(t *testing.T, text string) (stop, before string) {
	t.Helper()
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for k := 1; k+2 <= len(text); k++ {
		if isLetter(text[k]) && isLetter(text[k+1]) {
			stop = text[k : k+2]
			return stop, text[:strings.Index(text, stop)]
		}
	}
	// The model and its seed are fixed, so the text is too: without a letter
	// pair the test has lost its subject, which is a failure, not a skip.
	t.Fatalf("no two ASCII letters in %q", text)
	return "", ""
}

// TestStop picks a stop string out of the greedy answer and checks that the answer
// with it ends right before it, in every endpoint and in streams.
func TestStop(t *testing.T) {
	e := start(t, envOptions{})
	stop, want := asciiStop(t, content(e.chat(t, map[string]any{"max_tokens": 24}), 0))
	r := e.chat(t, map[string]any{"max_tokens": 24, "stop": []string{"never-in-output", stop}})
	if content(r, 0) != want || r.Choices[0].FinishReason != "stop" {
		t.Errorf("stop %q: got %q (%s), want %q", stop, content(r, 0), r.Choices[0].FinishReason, want)
	}
	s := e.chatStream(t, map[string]any{"max_tokens": 24, "stop": stop})
	if s.content[0] != want || s.finish[0] != "stop" {
		t.Errorf("streamed stop %q: got %q (%s), want %q", stop, s.content[0], s.finish[0], want)
	}

	var c textResponse
	e.call(t, "/v1/completions", completion(map[string]any{"max_tokens": 24}), 200, &c)
	stop, want = asciiStop(t, c.Choices[0].Text)
	e.call(t, "/v1/completions", completion(map[string]any{"max_tokens": 24, "stop": stop}), 200, &c)
	if c.Choices[0].Text != want || c.Choices[0].FinishReason != "stop" {
		t.Errorf("completions stop %q: got %q (%s), want %q", stop, c.Choices[0].Text, c.Choices[0].FinishReason, want)
	}
}

func TestLogprobs(t *testing.T) {
	e := start(t, envOptions{})
	r := e.chat(t, map[string]any{"max_tokens": 5, "logprobs": true, "top_logprobs": 3})
	lp := r.Choices[0].Logprobs
	if lp == nil || len(lp.Content) != 5 {
		t.Fatalf("logprobs %+v", lp)
	}
	var text strings.Builder
	for i, tok := range lp.Content {
		if len(tok.TopLogprobs) != 3 || tok.Logprob > 0 || len(tok.Bytes) == 0 {
			t.Errorf("token %d: %+v", i, tok)
		}
		// Greedy: the chosen token is the most likely one.
		if tok.Logprob < tok.TopLogprobs[0].Logprob-1e-4 {
			t.Errorf("token %d: logprob %g below the top alternative's %g", i, tok.Logprob, tok.TopLogprobs[0].Logprob)
		}
		for _, b := range tok.Bytes {
			text.WriteByte(byte(b))
		}
	}
	// The random model writes broken UTF-8, which the content carries as U+FFFD.
	if got := strings.ToValidUTF8(text.String(), "\uFFFD"); got != content(r, 0) {
		t.Errorf("token bytes %q do not spell the content %q", got, content(r, 0))
	}
	if r := e.chat(t, map[string]any{"max_tokens": 2}); r.Choices[0].Logprobs != nil {
		t.Error("logprobs sent though not asked for")
	}
}

func TestToolCalls(t *testing.T) {
	e := start(t, envOptions{})
	tools := []map[string]any{{"type": "function", "function": map[string]any{
		"name": "get_weather", "description": "weather of a city",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string", "enum": []string{"Paris", "Rome"}}},
			"required": []string{"city"}, "additionalProperties": false},
	}}}
	var r struct {
		Choices []struct {
			Message struct {
				Content   *string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	body := chatBody(map[string]any{"tools": tools, "tool_choice": "required", "parallel_tool_calls": false, "max_tokens": 150})
	e.call(t, "/v1/chat/completions", body, 200, &r)
	ch := r.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("choice %+v", ch)
	}
	call := ch.Message.ToolCalls[0]
	if !strings.HasPrefix(call.ID, "call_") || call.Type != "function" || call.Function.Name != "get_weather" ||
		(call.Function.Arguments != `{"city": "Paris"}` && call.Function.Arguments != `{"city": "Rome"}` &&
			call.Function.Arguments != `{"city":"Paris"}` && call.Function.Arguments != `{"city":"Rome"}`) {
		t.Errorf("call %+v", call)
	}

	s := e.chatStream(t, map[string]any{"tools": tools, "tool_choice": map[string]any{"type": "function", "function": map[string]string{"name": "get_weather"}}, "parallel_tool_calls": false, "max_tokens": 150})
	var name, args, id string
	for _, c := range s.chunks {
		for _, choice := range c.Choices {
			for _, tc := range choice.Delta.ToolCalls {
				if tc.ID != "" {
					if id != "" || tc.Type != "function" {
						t.Errorf("second start of a call: %+v", tc)
					}
					id, name = tc.ID, tc.Function.Name
				}
				args += tc.Function.Arguments
			}
		}
	}
	if s.finish[0] != "tool_calls" || name != "get_weather" || !strings.Contains(args, "city") {
		t.Errorf("streamed call %s %s(%s), finish %s", id, name, args, s.finish[0])
	}
}

func TestResponseFormat(t *testing.T) {
	e := start(t, envOptions{})
	r := e.chat(t, map[string]any{"max_tokens": 40, "response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{
		"name": "answer", "strict": true,
		"schema": map[string]any{"type": "object", "properties": map[string]any{"ok": map[string]any{"type": "boolean"}}, "required": []string{"ok"}, "additionalProperties": false},
	}}})
	got := strings.ReplaceAll(content(r, 0), " ", "")
	if got != `{"ok":true}` && got != `{"ok":false}` {
		t.Errorf("json_schema answer %q", content(r, 0))
	}
}

// TestChatContinueFinalMessage: continue_final_message (vLLM's name) continues
// the last assistant message instead of answering anew: the chat page's
// "Continue" after a stopped answer.
func TestChatContinueFinalMessage(t *testing.T) {
	e := start(t, envOptions{})
	plain := e.chat(t, map[string]any{"max_tokens": 4})
	turns := []map[string]any{{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Once upon a time"}}
	cont := e.chat(t, map[string]any{"max_tokens": 4, "messages": turns, "continue_final_message": true})
	// The prefix is in the prompt, as the start of the answer, not echoed back.
	if cont.Usage.PromptTokens <= plain.Usage.PromptTokens || strings.Contains(content(cont, 0), "Once upon a time") ||
		cont.Usage.CompletionTokens != 4 {
		t.Fatalf("continued %+v after %+v", cont, plain)
	}
	// Without the flag the same messages start a new answer: a longer prompt
	// (the assistant turn is closed and a new one opened).
	anew := e.chat(t, map[string]any{"max_tokens": 4, "messages": turns})
	if anew.Usage.PromptTokens <= cont.Usage.PromptTokens {
		t.Errorf("a new answer's prompt (%d tokens) should be longer than the continued one's (%d)", anew.Usage.PromptTokens, cont.Usage.PromptTokens)
	}
	bad := e.Error(t, "POST", "/v1/chat/completions", e.key, chatBody(map[string]any{"continue_final_message": true}), http.StatusBadRequest)
	if bad.Param == nil || *bad.Param != "messages[0]" || !strings.Contains(bad.Message, "assistant") {
		t.Errorf("continuing a user message: %+v", bad)
	}
}
