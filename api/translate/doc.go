// Package translate converts between OpenAI's chat completions and Anthropic's
// Messages API, both ways and streaming included: text, tool calls, reasoning,
// usage and stop reasons. It works on the wire JSON alone (what a remote backend
// sends and expects), so a client of either API can use a backend of the other.
//
// What one side has and the other has not is dropped, not invented: OpenAI's n,
// logprobs and response_format, Anthropic's top_k and cache_control.
//
// Who may import me: api/route.
package translate

import "encoding/json"

// Usage is what a backend counted.
type Usage struct {
	Input  int
	Output int
}

// Event is one Server-Sent Event: Name is empty for OpenAI's unnamed events.
type Event struct {
	Name string
	Data []byte
}

// Meta is what a translated answer says about itself.
type Meta struct {
	Model   string // the model as the client named it
	Created int64  // unix seconds, for OpenAI's created
}

// UsageOf reads the usage of an answer or a stream event in either API:
// OpenAI's usage{prompt_tokens,completion_tokens}, Anthropic's
// usage{input_tokens,output_tokens} at the top or in message_start's message.
func UsageOf(data []byte) (Usage, bool) {
	type usage struct {
		Prompt     *int `json:"prompt_tokens"`
		Completion *int `json:"completion_tokens"`
		Input      *int `json:"input_tokens"`
		Output     *int `json:"output_tokens"`
	}
	var v struct {
		Usage   *usage `json:"usage"`
		Message *struct {
			Usage *usage `json:"usage"`
		} `json:"message"`
	}
	if json.Unmarshal(data, &v) != nil {
		return Usage{}, false
	}
	u := v.Usage
	if u == nil && v.Message != nil {
		u = v.Message.Usage
	}
	if u == nil {
		return Usage{}, false
	}
	var out Usage
	for _, p := range []struct {
		dst *int
		src *int
	}{{&out.Input, u.Prompt}, {&out.Input, u.Input}, {&out.Output, u.Completion}, {&out.Output, u.Output}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return out, true
}
