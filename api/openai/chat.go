package openai

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/mlx-manager/mlx-manager/engine"
)

// ChatRequest is the body of POST /v1/chat/completions: every field OpenAI
// documents, plus the extensions top_k, min_p, repetition_penalty, keep_alive, ttl
// and chat_template_kwargs.
type ChatRequest struct {
	Model               string             `json:"model"`
	Messages            []ChatMessage      `json:"messages"`
	Stream              bool               `json:"stream"`
	StreamOptions       *StreamOptions     `json:"stream_options"`
	MaxTokens           *int               `json:"max_tokens"`
	MaxCompletionTokens *int               `json:"max_completion_tokens"`
	Temperature         *float64           `json:"temperature"`
	TopP                *float64           `json:"top_p"`
	N                   *int               `json:"n"`
	Seed                *int64             `json:"seed"`
	Stop                json.RawMessage    `json:"stop"` // string or []string
	FrequencyPenalty    *float64           `json:"frequency_penalty"`
	PresencePenalty     *float64           `json:"presence_penalty"`
	Logprobs            *bool              `json:"logprobs"`
	TopLogprobs         *int               `json:"top_logprobs"`
	LogitBias           map[string]float64 `json:"logit_bias"`
	Tools               []Tool             `json:"tools"`
	ToolChoice          json.RawMessage    `json:"tool_choice"` // "none" | "auto" | "required" | {type, function:{name}}
	ParallelToolCalls   *bool              `json:"parallel_tool_calls"`
	ResponseFormat      *ResponseFormat    `json:"response_format"`
	ReasoningEffort     *string            `json:"reasoning_effort"`
	Modalities          []string           `json:"modalities"`
	// Prediction (Predicted Outputs) only speeds OpenAI up; the answer is the same.
	Prediction json.RawMessage `json:"prediction"`
	informational

	// Documented, but nothing here can honour them: a 400 when set.
	Audio            json.RawMessage `json:"audio"`
	Functions        json.RawMessage `json:"functions"`
	FunctionCall     json.RawMessage `json:"function_call"`
	WebSearchOptions json.RawMessage `json:"web_search_options"`
	Verbosity        json.RawMessage `json:"verbosity"`

	// Extensions (vLLM, llama.cpp, Ollama, LM Studio).
	TopK               *int            `json:"top_k"`
	MinP               *float64        `json:"min_p"`
	RepetitionPenalty  *float64        `json:"repetition_penalty"`
	KeepAlive          json.RawMessage `json:"keep_alive"`
	TTL                *int            `json:"ttl"`
	ChatTemplateKwargs map[string]any  `json:"chat_template_kwargs"`
	ContextOverflow    *string         `json:"context_overflow"` // truncate_middle, rolling_window or stop (LM Studio's policies)
	// ContinueFinalMessage (vLLM's name) continues the last message, an
	// assistant's, instead of starting a new one: "Continue" after a stopped answer.
	ContinueFinalMessage *bool `json:"continue_final_message"`
}

// includeUsage reads stream_options, which only a streamed request may carry.
func includeUsage(stream bool, o *StreamOptions) (bool, error) {
	if o == nil {
		return false, nil
	}
	if !stream {
		return false, paramErr("stream_options", "stream_options is only allowed when stream is true")
	}
	return o.IncludeUsage, nil
}

// StreamOptions is stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
	// IncludeObfuscation pads chunks against side channels on OpenAI's network;
	// local answers have nothing to hide from the loopback.
	IncludeObfuscation *bool `json:"include_obfuscation"`
}

// ChatMessage is one message of a chat request.
type ChatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"` // string, content parts or null
	Name       string          `json:"name"`
	ToolCalls  []ToolCall      `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Refusal    *string         `json:"refusal"`
	// ReasoningContent is an earlier answer's reasoning, sent back as vLLM and
	// DeepSeek clients do; templates that keep reasoning render it.
	ReasoningContent string          `json:"reasoning_content"`
	Audio            json.RawMessage `json:"audio"`
	FunctionCall     json.RawMessage `json:"function_call"`
}

// ContentPart is one part of a message's content.
type ContentPart struct {
	Type       string          `json:"type"`
	Text       string          `json:"text"`
	Refusal    string          `json:"refusal"`
	ImageURL   json.RawMessage `json:"image_url"`
	InputAudio json.RawMessage `json:"input_audio"`
	File       json.RawMessage `json:"file"`
}

// ToolCall is a function call in an assistant message or an answer.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"` // only in stream deltas
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is a tool call's function and its arguments as a JSON string.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool is a tool the model may call.
type Tool struct {
	Type     string          `json:"type"`
	Function *FunctionDef    `json:"function"`
	Custom   json.RawMessage `json:"custom"`
}

