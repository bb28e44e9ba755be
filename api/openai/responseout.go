package openai

import (
	"encoding/json"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Response is the response object: the answer of POST /v1/responses, of GET
// /v1/responses/{id}, and the payload of the stream's lifecycle events.
type Response struct {
	ID        string `json:"id"`
	Object    string `json:"object"` // "response"
	CreatedAt int64  `json:"created_at"`
	Status    string `json:"status"` // in_progress, completed, incomplete, failed
	// Error is set when status is failed.
	Error             *ResponseError     `json:"error"`
	IncompleteDetails *IncompleteDetails `json:"incomplete_details"`
	Model             string             `json:"model"`
	Output            []OutputItem       `json:"output"`
	Usage             *ResponseUsage     `json:"usage"`
	ResponseEcho
}

// ResponseEcho is what every response object repeats of its request.
type ResponseEcho struct {
	Instructions       *string           `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Reasoning          ReasoningEcho     `json:"reasoning"`
	Store              bool              `json:"store"`
	Temperature        float64           `json:"temperature"`
	Text               TextEcho          `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              []ResponseTool    `json:"tools"`
	TopP               float64           `json:"top_p"`
	Truncation         string            `json:"truncation"`
	User               json.RawMessage   `json:"user,omitempty"`
	Metadata           map[string]string `json:"metadata"`
}

// ReasoningEcho is the reasoning field of a response object.
type ReasoningEcho struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

// TextEcho is the text field of a response object.
type TextEcho struct {
	Format json.RawMessage `json:"format"`
}

// ResponseError is the error of a failed response.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response stopped early.
type IncompleteDetails struct {
	Reason string `json:"reason"` // max_output_tokens
}

// ResponseUsage is the Responses API's token usage.
type ResponseUsage struct {
	InputTokens         int          `json:"input_tokens"`
	InputTokensDetails  CachedDetail `json:"input_tokens_details"`
	OutputTokens        int          `json:"output_tokens"`
	OutputTokensDetails OutputDetail `json:"output_tokens_details"`
	TotalTokens         int          `json:"total_tokens"`
}

// CachedDetail counts the prompt tokens whose KV cache was reused.
type CachedDetail struct {
	CachedTokens int `json:"cached_tokens"`
}

// OutputDetail counts the output tokens spent reasoning.
type OutputDetail struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// OutputItem is one item of a response's output: a message, a function call or
// reasoning. Fields of the other kinds are left out.
type OutputItem struct {
	ID     string `json:"id"`
	Type   string `json:"type"` // message, function_call, reasoning
	Status string `json:"status,omitempty"`
	// message
	Role    string       `json:"role,omitempty"`
	Content []OutputPart `json:"content,omitempty"`
	// function_call
	CallID    string  `json:"call_id,omitempty"`
	Name      string  `json:"name,omitempty"`
	Arguments *string `json:"arguments,omitempty"`
	// reasoning: summary is always present (OpenAI requires it), content holds the text
	Summary []OutputPart `json:"summary,omitempty"`
}

// OutputPart is a part of an output item: output_text in messages,
// reasoning_text in reasoning.
type OutputPart struct {
	Type        string    `json:"type"`
	Text        string    `json:"text"`
	Annotations *[]string `json:"annotations,omitempty"` // output_text only: always empty here
	Logprobs    *[]string `json:"logprobs,omitempty"`
}

func textPart(text string) OutputPart {
	none := []string{}
	return OutputPart{Type: "output_text", Text: text, Annotations: &none, Logprobs: &none}
}

func reasoningPart(text string) OutputPart { return OutputPart{Type: "reasoning_text", Text: text} }

func reasoningItem(id string) OutputItem {
	return OutputItem{ID: id, Type: "reasoning", Summary: []OutputPart{}}
}

// MarshalJSON keeps a message's content and a reasoning item's summary even when
// empty: clients index them (the SDKs' stream helpers push onto content).
func (it OutputItem) MarshalJSON() ([]byte, error) {
	type plain OutputItem
	switch it.Type {
	case "message":
		return json.Marshal(struct {
			plain
			Content []OutputPart `json:"content"`
		}{plain(it), append([]OutputPart{}, it.Content...)})
	case "reasoning":
		return json.Marshal(struct {
			plain
			Summary []OutputPart `json:"summary"`
		}{plain(it), append([]OutputPart{}, it.Summary...)})
	}
	return json.Marshal(plain(it))
}

// echo builds what the response objects repeat of r.
func (r *ResponsesRequest) echo(c *ResponsesCall, o engine.GenOptions) ResponseEcho {
	e := ResponseEcho{Instructions: r.Instructions, MaxOutputTokens: r.MaxOutputTokens,
		ParallelToolCalls: c.Request.ParallelToolCalls, Store: c.Store, Temperature: float64(o.Sampling.Temperature),
		TopP: float64(o.Sampling.TopP), Truncation: "disabled", User: r.User, Metadata: r.Metadata,
		Tools: r.Tools, ToolChoice: r.ToolChoice}
	if e.TopP == 0 {
		e.TopP = 1
	}
	if r.PreviousResponseID != "" {
		id := r.PreviousResponseID
		e.PreviousResponseID = &id
	}
	if r.Truncation != nil {
		e.Truncation = *r.Truncation
	}
	if r.Reasoning != nil {
		e.Reasoning.Effort = r.Reasoning.Effort
	}
	if e.Tools == nil {
		e.Tools = []ResponseTool{}
	}
	for i := range e.Tools {
		if e.Tools[i].Strict == nil {
			strict := true
			e.Tools[i].Strict = &strict
		}
	}
	if !present(e.ToolChoice) {
		e.ToolChoice = json.RawMessage(`"auto"`)
	}
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	e.Text.Format = json.RawMessage(`{"type":"text"}`)
	if r.Text != nil && r.Text.Format != nil {
		if b, err := json.Marshal(r.Text.Format); err == nil {
			e.Text.Format = b
		}
	}
	return e
}

// NewResponse is a response object in progress, without output.
func NewResponse(id string, created int64, model string, echo ResponseEcho) Response {
	return Response{ID: id, Object: "response", CreatedAt: created, Status: "in_progress", Model: model,
		Output: []OutputItem{}, ResponseEcho: echo}
}

// Finish completes r with its output and the engine's result: status, the
// reason an incomplete answer stopped, and usage. reasoningTokens is how many of
// the output tokens were reasoning.
func (r *Response) Finish(output []OutputItem, res *engine.Result, reasoningTokens int) {
	r.Output = output
	r.Status = "completed"
	if res.FinishReason == "length" {
		r.Status = "incomplete"
		r.IncompleteDetails = &IncompleteDetails{Reason: "max_output_tokens"}
	}
	u := res.Usage
	r.Usage = &ResponseUsage{InputTokens: u.PromptTokens, InputTokensDetails: CachedDetail{u.CachedTokens},
		OutputTokens: u.CompletionTokens, OutputTokensDetails: OutputDetail{min(reasoningTokens, u.CompletionTokens)},
		TotalTokens: u.PromptTokens + u.CompletionTokens}
}

// OutputFrom converts a finished answer into output items: reasoning, then the
// message (when there is text, or nothing else), then the function calls.
func OutputFrom(res *engine.Result) []OutputItem {
	var out []OutputItem
	if res.Reasoning != "" {
		it := reasoningItem(NewID("rs_"))
		it.Content = []OutputPart{reasoningPart(res.Reasoning)}
		out = append(out, it)
	}
	if res.Content != "" || len(res.ToolCalls) == 0 {
		out = append(out, OutputItem{ID: NewID("msg_"), Type: "message", Status: outputStatus(res), Role: "assistant",
			Content: []OutputPart{textPart(res.Content)}})
	}
	for _, tc := range res.ToolCalls {
		args := string(tc.Arguments)
		out = append(out, OutputItem{ID: NewID("fc_"), Type: "function_call", Status: "completed",
			CallID: tc.ID, Name: tc.Name, Arguments: &args})
	}
	return out
}

func outputStatus(res *engine.Result) string {
	if res.FinishReason == "length" {
		return "incomplete"
	}
	return "completed"
}

// History is the assistant turn of output, for the conversation a later request
// continues with previous_response_id.
func History(output []OutputItem) engine.Message {
	m := engine.Message{Role: "assistant"}
	for _, it := range output {
		switch it.Type {
		case "reasoning":
			for _, p := range it.Content {
				m.Reasoning += p.Text
			}
		case "message":
			for _, p := range it.Content {
				m.Content += p.Text
			}
		case "function_call":
			args := json.RawMessage(`{}`)
			if it.Arguments != nil && json.Valid([]byte(*it.Arguments)) {
				args = json.RawMessage(*it.Arguments)
			}
			m.ToolCalls = append(m.ToolCalls, engine.ToolCall{ID: it.CallID, Name: it.Name, Arguments: args})
		}
	}
	return m
}
