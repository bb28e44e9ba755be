package chat

import (
	"fmt"
	"strings"
)

// Format names how a model family writes tool calls in its output.
type Format string

const (
	FormatNone       Format = "none"        // no tool calls: all output is content
	FormatHermes     Format = "hermes"      // <tool_call>{"name":..,"arguments":..}</tool_call> (Hermes, Qwen2.5, Qwen3)
	FormatLlama3     Format = "llama3"      // {"name":..,"parameters":..} or <|python_tag|>{...} (Llama 3.1/3.2)
	FormatMistral    Format = "mistral"     // [TOOL_CALLS][{...}] or [TOOL_CALLS]name[ARGS]{...}
	FormatQwen3Coder Format = "qwen3-coder" // <tool_call><function=f><parameter=p>v</parameter></function></tool_call>
	// FormatHarmony is gpt-oss's channels (harmony.go): reasoning, content
	// and calls to=functions.NAME all come from it, <think> is not used.
	FormatHarmony Format = "harmony"
)

var formats = []Format{FormatNone, FormatHermes, FormatLlama3, FormatMistral, FormatQwen3Coder, FormatHarmony}

// ParseFormat returns the format with the given name, for overrides in
// configuration.
func ParseFormat(name string) (Format, error) {
	for _, f := range formats {
		if string(f) == strings.ToLower(strings.TrimSpace(name)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown tool call format %q", name)
}

// DetectFormat guesses the tool call format from the chat template source
// (what the template teaches the model to emit) and, when the template says
// nothing, from config.json's model_type.
func DetectFormat(templateSource, modelType string) Format {
	src := templateSource
	switch {
	case strings.Contains(src, "<|channel|>") && strings.Contains(src, "<|message|>"):
		return FormatHarmony
	case strings.Contains(src, "<function=") && strings.Contains(src, "<parameter="):
		return FormatQwen3Coder
	case strings.Contains(src, "[TOOL_CALLS]"):
		return FormatMistral
	case strings.Contains(src, "<tool_call>"):
		return FormatHermes
	case strings.Contains(src, "<|python_tag|>"),
		strings.Contains(src, "<|start_header_id|>") && strings.Contains(src, `"parameters"`):
		return FormatLlama3
	}
	switch strings.ToLower(modelType) {
	case "qwen2", "qwen2_moe", "qwen3", "qwen3_moe":
		return FormatHermes
	case "mistral", "mixtral":
		if src == "" {
			return FormatMistral
		}
	case "gpt_oss":
		return FormatHarmony
	}
	return FormatNone
}

// DetectReasoning reports whether a template's model writes its reasoning
// between <think> and </think>.
func DetectReasoning(templateSource string) bool {
	return strings.Contains(templateSource, "</think>")
}

// StartsInReasoning reports whether a rendered prompt already opened the
// reasoning block (DeepSeek-R1 style templates end the generation prompt
// with "<think>\n"), so the output begins inside it.
func StartsInReasoning(prompt string) bool {
	return strings.HasSuffix(strings.TrimRight(prompt, pyWhitespace), thinkOpen)
}
