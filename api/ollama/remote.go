package ollama

import (
	"encoding/json"
	"fmt"
	"time"
)

// The conversions here carry an Ollama request to a remote backend, which
// speaks OpenAI's API (api/route translates onwards to Anthropic's), and its
// OpenAI answer back to Ollama's shape.

// remoteOptions are the Ollama options a backend gets, under OpenAI's names;
// the others (num_ctx, num_thread, ...) configure a runner the backend does
// not have, and are dropped.
var remoteOptions = map[string]string{"temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "seed": "seed",
	"num_predict": "max_tokens", "stop": "stop", "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty"}

func openAIBase(model string, options map[string]json.RawMessage, format json.RawMessage, stream bool) (map[string]any, error) {
	body := map[string]any{"model": model, "stream": stream}
	if stream {
		body["stream_options"] = map[string]any{"include_usage": true}
	}
	for k, v := range options {
		if name, ok := remoteOptions[k]; ok {
			body[name] = v
		}
	}
	if len(format) > 0 && string(format) != "null" && string(format) != `""` {
		switch format[0] {
		case '"':
			var s string
			if err := json.Unmarshal(format, &s); err != nil || s != "json" {
				return nil, fieldErr("format", `must be "json" or a JSON schema object, got %s`, format)
			}
			body["response_format"] = map[string]any{"type": "json_object"}
		case '{':
			body["response_format"] = map[string]any{"type": "json_schema",
				"json_schema": map[string]any{"name": "format", "schema": format, "strict": true}}
		default:
			return nil, fieldErr("format", `must be "json" or a JSON schema object, got %s`, format)
		}
	}
	return body, nil
}

// OpenAIChat is r as an OpenAI chat completions body for model. Tool calls
// get ids (call_N) so that the tool messages after them can name them.
func (r *ChatRequest) OpenAIChat(model string) ([]byte, error) {
	body, err := openAIBase(model, r.Options, r.Format, Streaming(r.Stream))
	if err != nil {
		return nil, err
	}
	msgs := make([]map[string]any, 0, len(r.Messages))
	var pending []string // ids of calls not yet answered by a tool message
	n := 0
	for i, m := range r.Messages {
		if len(m.Images) > 0 {
			return nil, fieldErr(fmt.Sprintf("messages[%d].images", i), "images are not supported")
		}
		om := map[string]any{"role": m.Role, "content": m.Content}
		if len(m.ToolCalls) > 0 {
			calls := make([]map[string]any, len(m.ToolCalls))
			for j, tc := range m.ToolCalls {
				id := fmt.Sprintf("call_%d", n)
				n++
				pending = append(pending, id)
				args := string(tc.Function.Arguments)
				if args == "" {
					args = "{}"
				}
				calls[j] = map[string]any{"id": id, "type": "function", "function": map[string]any{"name": tc.Function.Name, "arguments": args}}
			}
			om["tool_calls"] = calls
		}
		if m.Role == "tool" && len(pending) > 0 {
			om["tool_call_id"], pending = pending[0], pending[1:]
		}
		msgs = append(msgs, om)
	}
	body["messages"] = msgs
	if len(r.Tools) > 0 {
		body["tools"] = r.Tools
	}
	return json.Marshal(body)
}

// OpenAIRequest is r as an OpenAI body for model and the route it goes to: a
// chat completion of the prompt (with system), or a completion when raw.
func (r *GenerateRequest) OpenAIRequest(model string) (body []byte, chat bool, err error) {
	if len(r.Images) > 0 {
		return nil, false, fieldErr("images", "images are not supported")
	}
	b, err := openAIBase(model, r.Options, r.Format, Streaming(r.Stream))
	if err != nil {
		return nil, false, err
	}
	if r.Raw {
		b["prompt"] = r.Prompt
		if r.Suffix != "" {
			b["suffix"] = r.Suffix
		}
		body, err = json.Marshal(b)
		return body, false, err
	}
	var msgs []map[string]any
	if r.System != "" {
		msgs = append(msgs, map[string]any{"role": "system", "content": r.System})
	}
	b["messages"] = append(msgs, map[string]any{"role": "user", "content": r.Prompt})
	body, err = json.Marshal(b)
	return body, true, err
}

