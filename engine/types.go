package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/sample"
)

// Errors the API maps to statuses. Each is wrapped with the details.
var (
	ErrModelNotFound  = errors.New("model not found")         // 404
	ErrUnsupported    = errors.New("model not supported")     // 400: architecture or format we cannot run
	ErrInvalidRequest = errors.New("invalid request")         // 400
	ErrContextLength  = errors.New("context length exceeded") // 400 context_length_exceeded
)

// ContextLengthError says by how much a prompt is too long.
type ContextLengthError struct {
	PromptTokens, MaxTokens, ContextLength int
}

func (e *ContextLengthError) Error() string {
	return fmt.Sprintf("this model's maximum context length is %d tokens, but the request needs %d prompt tokens plus %d completion tokens",
		e.ContextLength, e.PromptTokens, e.MaxTokens)
}

func (e *ContextLengthError) Unwrap() error { return ErrContextLength }

// InvalidError is a request the engine cannot honour, naming the field at fault.
type InvalidError struct {
	Param string // request field, e.g. "response_format.json_schema"
	Err   error
}

func (e *InvalidError) Error() string { return e.Param + ": " + e.Err.Error() }
func (e *InvalidError) Unwrap() []error {
	return []error{ErrInvalidRequest, e.Err}
}

// Message is one chat turn, independent of any wire format.
type Message struct {
	Role       string // system, developer, user, assistant, tool
	Content    string
	Name       string
	ToolCalls  []ToolCall // assistant turns that called tools
	ToolCallID string     // tool turns: the call this answers
	Reasoning  string     // assistant turns: earlier reasoning, for templates that keep it
	Images     []Image    // user turns of vision models: the images, placed in Content (images.go)
}

// ToolCall is a function call made by the model.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage // a JSON object
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema of the arguments; key order is kept
	Strict      bool            // arguments must validate against Parameters
}

// ToolChoice is OpenAI's tool_choice: "auto" (default), "none", "required", or one function by name.
type ToolChoice struct {
	Mode string // auto, none, required, function
	Name string // with Mode "function"
}

// ResponseFormat is OpenAI's response_format.
type ResponseFormat struct {
	Type   string          // text, json_object, json_schema
	Schema json.RawMessage // with json_schema
	Strict bool
}

// GenOptions apply to every generation.
type GenOptions struct {
	MaxTokens   int // 0: up to the end of the context
	Sampling    sample.Params
	Stop        []string
	Logprobs    bool           // report each token's logprob (and Sampling.TopLogprobs alternatives)
	KeepAlive   *time.Duration // how long the model stays loaded after this request; nil = the pool's default
	ContextSize int            // 0: the model's own (or the profile's) context length
}

// ChatRequest is a chat completion.
type ChatRequest struct {
	Model             string
	Messages          []Message
	Tools             []Tool
	ToolChoice        ToolChoice
	ParallelToolCalls bool
	ResponseFormat    *ResponseFormat
	TemplateVars      map[string]any // template switches such as enable_thinking
	ToolFormat        string         // overrides the tool-call format read from the template (chat.ParseFormat names)
	Options           GenOptions
	// ContinueFinal makes the last message, an assistant's, the start of the
	// answer (Anthropic's prefill): the output continues its text.
	ContinueFinal   bool
	ContextOverflow string // what to do when the chat outgrows the window: Overflow* ("": stop)
}

// CompletionRequest continues a raw prompt, without a chat template.
type CompletionRequest struct {
	Model   string
	Prompt  string
	Options GenOptions
}

// TopLogprob is one alternative at a position.
type TopLogprob struct {
	Token   string
	Bytes   []byte
	Logprob float32
}

// TokenLogprob is one generated token with its logprob and the most likely alternatives.
type TokenLogprob struct {
	Token   string
	Bytes   []byte
	Logprob float32
	Top     []TopLogprob
}

// ToolCallDelta is a piece of a streamed tool call: the first piece of a call has its
// ID and Name, later ones add argument text.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// Delta is one streamed piece of an answer.
type Delta struct {
	Content   string
	Reasoning string
	ToolCalls []ToolCallDelta
	Logprobs  []TokenLogprob
}

