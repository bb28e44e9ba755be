package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// ResponsesRequest is the body of POST /v1/responses (OpenAI's Responses API):
// text in and out, function tools, reasoning, stored conversations; plus the
// sampling extensions of the chat endpoint.
type ResponsesRequest struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"` // a string or a list of items
	Instructions       *string           `json:"instructions"`
	Stream             bool              `json:"stream"`
	StreamOptions      *StreamOptions    `json:"stream_options"`
	Store              *bool             `json:"store"` // default true
	PreviousResponseID string            `json:"previous_response_id"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	Tools              []ResponseTool    `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"` // "none" | "auto" | "required" | {type:"function", name}
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Reasoning          *ReasoningConfig  `json:"reasoning"`
	Text               *TextConfig       `json:"text"`
	Metadata           map[string]string `json:"metadata"`
	Truncation         *string           `json:"truncation"`
	Include            []string          `json:"include"`
	User               json.RawMessage   `json:"user"`
	ServiceTier        json.RawMessage   `json:"service_tier"`
	SafetyIdentifier   json.RawMessage   `json:"safety_identifier"`
	PromptCacheKey     json.RawMessage   `json:"prompt_cache_key"`

	// Documented, but nothing here can honour them: a 400 when set.
	Background   *bool           `json:"background"`
	Conversation json.RawMessage `json:"conversation"`
	Prompt       json.RawMessage `json:"prompt"`
	MaxToolCalls json.RawMessage `json:"max_tool_calls"`
	TopLogprobs  json.RawMessage `json:"top_logprobs"`

	// Extensions, as on /v1/chat/completions.
	TopK              *int            `json:"top_k"`
	MinP              *float64        `json:"min_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	Seed              *int64          `json:"seed"`
	KeepAlive         json.RawMessage `json:"keep_alive"`
	TTL               *int            `json:"ttl"`
}

// ResponseTool is a tool of a Responses request; only function tools run here.
type ResponseTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// ReasoningConfig is the reasoning field.
type ReasoningConfig struct {
	Effort *string `json:"effort"`
	// Summaries need a second model pass OpenAI runs on its side; the reasoning
	// itself is returned as reasoning_text, so these are accepted and not acted on.
	Summary         json.RawMessage `json:"summary"`
	GenerateSummary json.RawMessage `json:"generate_summary"`
}

// TextConfig is the text field: the output format.
type TextConfig struct {
	Format    *TextFormat     `json:"format"`
	Verbosity json.RawMessage `json:"verbosity"`
}

// TextFormat is text.format: text, json_object or json_schema (flat, unlike
// chat's response_format).
type TextFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Strict      *bool           `json:"strict"`
}

// InputItem is one item of input: a message, a function call of an earlier
// answer, its output, or earlier reasoning. Type may be left out of messages.
type InputItem struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"` // message: string or parts; reasoning: reasoning_text parts
	CallID           string          `json:"call_id"`
	Name             string          `json:"name"`
	Arguments        string          `json:"arguments"`
	Output           json.RawMessage `json:"output"` // string or parts
	Summary          []ItemPart      `json:"summary"`
	EncryptedContent json.RawMessage `json:"encrypted_content"`
}

// ItemPart is a content part of an item, in or out.
type ItemPart struct {
	Type        string          `json:"type"`
	Text        string          `json:"text"`
	Refusal     string          `json:"refusal"`
	Annotations json.RawMessage `json:"annotations"`
	Logprobs    json.RawMessage `json:"logprobs"`
	ImageURL    json.RawMessage `json:"image_url"`
	FileID      json.RawMessage `json:"file_id"`
	FileData    json.RawMessage `json:"file_data"`
	Filename    json.RawMessage `json:"filename"`
	Detail      json.RawMessage `json:"detail"`
}

// ResponsesCall is a validated Responses request. Request lacks its messages:
// Messages puts them together once the previous response, if any, is loaded.
type ResponsesCall struct {
	Request      engine.ChatRequest
	Input        []engine.Message // this request's input items
	inputPaths   []string         // of Input: the item each came from
	origins      []string         // of Request.Messages once Messages put them together
	Instructions string
	System       string // the profile's system prompt, used without instructions or a system message
	Stream       bool
	Store        bool
	Echo         ResponseEcho // the request fields every response object repeats
}

