package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// MessagesRequest is the body of POST /v1/messages, Anthropic's Messages API.
type MessagesRequest struct {
	Model         string             `json:"model"`
	Messages      []AnthropicMessage `json:"messages"`
	MaxTokens     *int               `json:"max_tokens"`
	System        json.RawMessage    `json:"system"` // string or text blocks
	StopSequences []string           `json:"stop_sequences"`
	Stream        bool               `json:"stream"`
	Temperature   *float64           `json:"temperature"`
	TopP          *float64           `json:"top_p"`
	TopK          *int               `json:"top_k"`
	Tools         []AnthropicTool    `json:"tools"`
	ToolChoice    *AnthropicChoice   `json:"tool_choice"`
	Thinking      *Thinking          `json:"thinking"`
	Metadata      json.RawMessage    `json:"metadata"`     // user_id: informational
	ServiceTier   json.RawMessage    `json:"service_tier"` // informational

	Container         json.RawMessage `json:"container"`
	MCPServers        json.RawMessage `json:"mcp_servers"`
	ContextManagement json.RawMessage `json:"context_management"`

	KeepAlive json.RawMessage `json:"keep_alive"`
	TTL       *int            `json:"ttl"`
}

// AnthropicMessage is one turn: user or assistant.
type AnthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"` // string or blocks
}

// Block is a content block of a request.
type Block struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Citations    json.RawMessage `json:"citations"`
	CacheControl json.RawMessage `json:"cache_control"` // prompt caching hint: informational
	ID           string          `json:"id"`            // tool_use
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"` // tool_result
	Content      json.RawMessage `json:"content"`
	IsError      *bool           `json:"is_error"`
	Thinking     string          `json:"thinking"` // thinking
	Signature    string          `json:"signature"`
	Data         string          `json:"data"` // redacted_thinking
	Source       json.RawMessage `json:"source"`
	Title        json.RawMessage `json:"title"`
	Context      json.RawMessage `json:"context"`
}