// OpenAIEmbeddings is r as an OpenAI embeddings body for model.
func (r *EmbedRequest) OpenAIEmbeddings(model string) ([]byte, error) {
	inputs, err := r.Inputs()
	if err != nil {
		return nil, err
	}
	b := map[string]any{"model": model, "input": inputs}
	if r.Dimensions > 0 {
		b["dimensions"] = r.Dimensions
	}
	return json.Marshal(b)
}

// OpenAIChunk is the part of an OpenAI answer (a whole chat or completion, or
// one streamed chunk) the conversion back reads.
type OpenAIChunk struct {
	Choices []struct {
		Text    string       `json:"text"`
		Message *openAIDelta `json:"message"`
		Delta   *openAIDelta `json:"delta"`
		Finish  *string      `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

type openAIDelta struct {
	Content   string `json:"content"`
	Reasoning string `json:"reasoning_content"`
	ToolCalls []struct {
		Index    int `json:"index"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// RemoteAnswer gathers an OpenAI answer, whole or streamed, for Ollama's lines.
type RemoteAnswer struct {
	Content, Thinking string
	Finish            string
	PromptTokens      int
	CompletionTokens  int
	calls             []ToolCall
	args              []string
}

// Add takes one chunk (or a whole answer) and returns the text it adds, to
// stream now.
func (a *RemoteAnswer) Add(c OpenAIChunk) (content, thinking string) {
	if c.Usage != nil {
		a.PromptTokens, a.CompletionTokens = c.Usage.PromptTokens, c.Usage.CompletionTokens
	}
	for _, ch := range c.Choices {
		d := ch.Delta
		if d == nil {
			d = ch.Message
		}
		content += ch.Text
		if d != nil {
			content += d.Content
			thinking += d.Reasoning
			for _, tc := range d.ToolCalls {
				for len(a.calls) <= tc.Index {
					a.calls = append(a.calls, ToolCall{Function: ToolCallFunction{Index: len(a.calls)}})
					a.args = append(a.args, "")
				}
				if tc.Function.Name != "" {
					a.calls[tc.Index].Function.Name = tc.Function.Name
				}
				a.args[tc.Index] += tc.Function.Arguments
			}
		}
		if ch.Finish != nil && *ch.Finish != "" {
			a.Finish = *ch.Finish
		}
	}
	a.Content += content
	a.Thinking += thinking
	return content, thinking
}

// ToolCalls are the answer's calls, arguments as objects.
func (a *RemoteAnswer) ToolCalls() []ToolCall {
	out := make([]ToolCall, len(a.calls))
	for i, c := range a.calls {
		args := json.RawMessage(a.args[i])
		if !json.Valid(args) || len(args) == 0 {
			args = json.RawMessage("{}")
		}
		c.Function.Arguments = args
		out[i] = c
	}
	return out
}

// Metrics are the done record's counts; the durations are the request's own
// (the backend's timings are not in OpenAI's answer).
func (a *RemoteAnswer) Metrics(total time.Duration) *Metrics {
	return &Metrics{TotalDuration: int64(total), PromptEvalCount: a.PromptTokens, EvalCount: a.CompletionTokens}
}

// DoneReason is the done record's reason.
func (a *RemoteAnswer) DoneReason() string { return DoneReason(a.Finish) }

// EmbedFrom turns an OpenAI embeddings answer into Ollama's.
func EmbedFrom(model string, raw []byte, total time.Duration) (EmbedResponse, error) {
	var r struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return EmbedResponse{}, fmt.Errorf("read the backend's embeddings: %w", err)
	}
	out := EmbedResponse{Model: model, Embeddings: make([][]float32, len(r.Data)), TotalDuration: int64(total), PromptEvalCount: r.Usage.PromptTokens}
	for i, d := range r.Data {
		if d.Index >= 0 && d.Index < len(out.Embeddings) {
			out.Embeddings[d.Index] = d.Embedding
		} else {
			out.Embeddings[i] = d.Embedding
		}
	}
	return out, nil
}