// Usage counts tokens exactly as the model saw them.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	CachedTokens     int // prompt tokens whose KV cache was reused from the previous request
}

// Result is a finished generation.
type Result struct {
	Model        string // the model id that answered
	Content      string
	Reasoning    string
	ToolCalls    []ToolCall
	FinishReason string // stop, length, tool_calls
	StopSequence string // the stop string that ended the output; "" for EOS, length or a grammar
	Usage        Usage
	Logprobs     []TokenLogprob
	TTFT         time.Duration // request start to first generated token
	Duration     time.Duration
	Backend      string
	Overflow     *Overflow // what the context overflow policy dropped; nil: nothing
	Warning      string    // something the caller should tell the user about this answer
}

// WarnNoChatTemplate is Result.Warning for a chat with a model that ships no
// chat template: a base model, given ChatML it was never trained on.
const WarnNoChatTemplate = "this model has no chat template (it is likely a base model): the chat was written as ChatML, which it was not trained on, so the answer may be gibberish; use the completions endpoint to continue a text"

// TokensPerSecond is the decode speed of the generation, after the first token.
func (r *Result) TokensPerSecond() float64 {
	d := r.Duration - r.TTFT
	if r.Usage.CompletionTokens < 2 || d <= 0 {
		return 0
	}
	return float64(r.Usage.CompletionTokens-1) / d.Seconds()
}

// EmbedRequest asks for one vector per input.
type EmbedRequest struct {
	Model      string
	Inputs     []string
	Tokens     [][]int32 // token-id inputs, used as given (no prompt, no special tokens added); instead of Inputs
	Dimensions int       // 0: the model's size; smaller truncates (Matryoshka, matryoshka.go) then renormalises a normalising model
	// InputType names the model's prompt put before each text input
	// ("query", "document", ...; config_sentence_transformers.json); "": its default.
	InputType string
	// Truncate cuts inputs longer than the model's max_seq_length (keeping
	// the closing special token) and lists them in EmbedResult.Truncated;
	// otherwise a long input is a context-length error.
	Truncate bool
	// AnyModel lets a chat model answer with the mean of its final hidden
	// states, normalised: vectors no retrieval model was trained for.
	AnyModel bool
}

// EmbedResult holds one vector per input, pooled as the model's files say.
type EmbedResult struct {
	Model        string
	Vectors      [][]float32
	PromptTokens int
	Truncated    []int // indexes of the inputs that were cut to the model's length
	MaxTokens    int   // the length they were cut to
}

// ModelInfo describes a local model.
type ModelInfo struct {
	ID            string    `json:"id"` // repo id ("org/name"), "local/<name>" of a registered folder, or folder path
	Path          string    `json:"path"`
	SizeBytes     int64     `json:"size_bytes"`
	Architecture  string    `json:"architecture,omitempty"`
	ModelType     string    `json:"model_type,omitempty"`
	Kind          string    `json:"kind,omitempty"` // KindChat, KindEmbedding or KindReranker
	Parameters    int64     `json:"parameters,omitempty"`
	Quantization  string    `json:"quantization,omitempty"` // "4bit", "8bit", "bf16", ...
	ContextLength int       `json:"context_length,omitempty"`
	Supported     bool      `json:"supported"`
	Unsupported   string    `json:"unsupported_reason,omitempty"`
	Loaded        bool      `json:"loaded"`
	Modified      time.Time `json:"modified"`

	// A model without a chat template is most likely a base model: chat
	// pages should continue text with it through completions.
	NoChatTemplate bool `json:"no_chat_template,omitempty"`
	// Vision: the model reads images in chats (a vision tower that runs
	// here, and for a local model its preprocessor_config.json).
	Vision bool `json:"vision,omitempty"`
	// Registered: a folder an admin registered under its local/ name, not a
	// model of the models dir; deleting it only unregisters it.
	Registered bool `json:"registered,omitempty"`
}

// ParseToolFormat checks a tool-call format name (as a profile or a request's
// tool_format gives it) and returns its canonical spelling.
func ParseToolFormat(name string) (string, error) {
	f, err := chat.ParseFormat(name)
	return string(f), err
}

// SamplingParams are the sampling settings of a request (GenOptions.Sampling).
type SamplingParams = sample.Params