// Messages is the conversation to run: instructions (never carried over from a
// previous response, as OpenAI documents), history, then the new input.
func (r *ResponsesCall) Messages(history []engine.Message) []engine.Message {
	out := make([]engine.Message, 0, len(history)+len(r.Input)+1)
	r.origins = r.origins[:0]
	switch {
	case r.Instructions != "":
		out = append(out, engine.Message{Role: "system", Content: r.Instructions})
		r.origins = append(r.origins, "instructions")
	case r.System != "" && !hasSystemMessage(history) && !hasSystemMessage(r.Input):
		out = append(out, engine.Message{Role: "system", Content: r.System})
		r.origins = append(r.origins, "model") // the profile's system prompt
	}
	out = append(out, history...)
	for range history {
		r.origins = append(r.origins, "previous_response_id")
	}
	r.origins = append(r.origins, r.inputPaths...)
	return append(out, r.Input...)
}

// InputParam rewrites the path of an engine error about one of the messages
// Messages put together ("messages[3].content") as the request field it came
// from ("input[1].content"), for the engine knows only its messages.
func (r *ResponsesCall) InputParam(err error) error {
	var ie *engine.InvalidError
	if !errors.As(err, &ie) || !strings.HasPrefix(ie.Param, "messages[") {
		return err
	}
	idx, rest, ok := strings.Cut(ie.Param[len("messages["):], "]")
	i, convErr := strconv.Atoi(idx)
	if !ok || convErr != nil || i < 0 || i >= len(r.origins) {
		return err
	}
	p := r.origins[i]
	if strings.HasPrefix(p, "input") {
		p += rest
	}
	return &engine.InvalidError{Param: p, Err: ie.Err}
}

func hasSystemMessage(msgs []engine.Message) bool {
	for _, m := range msgs {
		if m.Role == "system" || m.Role == "developer" {
			return true
		}
	}
	return false
}

// Engine validates r and converts it, applying a profile's defaults.
func (r *ResponsesRequest) Engine(d Defaults) (*ResponsesCall, error) {
	if err := r.refuseUnsupported(); err != nil {
		return nil, err
	}
	if r.Model == "" {
		return nil, paramErr("model", "you must provide a model parameter")
	}
	if r.StreamOptions != nil && !r.Stream {
		return nil, paramErr("stream_options", "stream_options is only allowed when stream is true")
	}
	if r.Truncation != nil && *r.Truncation != "disabled" && *r.Truncation != "auto" {
		return nil, paramErr("truncation", "must be auto or disabled, got %q", *r.Truncation)
	}
	out := &ResponsesCall{Stream: r.Stream, Store: r.Store == nil || *r.Store, System: d.SystemPrompt}
	if r.Instructions != nil {
		out.Instructions = *r.Instructions
	}
	var err error
	if out.Input, out.inputPaths, err = inputItems(r.Input, r.PreviousResponseID != ""); err != nil {
		return nil, err
	}
	opts, err := r.options(d)
	if err != nil {
		return nil, err
	}
	req := engine.ChatRequest{Model: r.Model, Options: opts, ParallelToolCalls: true, ToolFormat: d.ToolFormat}
	if d.Model != "" {
		req.Model = d.Model
	}
	if r.ParallelToolCalls != nil {
		req.ParallelToolCalls = *r.ParallelToolCalls
	}
	if req.Tools, err = responseTools(r.Tools); err != nil {
		return nil, err
	}
	if req.ToolChoice, err = responseToolChoice(r.ToolChoice); err != nil {
		return nil, err
	}
	if r.Text != nil {
		if req.ResponseFormat, err = textFormat(r.Text.Format); err != nil {
			return nil, err
		}
	}
	var effort *string
	if r.Reasoning != nil {
		effort = r.Reasoning.Effort
	}
	if req.TemplateVars, err = templateVars(effort, nil); err != nil {
		return nil, prefixParam(err, "reasoning.effort")
	}
	out.Request = req
	out.Echo = r.echo(out, opts)
	return out, nil
}

