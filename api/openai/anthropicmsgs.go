package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// anthropicMessages converts the turns of a Messages request. A user turn's
// tool_result blocks become tool messages (answering the calls of the turn
// before), its text one user message; an assistant turn's text, thinking and
// tool_use blocks become one assistant message.
func anthropicMessages(in []AnthropicMessage, system string) ([]engine.Message, error) {
	if len(in) == 0 {
		return nil, paramErr("messages", "at least one message is required")
	}
	if len(in) > MaxMessages {
		return nil, paramErr("messages", "at most %d messages, got %d", MaxMessages, len(in))
	}
	var out []engine.Message
	if system != "" {
		out = append(out, engine.Message{Role: "system", Content: system})
	}
	for i, m := range in {
		p := fmt.Sprintf("messages[%d]", i)
		if !present(m.Content) {
			return nil, paramErr(p+".content", "field required")
		}
		blocks, err := blockList(m.Content, p+".content")
		if err != nil {
			return nil, err
		}
		var msgs []engine.Message
		switch m.Role {
		case "user":
			msgs, err = userTurn(blocks, p+".content")
		case "assistant":
			var am engine.Message
			am, err = assistantTurn(blocks, p+".content")
			msgs = []engine.Message{am}
			if err == nil && i == len(in)-1 {
				err = checkPrefill(am, p)
			}
		default:
			return nil, paramErr(p+".role", "must be user or assistant, got %q", m.Role)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

// checkPrefill applies Anthropic's rules to a final assistant message, which
// the answer continues: text only, not ending in whitespace (a tokenizer would
// split the next word differently than the model learnt).
func checkPrefill(m engine.Message, p string) error {
	switch {
	case len(m.ToolCalls) > 0:
		return paramErr(p+".content", "a final assistant message (prefill) cannot contain tool_use blocks")
	case m.Content != strings.TrimRight(m.Content, " \t\r\n"):
		return paramErr(p+".content", "final assistant content cannot end with trailing whitespace")
	}
	return nil
}

func userTurn(blocks []Block, p string) ([]engine.Message, error) {
	var (
		out     []engine.Message
		text    strings.Builder
		hasText bool
		imgs    []engine.Image
	)
	for j, b := range blocks {
		bp := fmt.Sprintf("%s[%d]", p, j)
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			hasText = true
		case "tool_result":
			if b.ToolUseID == "" {
				return nil, paramErr(bp+".tool_use_id", "field required")
			}
			content, err := toolResultText(b, bp)
			if err != nil {
				return nil, err
			}
			out = append(out, engine.Message{Role: "tool", ToolCallID: b.ToolUseID, Content: content})
		case "image":
			data, err := anthropicImage(b.Source, bp+".source")
			if err != nil {
				return nil, err
			}
			imgs = addImage(imgs, data, text.Len())
		case "document", "search_result":
			return nil, unsupportedValue(bp+".type", "%s blocks are not supported: the models served here read text and images", b.Type)
		default:
			return nil, paramErr(bp+".type", "unexpected block type %q in a user message", b.Type)
		}
	}
	if hasText || len(imgs) > 0 || len(out) == 0 {
		out = append(out, engine.Message{Role: "user", Content: text.String(), Images: imgs})
	}
	return out, nil
}

// toolResultText reads a tool_result's content (a string or text blocks). An
// error result says so, for the model has no other way to know.
func toolResultText(b Block, p string) (string, error) {
	blocks, err := blockList(b.Content, p+".content")
	if err != nil {
		return "", err
	}
	var parts []string
	for k, c := range blocks {
		if c.Type != "text" {
			return "", unsupportedValue(fmt.Sprintf("%s.content[%d].type", p, k), "tool results must be text, got %q", c.Type)
		}
		parts = append(parts, c.Text)
	}
	text := strings.Join(parts, "\n")
	if b.IsError != nil && *b.IsError {
		text = "Error: " + text
	}
	return text, nil
}

func assistantTurn(blocks []Block, p string) (engine.Message, error) {
	m := engine.Message{Role: "assistant"}
	var text, reasoning strings.Builder
	for j, b := range blocks {
		bp := fmt.Sprintf("%s[%d]", p, j)
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			reasoning.WriteString(b.Thinking)
		case "redacted_thinking":
			// Encrypted reasoning of another provider's model: nothing a local model can read.
		case "tool_use":
			if b.ID == "" || b.Name == "" {
				return m, paramErr(bp, "tool_use blocks need an id and a name")
			}
			input := b.Input
			if !present(input) {
				input = json.RawMessage(`{}`)
			}
			if input[0] != '{' {
				return m, typeErr(bp+".input", "an object", input)
			}
			m.ToolCalls = append(m.ToolCalls, engine.ToolCall{ID: b.ID, Name: b.Name, Arguments: input})
		default:
			return m, paramErr(bp+".type", "unexpected block type %q in an assistant message", b.Type)
		}
	}
	m.Content, m.Reasoning = text.String(), reasoning.String()
	return m, nil
}

// MessageResponse is the answer of a non-streamed Messages request.
type MessageResponse struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Role         string         `json:"role"`
	Model        string         `json:"model"`
	Content      []any          `json:"content"`
	StopReason   *string        `json:"stop_reason"`
	StopSequence *string        `json:"stop_sequence"`
	Usage        AnthropicUsage `json:"usage"`
}

// AnthropicUsage counts tokens. Nothing is written to a prompt cache on request,
// so cache_creation_input_tokens stays 0.
type AnthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// anthropicUsage splits the prompt as Anthropic does: input_tokens are the ones
// computed, cache_read_input_tokens the ones the KV cache of the previous request
// already held.
func anthropicUsage(u engine.Usage) AnthropicUsage {
	return AnthropicUsage{InputTokens: u.PromptTokens - u.CachedTokens, OutputTokens: u.CompletionTokens, CacheReadInputTokens: u.CachedTokens}
}

// TextBlock, ThinkingBlock and ToolUseBlock are the blocks of an answer.
type TextBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type ThinkingBlock struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
}

type ToolUseBlock struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// MessageFrom converts a finished generation.
func MessageFrom(m Meta, res *engine.Result) MessageResponse {
	reason, seq := StopReason(res)
	out := MessageResponse{ID: m.ID, Type: "message", Role: "assistant", Model: m.Model, Content: []any{},
		StopReason: &reason, StopSequence: seq,
		Usage: anthropicUsage(res.Usage)}
	if res.Reasoning != "" {
		out.Content = append(out.Content, ThinkingBlock{Type: "thinking", Thinking: res.Reasoning})
	}
	if res.Content != "" || len(res.ToolCalls) == 0 && res.Reasoning == "" {
		out.Content = append(out.Content, TextBlock{Type: "text", Text: res.Content})
	}
	for _, tc := range res.ToolCalls {
		out.Content = append(out.Content, ToolUseBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: toolInput(tc.Arguments)})
	}
	return out
}

// toolInput is a call's arguments as an object; text a model wrote that is not one
// is kept as a string under "arguments" rather than breaking the response.
func toolInput(args json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(args, &obj) == nil && obj != nil {
		return args
	}
	b, _ := json.Marshal(map[string]string{"arguments": string(args)})
	return b
}

// StopReason maps the engine's finish reason to Anthropic's stop_reason.
func StopReason(res *engine.Result) (reason string, stopSequence *string) {
	switch {
	case res.FinishReason == "length":
		return "max_tokens", nil
	case res.FinishReason == "tool_calls":
		return "tool_use", nil
	case res.StopSequence != "":
		seq := res.StopSequence
		return "stop_sequence", &seq
	}
	return "end_turn", nil
}
