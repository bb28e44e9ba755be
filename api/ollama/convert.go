package ollama

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Error is a request the conversion refuses, naming the field at fault.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func fieldErr(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Defaults are what a profile sets for the requests that name it.
type Defaults struct {
	Model         string // the model the profile runs; "" keeps the request's
	SystemPrompt  string
	Temperature   *float64
	TopP          *float64
	MaxTokens     *int
	ContextLength int
	KeepAlive     *time.Duration
	ToolFormat    string
}

// ollamaTemperature is Ollama's default temperature (OpenAI's is 1).
const ollamaTemperature = 0.8

// Decode reads a JSON object body into v, ignoring unknown fields as Ollama does.
func Decode(data []byte, v any) error {
	raw := bytes.TrimSpace(data)
	if len(raw) == 0 || raw[0] != '{' {
		return fieldErr("", "the request body must be a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldErr(te.Field, "must be %s, got JSON %s", te.Type, te.Value)
		}
		return fieldErr("", "invalid JSON body: %v", err)
	}
	return nil
}

// Streaming reports whether a request streams: Ollama streams unless told not to.
func Streaming(stream *bool) bool { return stream == nil || *stream }

// Options that change nothing on this engine (hardware placement, memory
// mapping) are accepted; sampling options it cannot honour are refused, since
// silently ignoring them would change the answer.
var (
	ignoredOptions = map[string]bool{"num_gpu": true, "main_gpu": true, "num_thread": true, "num_batch": true,
		"use_mmap": true, "use_mlock": true, "numa": true, "low_vram": true, "vocab_only": true, "num_keep": true, "f16_kv": true,
		"penalize_newline": true} // Ollama itself no longer reads penalize_newline
	// neutralOptions are sampling options this engine lacks, with the value at
	// which they change nothing: clients such as Open WebUI send them at that value.
	neutralOptions = map[string]float64{"typical_p": 1, "mirostat": 0, "tfs_z": 1}
)

const supportedOptions = "temperature, top_p, top_k, min_p, seed, num_predict, stop, num_ctx, repeat_penalty, presence_penalty, frequency_penalty"

// genOptions converts "options" (and keep_alive) to the engine's, starting from
// the profile's defaults and Ollama's.
func genOptions(opts map[string]json.RawMessage, keepAlive json.RawMessage, d Defaults) (engine.GenOptions, error) {
	g := engine.GenOptions{Sampling: engine.SamplingParams{Temperature: ollamaTemperature}, ContextSize: d.ContextLength, KeepAlive: d.KeepAlive}
	if d.Temperature != nil {
		g.Sampling.Temperature = *d.Temperature
	}
	if d.TopP != nil {
		g.Sampling.TopP = *d.TopP
	}
	if d.MaxTokens != nil {
		g.MaxTokens = *d.MaxTokens
	}
	for key, raw := range opts {
		field := "options." + key
		if string(raw) == "null" {
			continue
		}
		var err error
		switch key {
		case "temperature":
			g.Sampling.Temperature, err = number(raw, field, 0, 2)
		case "top_p":
			g.Sampling.TopP, err = number(raw, field, 0, 1)
		case "min_p":
			g.Sampling.MinP, err = number(raw, field, 0, 1)
		case "repeat_penalty":
			var v float64
			if v, err = number(raw, field, 0, 10); err == nil && v > 0 {
				g.Sampling.RepetitionPenalty = v
			}
		case "presence_penalty":
			g.Sampling.PresencePenalty, err = number(raw, field, -2, 2)
		case "frequency_penalty":
			g.Sampling.FrequencyPenalty, err = number(raw, field, -2, 2)
		case "top_k":
			g.Sampling.TopK, err = integer(raw, field, 0, math.MaxInt32)
		case "seed":
			var v int
			if v, err = integer(raw, field, math.MinInt64, math.MaxInt64); err == nil {
				s := int64(v)
				g.Sampling.Seed = &s
			}
		case "num_predict":
			// Ollama: -1 generates until the end (and -2 until the context is full).
			var v int
			if v, err = integer(raw, field, -2, math.MaxInt32); err == nil {
				g.MaxTokens = max(v, 0)
			}
		case "num_ctx":
			g.ContextSize, err = integer(raw, field, 1, math.MaxInt32)
		case "stop":
			if err = json.Unmarshal(raw, &g.Stop); err != nil {
				err = fieldErr(field, "must be a list of strings")
			}
		case "repeat_last_n", "mirostat_tau", "mirostat_eta":
			// Checked below, once the options they qualify are known.
		default:
			neutral, known := neutralOptions[key]
			switch {
			case ignoredOptions[key]:
			case known:
				var v float64
				if json.Unmarshal(raw, &v) != nil || v != neutral {
					err = fieldErr(field, "is not supported by this server (only %g, which changes nothing, is accepted); supported: %s", neutral, supportedOptions)
				}
			default:
				err = fieldErr(field, "unknown option (supported: %s)", supportedOptions)
			}
		}
		if err != nil {
			return g, err
		}
	}
	// repeat_penalty here covers every token seen; repeat_last_n may only say
	// the same (-1: the whole context) unless no repeat penalty applies.
	if raw, ok := opts["repeat_last_n"]; ok && string(raw) != "null" {
		n, err := integer(raw, "options.repeat_last_n", -1, math.MaxInt32)
		if err != nil {
			return g, err
		}
		if n != -1 && g.Sampling.RepetitionPenalty != 0 && g.Sampling.RepetitionPenalty != 1 {
			return g, fieldErr("options.repeat_last_n", "only -1 (the whole context) is supported with repeat_penalty, got %d", n)
		}
	}
	for _, key := range []string{"mirostat_tau", "mirostat_eta"} {
		if _, ok := opts[key]; ok {
			if _, err := number(opts[key], "options."+key, 0, math.MaxFloat64); err != nil {
				return g, err
			}
		}
	}
	// The engine reads top_p 0 as "not set"; 0 keeps only the most likely token.
	if g.Sampling.TopP == 0 && bytes.Equal(bytes.TrimSpace(opts["top_p"]), []byte("0")) {
		g.Sampling.TopP, g.Sampling.TopK = 1, 1
	}
	if len(keepAlive) > 0 && string(keepAlive) != "null" {
		ka, err := ParseKeepAlive(keepAlive)
		if err != nil {
			return g, fieldErr("keep_alive", "%v", err)
		}
		g.KeepAlive = &ka
	}
	return g, nil
}

func number(raw json.RawMessage, field string, lo, hi float64) (float64, error) {
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fieldErr(field, "must be a number, got %s", raw)
	}
	if math.IsNaN(v) || v < lo || v > hi {
		return 0, fieldErr(field, "must be in [%g, %g], got %g", lo, hi, v)
	}
	return v, nil
}