func (r *ResponsesRequest) refuseUnsupported() error {
	switch {
	case r.Background != nil && *r.Background:
		return unsupported("background", "background responses are not supported: stream instead")
	case present(r.Conversation):
		return unsupported("conversation", "conversations are not supported: use previous_response_id")
	case present(r.Prompt):
		return unsupported("prompt", "prompt templates are not supported: send instructions and input")
	case present(r.MaxToolCalls):
		return unsupported("max_tool_calls", "max_tool_calls is not supported: only function tools run here, and the client runs them")
	case present(r.TopLogprobs):
		return unsupported("top_logprobs", "logprobs are not supported on /v1/responses: use /v1/chat/completions")
	case r.Text != nil && present(r.Text.Verbosity):
		return unsupported("text.verbosity", "verbosity is not supported by local models")
	}
	for i, inc := range r.Include {
		if inc != "reasoning.encrypted_content" { // reasoning is returned in clear anyway
			return unsupportedValue(fmt.Sprintf("include[%d]", i), "%q is not supported", inc)
		}
	}
	return nil
}

func (r *ResponsesRequest) options(d Defaults) (engine.GenOptions, error) {
	var o engine.GenOptions
	s := sampling{Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK, MinP: r.MinP,
		RepetitionPenalty: r.RepetitionPenalty, Seed: r.Seed, MaxTemperature: 2}
	var err error
	if o.Sampling, err = s.params(d); err != nil {
		return o, err
	}
	if r.MaxOutputTokens != nil && *r.MaxOutputTokens < 1 {
		return o, paramErr("max_output_tokens", "must be >= 1, got %d", *r.MaxOutputTokens)
	}
	if o.MaxTokens, err = maxTokens(r.MaxOutputTokens, nil, d, 0); err != nil {
		return o, err
	}
	if o.KeepAlive, err = keepAlive(r.KeepAlive, r.TTL, d); err != nil {
		return o, err
	}
	o.ContextSize = d.ContextLength
	return o, nil
}

// prefixParam renames the field of a ParamError raised by a shared helper.
func prefixParam(err error, param string) error {
	if pe, ok := err.(*ParamError); ok {
		pe.Param = param
	}
	return err
}

func responseTools(in []ResponseTool) ([]engine.Tool, error) {
	tools := make([]Tool, 0, len(in))
	for i, t := range in {
		if t.Type != "function" {
			return nil, unsupportedValue(fmt.Sprintf("tools[%d].type", i), "only function tools are supported, got %q", t.Type)
		}
		tools = append(tools, Tool{Type: t.Type, Function: &FunctionDef{Name: t.Name, Description: t.Description,
			Parameters: t.Parameters, Strict: t.Strict}})
	}
	out, err := toolsChecked(tools)
	if pe, ok := err.(*ParamError); ok {
		pe.Param = strings.Replace(pe.Param, ".function.", ".", 1)
	}
	return out, err
}

// toolsChecked is tools with Responses' default: strict unless told otherwise.
func toolsChecked(in []Tool) ([]engine.Tool, error) {
	for _, t := range in {
		if t.Function.Strict == nil {
			strict := true
			t.Function.Strict = &strict
		}
	}
	return tools(in)
}

func responseToolChoice(raw json.RawMessage) (engine.ToolChoice, error) {
	if !present(raw) || raw[0] == '"' {
		return toolChoice(raw)
	}
	var obj struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := decodeStrict(raw, "tool_choice", &obj); err != nil {
		return engine.ToolChoice{}, err
	}
	if obj.Type != "function" {
		return engine.ToolChoice{}, unsupportedValue("tool_choice.type", "only function tool choices are supported, got %q", obj.Type)
	}
	if obj.Name == "" {
		return engine.ToolChoice{}, paramErr("tool_choice.name", "is required")
	}
	return engine.ToolChoice{Mode: "function", Name: obj.Name}, nil
}

func textFormat(f *TextFormat) (*engine.ResponseFormat, error) {
	if f == nil {
		return nil, nil
	}
	rf := &ResponseFormat{Type: f.Type}
	if f.Type == "json_schema" {
		rf.JSONSchema = &JSONSchema{Name: f.Name, Description: f.Description, Schema: f.Schema, Strict: f.Strict}
	}
	out, err := responseFormat(rf)
	if pe, ok := err.(*ParamError); ok {
		pe.Param = strings.Replace(strings.Replace(pe.Param, "response_format.json_schema", "text.format", 1), "response_format", "text.format", 1)
	}
	return out, err
}