// AnthropicTool is a client tool.
type AnthropicTool struct {
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// AnthropicChoice is tool_choice.
type AnthropicChoice struct {
	Type                   string `json:"type"` // auto, any, tool, none
	Name                   string `json:"name"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use"`
}

// Thinking switches extended thinking on or off.
type Thinking struct {
	Type         string `json:"type"` // enabled, disabled
	BudgetTokens *int   `json:"budget_tokens"`
}

// Messages is a validated Messages request.
type Messages struct {
	Request engine.ChatRequest
	Stream  bool
}

// Engine validates r and converts it for the engine.
func (r *MessagesRequest) Engine(d Defaults) (*Messages, error) {
	switch {
	case present(r.Container):
		return nil, unsupported("container", "containers are not supported")
	case present(r.MCPServers):
		return nil, unsupported("mcp_servers", "MCP servers are not supported")
	case present(r.ContextManagement):
		return nil, unsupported("context_management", "context management is not supported")
	case r.Model == "":
		return nil, paramErr("model", "field required")
	case r.MaxTokens == nil:
		return nil, paramErr("max_tokens", "field required")
	case *r.MaxTokens < 1:
		return nil, paramErr("max_tokens", "must be >= 1, got %d", *r.MaxTokens)
	case len(r.StopSequences) > MaxStops:
		return nil, paramErr("stop_sequences", "at most %d stop sequences, got %d", MaxStops, len(r.StopSequences))
	}
	for i, s := range r.StopSequences {
		if s == "" {
			return nil, paramErr(fmt.Sprintf("stop_sequences[%d]", i), "stop sequences must not be empty")
		}
	}
	s := sampling{Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK, MaxTemperature: 1}
	params, err := s.params(d)
	if err != nil {
		return nil, err
	}
	opts := engine.GenOptions{MaxTokens: *r.MaxTokens, Sampling: params, Stop: r.StopSequences, ContextSize: d.ContextLength}
	if opts.KeepAlive, err = keepAlive(r.KeepAlive, r.TTL, d); err != nil {
		return nil, err
	}
	system, err := systemText(r.System)
	if err != nil {
		return nil, err
	}
	if system == "" {
		system = d.SystemPrompt
	}
	msgs, err := anthropicMessages(r.Messages, system)
	if err != nil {
		return nil, err
	}
	req := engine.ChatRequest{Model: r.Model, Messages: msgs, Options: opts, ParallelToolCalls: true, ToolFormat: d.ToolFormat}
	if d.Model != "" {
		req.Model = d.Model
	}
	// A final assistant message is a prefill: the answer continues it.
	req.ContinueFinal = r.Messages[len(r.Messages)-1].Role == "assistant"
	if err := r.tools(&req); err != nil {
		return nil, err
	}
	if r.Thinking != nil {
		switch r.Thinking.Type {
		case "enabled":
			// budget_tokens is a target, not a limit, in Anthropic's API too; max_tokens bounds the whole answer.
			if b := r.Thinking.BudgetTokens; b == nil || *b < 1 || *b >= *r.MaxTokens {
				return nil, paramErr("thinking.budget_tokens", "must be >= 1 and less than max_tokens")
			}
			req.TemplateVars = map[string]any{"enable_thinking": true}
		case "disabled":
			req.TemplateVars = map[string]any{"enable_thinking": false}
		default:
			return nil, paramErr("thinking.type", "must be enabled or disabled, got %q", r.Thinking.Type)
		}
	}
	return &Messages{Request: req, Stream: r.Stream}, nil
}

func (r *MessagesRequest) tools(req *engine.ChatRequest) error {
	if len(r.Tools) > MaxTools {
		return paramErr("tools", "at most %d tools, got %d", MaxTools, len(r.Tools))
	}
	for i, t := range r.Tools {
		p := fmt.Sprintf("tools[%d]", i)
		if t.Type != "" && t.Type != "custom" {
			return unsupportedValue(p+".type", "server tools are not supported, got %q", t.Type)
		}
		if !toolName.MatchString(t.Name) {
			return paramErr(p+".name", "must be 1-%d letters, digits, underscores or dashes, got %q", maxNameLen, t.Name)
		}
		if !present(t.InputSchema) || t.InputSchema[0] != '{' {
			return paramErr(p+".input_schema", "must be a JSON Schema object")
		}
		req.Tools = append(req.Tools, engine.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	c := r.ToolChoice
	if c == nil {
		return nil
	}
	if c.DisableParallelToolUse != nil {
		req.ParallelToolCalls = !*c.DisableParallelToolUse
	}
	switch c.Type {
	case "auto", "none":
		req.ToolChoice = engine.ToolChoice{Mode: c.Type}
	case "any":
		req.ToolChoice = engine.ToolChoice{Mode: "required"}
	case "tool":
		if c.Name == "" {
			return paramErr("tool_choice.name", "is required with type tool")
		}
		req.ToolChoice = engine.ToolChoice{Mode: "function", Name: c.Name}
	default:
		return paramErr("tool_choice.type", "must be auto, any, tool or none, got %q", c.Type)
	}
	if c.Type != "tool" && c.Name != "" {
		return paramErr("tool_choice.name", "only allowed with type tool")
	}
	return nil
}

// systemText reads system: a string or a list of text blocks.
func systemText(raw json.RawMessage) (string, error) {
	blocks, err := blockList(raw, "system")
	if err != nil {
		return "", err
	}
	var parts []string
	for i, b := range blocks {
		if b.Type != "text" {
			return "", paramErr(fmt.Sprintf("system[%d].type", i), "system blocks must be text, got %q", b.Type)
		}
		parts = append(parts, b.Text)
	}
	return strings.Join(parts, "\n"), nil
}

// blockList reads content that is a string (one text block) or a list of blocks.
func blockList(raw json.RawMessage, p string) ([]Block, error) {
	if !present(raw) {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, paramErr(p, "%v", err)
		}
		return []Block{{Type: "text", Text: s}}, nil
	case '[':
		var blocks []Block
		if err := decodeStrict(raw, p, &blocks); err != nil {
			return nil, err
		}
		return blocks, nil
	}
	return nil, typeErr(p, "a string or an array of content blocks", raw)
}