func integer(raw json.RawMessage, field string, lo, hi int) (int, error) {
	var v int
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fieldErr(field, "must be an integer, got %s", raw)
	}
	if v < lo || v > hi {
		return 0, fieldErr(field, "must be in [%d, %d], got %d", lo, hi, v)
	}
	return v, nil
}

// ParseKeepAlive reads keep_alive: seconds as a number or a duration string
// ("5m", "1h"); negative keeps the model loaded forever (-1), 0 unloads it after
// the request.
func ParseKeepAlive(raw json.RawMessage) (time.Duration, error) {
	s := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	s = strings.TrimSpace(s)
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || math.Abs(secs) > 1e9 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		d = time.Duration(secs * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("must be seconds or a duration such as \"5m\", got %q", s)
	}
	if d < 0 {
		d = -1
	}
	return d, nil
}

// responseFormat reads format: "json", a JSON schema object, or nothing.
func responseFormat(raw json.RawMessage) (*engine.ResponseFormat, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "json" {
			return nil, fieldErr("format", `must be "json" or a JSON schema object, got %s`, raw)
		}
		return &engine.ResponseFormat{Type: "json_object"}, nil
	case '{':
		return &engine.ResponseFormat{Type: "json_schema", Schema: append(json.RawMessage(nil), raw...), Strict: true}, nil
	}
	return nil, fieldErr("format", `must be "json" or a JSON schema object, got %s`, raw)
}

// think reads think: true/false, or a level ("low", "medium", "high") that
// models with levels take and the others read as true. Unset leaves the
// template's default.
func think(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return map[string]any{"enable_thinking": b}, nil
	}
	var level string
	if err := json.Unmarshal(raw, &level); err == nil {
		switch level {
		case "low", "medium", "high":
			return map[string]any{"enable_thinking": true, "reasoning_effort": level}, nil
		}
	}
	return nil, fieldErr("think", `must be true, false, "low", "medium" or "high", got %s`, raw)
}

func tools(in []Tool) ([]engine.Tool, error) {
	out := make([]engine.Tool, 0, len(in))
	for i, t := range in {
		field := fmt.Sprintf("tools[%d]", i)
		if t.Type != "" && t.Type != "function" {
			return nil, fieldErr(field+".type", `must be "function", got %q`, t.Type)
		}
		if t.Function.Name == "" {
			return nil, fieldErr(field+".function.name", "is required")
		}
		params := t.Function.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, engine.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: params})
	}
	return out, nil
}

