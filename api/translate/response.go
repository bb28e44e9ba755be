package translate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// stopToFinish maps Anthropic's stop_reason to OpenAI's finish_reason.
func stopToFinish(stop string) string {
	switch stop {
	case "max_tokens":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

// finishToStop maps OpenAI's finish_reason to Anthropic's stop_reason.
func finishToStop(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// MessageToChat turns an Anthropic message into an OpenAI chat completion.
func MessageToChat(body []byte, meta Meta) ([]byte, Usage, error) {
	var in anResponse
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Usage{}, fmt.Errorf("decode message: %w", err)
	}
	var (
		text, reasoning strings.Builder
		calls           []oaToolCall
	)
	for _, b := range in.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			reasoning.WriteString(b.Thinking)
		case "tool_use":
			var tc oaToolCall
			tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments = b.ID, "function", b.Name, string(b.Input)
			calls = append(calls, tc)
		}
	}
	var ch oaChoice
	ch.Message.Role = "assistant"
	if text.Len() > 0 || len(calls) == 0 {
		s := text.String()
		ch.Message.Content = &s
	}
	ch.Message.ReasoningContent, ch.Message.ToolCalls = reasoning.String(), calls
	ch.FinishReason = "stop"
	if in.StopReason != nil {
		ch.FinishReason = stopToFinish(*in.StopReason)
	}
	u := Usage{Input: in.Usage.InputTokens, Output: in.Usage.OutputTokens}
	out := struct {
		oaCompletion
		Object  string `json:"object"`
		Created int64  `json:"created"`
	}{oaCompletion{ID: "chatcmpl-" + in.ID, Model: meta.Model, Choices: []oaChoice{ch}, Usage: oaUsageOf(u)}, "chat.completion", meta.Created}
	b, err := json.Marshal(out)
	return b, u, err
}

func oaUsageOf(u Usage) *oaUsage {
	return &oaUsage{PromptTokens: u.Input, CompletionTokens: u.Output, TotalTokens: u.Input + u.Output}
}

// ChatToMessage turns an OpenAI chat completion (its first choice) into an
// Anthropic message.
func ChatToMessage(body []byte, meta Meta) ([]byte, Usage, error) {
	var in oaCompletion
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Usage{}, fmt.Errorf("decode chat completion: %w", err)
	}
	if len(in.Choices) == 0 {
		return nil, Usage{}, fmt.Errorf("the chat completion has no choices")
	}
	ch := in.Choices[0]
	content := []anBlock{}
	if r := ch.Message.ReasoningContent + ch.Message.Reasoning; r != "" {
		content = append(content, anBlock{Type: "thinking", Thinking: r})
	}
	if c := ch.Message.Content; c != nil && *c != "" {
		content = append(content, anBlock{Type: "text", Text: *c})
	}
	for _, tc := range ch.Message.ToolCalls {
		content = append(content, anBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: toolInput(tc.Function.Arguments)})
	}
	var u Usage
	if in.Usage != nil {
		u = Usage{Input: in.Usage.PromptTokens, Output: in.Usage.CompletionTokens}
	}
	stop := finishToStop(ch.FinishReason)
	out := anResponse{ID: "msg_" + strings.TrimPrefix(in.ID, "chatcmpl-"), Type: "message", Role: "assistant", Model: meta.Model,
		Content: content, StopReason: &stop, Usage: anUsage{InputTokens: u.Input, OutputTokens: u.Output}}
	b, err := json.Marshal(out)
	return b, u, err
}

// toolInput is a tool call's arguments as Anthropic's input object; arguments
// that are not a JSON object (a model's broken output) are kept as a string field.
func toolInput(args string) json.RawMessage {
	var obj map[string]json.RawMessage
	if strings.TrimSpace(args) == "" {
		return json.RawMessage("{}")
	}
	if json.Unmarshal([]byte(args), &obj) != nil {
		b, _ := json.Marshal(map[string]string{"_arguments": args})
		return b
	}
	return json.RawMessage(args)
}
