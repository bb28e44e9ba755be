// Package chat turns conversations into prompts and model output back into
// structured parts.
//
// # Templates
//
// Load reads a model's chat template (chat_template.jinja, chat_template.json
// or tokenizer_config.json, named "default"/"tool_use" variants included,
// ChatML when there is none) and Template.Render renders it the way
// transformers' apply_chat_template does: messages, tools (key order kept),
// add_generation_prompt, bos_token, eos_token, extra switches such as
// enable_thinking, raise_exception and strftime_now. Rendering uses
// github.com/ardanlabs/jinja; testdata/golden holds Python Jinja2 output for
// real templates and the tests require byte-identical results. Where Python
// raises a TypeError (str + None) the library coerces instead; a template's
// own raise_exception always fails, as *RaiseError. An assistant turn that
// only calls tools (content null from OpenAI clients) gets content "",
// except in templates that test content for None (DeepSeek's): as None,
// Qwen3's template raises and Llama 3's prints "None" into the prompt.
//
// Rendered.Content lists the byte ranges that came from message text, so
// the tokenizer can refuse to turn a "<|im_start|>" typed by a user into a
// special token. They are found by a second render with private-use markers
// in place of the texts (see spans.go). That render is skipped when
// Input.Inert says no text needs a span (the tokenizer could match no added
// token in or across any of them), which is most chats.
//
// # Sandbox
//
// Templates come from downloaded models and are untrusted. The library has
// no file, network or environment access, but alone it lets a recursive
// macro overflow the Go stack (killing the process) and a huge range run
// without bound. Parse therefore rewrites the template source (sandbox.go):
// every loop iteration, macro and caller call goes through a guard that
// enforces Limits (steps, call depth, output and value size), range and
// iterables are checked before they are expanded, and constructs that could
// bypass the guards (calls in macro defaults, the reserved __mlx names, deep
// bracket nesting, sources over MaxTemplateSize) are refused with
// ErrUnsafeTemplate. A single expression can still build a value up to the
// library's own 64 MiB repetition limit before a guard sees it, and quadratic
// work on deeply nested values inside one filter call is bounded only by the
// step limit.
//
// # Output parsing
//
// A Parser, fed generated text in any pieces, emits content, reasoning
// (<think>...</think>, also when the prompt already opened it) and tool calls
// in the family's Format (Hermes/Qwen, Llama 3, Mistral, Qwen3-Coder XML,
// and gpt-oss's harmony channels, where analysis is the reasoning and a
// message to=functions.NAME a call: harmony.go),
// holding back text that may be the start of a tag. ParseOutput gives the
// same Result in one call: every decision depends on the text alone, never
// on where it was split, and nothing emitted is ever taken back.
//
// A tool call is therefore held back from its marker until it is decided,
// then emitted whole. It is a call once its JSON object (Qwen3-Coder: its
// </function>) is complete and well-formed, with a non-empty name and an
// object as arguments (or a string holding one). It is content, marker and
// all, as soon as a byte breaks the syntax (checked as strictly as
// encoding/json, so prose after a marker is released at once), when the
// output ends first (a call cut by max_tokens), or when it is still open
// after maxCallSize (256 KiB) of text. Arguments are passed on as the model
// wrote them (Qwen3-Coder's XML is converted to a JSON object, its values
// typed by Options.StringParams where the tools' schemas say they are
// strings); callers validate them against the tool's schema. DetectFormat
// picks the Format from the template source and model type; ParseFormat
// reads an override.
//
// The package depends on no other engine package and imports no HTTP code.
package chat