// FunctionDef describes a function tool.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// ResponseFormat is response_format.
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema"`
}

// JSONSchema is response_format.json_schema.
type JSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Strict      *bool           `json:"strict"`
}

// Chat is a validated chat request: what the engine runs and how to answer.
type Chat struct {
	Request      engine.ChatRequest
	N            int
	Stream       bool
	IncludeUsage bool
	Logprobs     bool
}

// Choice is the engine request of choice i: each choice gets its own seed.
func (c *Chat) Choice(i int) engine.ChatRequest {
	r := c.Request
	r.Options = withSeed(r.Options, i)
	return r
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// Engine validates r and converts it for the engine, applying a profile's defaults.
func (r *ChatRequest) Engine(d Defaults) (*Chat, error) {
	if err := r.refuseUnsupported(); err != nil {
		return nil, err
	}
	if r.Model == "" {
		return nil, paramErr("model", "you must provide a model parameter")
	}
	out := &Chat{Stream: r.Stream}
	var err error
	if out.N, err = count(r.N); err != nil {
		return nil, err
	}
	if out.IncludeUsage, err = includeUsage(r.Stream, r.StreamOptions); err != nil {
		return nil, err
	}
	opts, err := r.options(d)
	if err != nil {
		return nil, err
	}
	out.Logprobs = opts.Logprobs
	msgs, err := chatMessages(r.Messages, d.SystemPrompt)
	if err != nil {
		return nil, err
	}
	req := engine.ChatRequest{Model: r.Model, Messages: msgs, Options: opts, ParallelToolCalls: true, ToolFormat: d.ToolFormat}
	if d.Model != "" {
		req.Model = d.Model
	}
	if r.ParallelToolCalls != nil {
		req.ParallelToolCalls = *r.ParallelToolCalls
	}
	if req.Tools, err = tools(r.Tools); err != nil {
		return nil, err
	}
	if req.ToolChoice, err = toolChoice(r.ToolChoice); err != nil {
		return nil, err
	}
	if req.ResponseFormat, err = responseFormat(r.ResponseFormat); err != nil {
		return nil, err
	}
	if req.TemplateVars, err = templateVars(r.ReasoningEffort, r.ChatTemplateKwargs); err != nil {
		return nil, err
	}
	if req.ContextOverflow, err = contextOverflow(r.ContextOverflow); err != nil {
		return nil, err
	}
	req.ContinueFinal = r.ContinueFinalMessage != nil && *r.ContinueFinalMessage
	out.Request = req
	return out, nil
}

func (r *ChatRequest) refuseUnsupported() error {
	switch {
	case present(r.Audio):
		return unsupported("audio", "audio output is not supported")
	case present(r.Functions):
		return unsupported("functions", "functions is deprecated and not supported: use tools")
	case present(r.FunctionCall):
		return unsupported("function_call", "function_call is deprecated and not supported: use tool_choice")
	case present(r.WebSearchOptions):
		return unsupported("web_search_options", "web search is not supported")
	case present(r.Verbosity):
		return unsupported("verbosity", "verbosity is not supported by local models")
	}
	for i, m := range r.Modalities {
		if m != "text" {
			return unsupportedValue(fmt.Sprintf("modalities[%d]", i), "only the text modality is supported, got %q", m)
		}
	}
	return nil
}

func (r *ChatRequest) options(d Defaults) (engine.GenOptions, error) {
	var o engine.GenOptions
	o.Logprobs = r.Logprobs != nil && *r.Logprobs
	top := 0
	if r.TopLogprobs != nil {
		top = *r.TopLogprobs
		if top < 0 || top > MaxTopLogprobs {
			return o, paramErr("top_logprobs", "must be between 0 and %d, got %d", MaxTopLogprobs, top)
		}
		if !o.Logprobs {
			return o, paramErr("top_logprobs", "logprobs must be set to true when top_logprobs is used")
		}
	}
	s := sampling{
		Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK, MinP: r.MinP,
		RepetitionPenalty: r.RepetitionPenalty, FrequencyPenalty: r.FrequencyPenalty,
		PresencePenalty: r.PresencePenalty, Seed: r.Seed, LogitBias: r.LogitBias,
		TopLogprobs: top, MaxTemperature: 2,
	}
	var err error
	if o.Sampling, err = s.params(d); err != nil {
		return o, err
	}
	if o.MaxTokens, err = maxTokens(r.MaxCompletionTokens, r.MaxTokens, d, 0); err != nil {
		return o, err
	}
	if o.Stop, err = stopList(r.Stop, "stop"); err != nil {
		return o, err
	}
	if o.KeepAlive, err = keepAlive(r.KeepAlive, r.TTL, d); err != nil {
		return o, err
	}
	o.ContextSize = d.ContextLength
	return o, nil
}

// templateVars turns reasoning_effort and chat_template_kwargs into template
// switches. Thinking models' templates (Qwen3, DeepSeek-R1 distills) read
// enable_thinking; "none" and "minimal" effort turn thinking off.
func templateVars(effort *string, kwargs map[string]any) (map[string]any, error) {
	if effort == nil && len(kwargs) == 0 {
		return nil, nil
	}
	vars := map[string]any{}
	if effort != nil {
		switch *effort {
		case "none", "minimal":
			vars["enable_thinking"] = false
		case "low", "medium", "high":
			vars["enable_thinking"] = true
		default:
			return nil, paramErr("reasoning_effort", "must be none, minimal, low, medium or high, got %q", *effort)
		}
	}
	for k, v := range kwargs {
		vars[k] = v
	}
	return vars, nil
}

func tools(in []Tool) ([]engine.Tool, error) {
	if len(in) > MaxTools {
		return nil, paramErr("tools", "at most %d tools, got %d", MaxTools, len(in))
	}
	var out []engine.Tool
	for i, t := range in {
		p := fmt.Sprintf("tools[%d]", i)
		if t.Type != "function" {
			return nil, unsupportedValue(p+".type", "only function tools are supported, got %q", t.Type)
		}
		if t.Function == nil {
			return nil, paramErr(p+".function", "is required")
		}
		f := t.Function
		if !toolName.MatchString(f.Name) {
			return nil, paramErr(p+".function.name", "must be 1-%d letters, digits, underscores or dashes, got %q", maxNameLen, f.Name)
		}
		if present(f.Parameters) && f.Parameters[0] != '{' {
			return nil, typeErr(p+".function.parameters", "an object", f.Parameters)
		}
		params := f.Parameters
		if !present(params) {
			params = nil
		}
		out = append(out, engine.Tool{Name: f.Name, Description: f.Description, Parameters: params, Strict: f.Strict != nil && *f.Strict})
	}
	return out, nil
}

func toolChoice(raw json.RawMessage) (engine.ToolChoice, error) {
	if !present(raw) {
		return engine.ToolChoice{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return engine.ToolChoice{}, paramErr("tool_choice", "%v", err)
		}
		switch s {
		case "none", "auto", "required":
			return engine.ToolChoice{Mode: s}, nil
		}
		return engine.ToolChoice{}, paramErr("tool_choice", "must be none, auto, required or a function, got %q", s)
	}
	var obj struct {
		Type     string `json:"type"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
		AllowedTools json.RawMessage `json:"allowed_tools"`
		Custom       json.RawMessage `json:"custom"`
	}
	if err := decodeStrict(raw, "tool_choice", &obj); err != nil {
		return engine.ToolChoice{}, err
	}
	if obj.Type != "function" {
		return engine.ToolChoice{}, unsupportedValue("tool_choice.type", "only function tool choices are supported, got %q", obj.Type)
	}
	if obj.Function == nil || obj.Function.Name == "" {
		return engine.ToolChoice{}, paramErr("tool_choice.function.name", "is required")
	}
	return engine.ToolChoice{Mode: "function", Name: obj.Function.Name}, nil
}

func responseFormat(rf *ResponseFormat) (*engine.ResponseFormat, error) {
	if rf == nil {
		return nil, nil
	}
	switch rf.Type {
	case "text":
		return nil, nil
	case "json_object":
		return &engine.ResponseFormat{Type: "json_object"}, nil
	case "json_schema":
		js := rf.JSONSchema
		if js == nil {
			return nil, paramErr("response_format.json_schema", "is required with type json_schema")
		}
		if !toolName.MatchString(js.Name) {
			return nil, paramErr("response_format.json_schema.name", "must be 1-%d letters, digits, underscores or dashes, got %q", maxNameLen, js.Name)
		}
		schema := js.Schema
		if !present(schema) {
			schema = json.RawMessage(`{}`) // any JSON value, as OpenAI allows
		} else if schema[0] != '{' {
			return nil, typeErr("response_format.json_schema.schema", "an object", schema)
		}
		return &engine.ResponseFormat{Type: "json_schema", Schema: schema, Strict: js.Strict != nil && *js.Strict}, nil
	}
	return nil, paramErr("response_format.type", "must be text, json_object or json_schema, got %q", rf.Type)
}
