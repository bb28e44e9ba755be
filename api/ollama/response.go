package ollama

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

// MetricsFrom are the timings of a finished generation; load is the time the
// request waited for its model to load, which the engine's TTFT does not hold
// when the handler loaded the model first.
func MetricsFrom(res *engine.Result, load time.Duration) *Metrics {
	return &Metrics{
		TotalDuration:      int64(load + res.Duration),
		LoadDuration:       int64(load),
		PromptEvalCount:    res.Usage.PromptTokens,
		PromptEvalDuration: int64(res.TTFT),
		EvalCount:          res.Usage.CompletionTokens,
		EvalDuration:       int64(max(res.Duration-res.TTFT, 0)),
	}
}

// DoneReason is Ollama's done_reason: it reports a tool call as "stop".
func DoneReason(finish string) string {
	if finish == "length" {
		return "length"
	}
	return "stop"
}

// ToolCallsFrom are the calls of a result as Ollama writes them.
func ToolCallsFrom(calls []engine.ToolCall) []ToolCall {
	if len(calls) == 0 {
		return nil
	}
	out := make([]ToolCall, len(calls))
	for i, c := range calls {
		args := c.Arguments
		if len(args) == 0 {
			args = json.RawMessage("{}")
		}
		out[i] = ToolCall{Function: ToolCallFunction{Index: i, Name: c.Name, Arguments: args}}
	}
	return out
}

// ChatFrom is the answer of a non-streamed /api/chat.
func ChatFrom(name string, now time.Time, res *engine.Result, load time.Duration) ChatResponse {
	return ChatResponse{Model: name, CreatedAt: now.UTC(), Done: true, DoneReason: DoneReason(res.FinishReason),
		Message: Message{Role: "assistant", Content: res.Content, Thinking: res.Reasoning, ToolCalls: ToolCallsFrom(res.ToolCalls)},
		Metrics: MetricsFrom(res, load)}
}

// GenerateFrom is the answer of a non-streamed /api/generate.
func GenerateFrom(name string, now time.Time, res *engine.Result, load time.Duration) GenerateResponse {
	return GenerateResponse{Model: name, CreatedAt: now.UTC(), Response: res.Content, Thinking: res.Reasoning, Done: true,
		DoneReason: DoneReason(res.FinishReason), Metrics: MetricsFrom(res, load)}
}

// DetailsFrom describes a local model.
func DetailsFrom(m engine.ModelInfo) Details {
	d := Details{Format: "safetensors", Family: m.ModelType, ParameterSize: ParameterSize(m.Parameters), QuantizationLevel: strings.ToUpper(m.Quantization)}
	if m.ModelType != "" {
		d.Families = []string{m.ModelType}
	}
	return d
}

// ParameterSize writes a parameter count as Ollama does: "8.0B", "137M".
func ParameterSize(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%dM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%dK", n/1e3)
	}
	return fmt.Sprintf("%d", n)
}

// ListModelFrom is a local model as /api/tags lists it.
func ListModelFrom(m engine.ModelInfo, digest string) ListModel {
	return ListModel{Name: m.ID, Model: m.ID, ModifiedAt: m.Modified.UTC(), Size: m.SizeBytes, Digest: digest, Details: DetailsFrom(m)}
}

// Digest stands for the content digest Ollama gives a model: a hash of what
// identifies this copy (id, size, time written), so it changes when the model
// is downloaded again. The CLI's local listing and /api/tags agree on it.
func Digest(m engine.ModelInfo) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", m.ID, m.SizeBytes, m.Modified.UnixNano())))
	return hex.EncodeToString(sum[:])
}