// Engine converts the request to the engine's under a profile's defaults.
func (r *ChatRequest) Engine(d Defaults) (engine.ChatRequest, error) {
	var req engine.ChatRequest
	if r.Model == "" {
		return req, fieldErr("model", "is required")
	}
	req.Model = r.Model
	if d.Model != "" {
		req.Model = d.Model
	}
	var err error
	if req.Options, err = genOptions(r.Options, r.KeepAlive, d); err != nil {
		return req, err
	}
	if req.ResponseFormat, err = responseFormat(r.Format); err != nil {
		return req, err
	}
	if req.TemplateVars, err = think(r.Think); err != nil {
		return req, err
	}
	if req.Tools, err = tools(r.Tools); err != nil {
		return req, err
	}
	req.ToolFormat = d.ToolFormat
	req.ParallelToolCalls = true
	hasSystem := false
	calls := 0
	for i, m := range r.Messages {
		field := fmt.Sprintf("messages[%d]", i)
		msg := engine.Message{Role: m.Role, Content: m.Content, Reasoning: m.Thinking}
		if len(m.Images) > 0 {
			if m.Role != "user" {
				return req, fieldErr(field+".images", "only user messages may have images")
			}
			imgs, err := images(m.Images, field+".images")
			if err != nil {
				return req, err
			}
			msg.Images = imgs
		}
		switch m.Role {
		case "system":
			hasSystem = true
		case "user":
		case "assistant":
			for j, tc := range m.ToolCalls {
				args := tc.Function.Arguments
				if len(args) == 0 || string(args) == "null" {
					args = json.RawMessage("{}")
				}
				if args[0] != '{' {
					return req, fieldErr(fmt.Sprintf("%s.tool_calls[%d].function.arguments", field, j), "must be a JSON object")
				}
				calls++
				msg.ToolCalls = append(msg.ToolCalls, engine.ToolCall{ID: "call_" + strconv.Itoa(calls), Name: tc.Function.Name, Arguments: args})
			}
		case "tool":
			// Ollama names the tool, not the call: answer the latest call of that name.
			msg.Name = m.ToolName
			msg.ToolCallID = lastCallID(req.Messages, m.ToolName)
		default:
			return req, fieldErr(field+".role", "must be system, user, assistant or tool, got %q", m.Role)
		}
		req.Messages = append(req.Messages, msg)
	}
	if !hasSystem && d.SystemPrompt != "" {
		req.Messages = append([]engine.Message{{Role: "system", Content: d.SystemPrompt}}, req.Messages...)
	}
	return req, nil
}

func lastCallID(msgs []engine.Message, name string) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		for j := len(msgs[i].ToolCalls) - 1; j >= 0; j-- {
			if tc := msgs[i].ToolCalls[j]; name == "" || tc.Name == name {
				return tc.ID
			}
		}
	}
	return ""
}

// Generation is a converted /api/generate: a chat (the prompt as the user's
// turn under the model's template) or, with raw, a plain completion.
type Generation struct {
	Chat     *engine.ChatRequest
	Complete *engine.CompletionRequest
}

// Engine converts the request under a profile's defaults.
func (r *GenerateRequest) Engine(d Defaults) (Generation, error) {
	var g Generation
	if r.Model == "" {
		return g, fieldErr("model", "is required")
	}
	switch {
	case len(r.Images) > 0 && r.Raw:
		return g, fieldErr("images", "are not supported with raw: true: the model's template places them")
	case r.Suffix != "":
		return g, fieldErr("suffix", "fill-in-the-middle is not supported")
	case r.Template != "":
		return g, fieldErr("template", "custom templates are not supported: the model's own chat template is used (or send raw: true with a formatted prompt)")
	case len(r.Context) > 0:
		return g, fieldErr("context", "is not supported: send the conversation to /api/chat instead")
	}
	model := r.Model
	if d.Model != "" {
		model = d.Model
	}
	opts, err := genOptions(r.Options, r.KeepAlive, d)
	if err != nil {
		return g, err
	}
	format, err := responseFormat(r.Format)
	if err != nil {
		return g, err
	}
	if r.Raw {
		if format != nil {
			return g, fieldErr("format", "is not supported with raw: true")
		}
		g.Complete = &engine.CompletionRequest{Model: model, Prompt: r.Prompt, Options: opts}
		return g, nil
	}
	vars, err := think(r.Think)
	if err != nil {
		return g, err
	}
	system := r.System
	if system == "" {
		system = d.SystemPrompt
	}
	chat := engine.ChatRequest{Model: model, Options: opts, ResponseFormat: format, TemplateVars: vars, ToolFormat: d.ToolFormat}
	if system != "" {
		chat.Messages = append(chat.Messages, engine.Message{Role: "system", Content: system})
	}
	imgs, err := images(r.Images, "images")
	if err != nil {
		return g, err
	}
	chat.Messages = append(chat.Messages, engine.Message{Role: "user", Content: r.Prompt, Images: imgs})
	g.Chat = &chat
	return g, nil
}

// Inputs reads an embed request's input: a string or a list of strings.
func (r *EmbedRequest) Inputs() ([]string, error) {
	raw := bytes.TrimSpace(r.Input)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fieldErr("input", "is required")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fieldErr("input", "must be a string or a list of strings")
	}
	if len(list) == 0 {
		return nil, fieldErr("input", "must not be empty")
	}
	return list, nil
}
