package route

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

// conversion is how one request goes to one backend: the path and body to send,
// and how the answer comes back (as is, or translated).
type conversion struct {
	path      string
	body      []byte
	response  func(body []byte) ([]byte, Usage, error)
	newStream func() translate.Stream
	// lends says the stream keeps nothing of an event past its Event call,
	// and what it returns is sent before the next: the relay then hands it
	// its read buffer instead of a copy per event.
	lends bool
}

// newConversion prepares req for cfg, asking for model ("" = the client's).
func newConversion(req *Request, cfg Backend, model string) (*conversion, error) {
	clientModel := req.Model
	if clientModel == "" {
		clientModel = ModelOf(req.Body)
	}
	if model == "" {
		model = clientModel
	}
	meta := translate.Meta{Model: clientModel, Created: time.Now().Unix()}
	fromAnthropic := req.Protocol == AnthropicMessages
	toAnthropic := cfg.Kind == KindAnthropic
	refuse := func(err error) (*conversion, error) {
		return nil, &Error{Status: http.StatusBadRequest, Backend: cfg.Name,
			Message: fmt.Sprintf("backend %s (%s): %v", cfg.Name, cfg.Kind, err)}
	}
	switch {
	case fromAnthropic == toAnthropic:
		body, includeUsage, err := passThroughBody(req, model)
		if err != nil {
			return refuse(err)
		}
		return &conversion{path: req.Protocol, body: body, response: usageOnly, lends: true,
			newStream: func() translate.Stream { return &passThrough{dropUsageChunk: !includeUsage} }}, nil
	case toAnthropic && req.Protocol == OpenAIChat:
		body, opts, err := translate.ChatToMessagesRequest(req.Body, model)
		if err != nil {
			return refuse(err)
		}
		return &conversion{path: AnthropicMessages, body: body,
			response:  func(b []byte) ([]byte, Usage, error) { return translate.MessageToChat(b, meta) },
			newStream: func() translate.Stream { return translate.NewMessagesToChat(meta, opts.IncludeUsage) }}, nil
	case toAnthropic:
		return refuse(fmt.Errorf("an Anthropic backend serves chat only, not %s", req.Protocol))
	default: // Anthropic client, OpenAI-compatible backend
		body, _, err := translate.MessagesToChatRequest(req.Body, model)
		if err != nil {
			return refuse(err)
		}
		return &conversion{path: OpenAIChat, body: body,
			response:  func(b []byte) ([]byte, Usage, error) { return translate.ChatToMessage(b, meta) },
			newStream: func() translate.Stream { return translate.NewChatToMessages(meta) }}, nil
	}
}

// passThroughBody is the client's body with the model rewritten and, for an
// OpenAI stream, usage asked for. includeUsage says whether the client asked.
func passThroughBody(req *Request, model string) (body []byte, includeUsage bool, err error) {
	return rewriteBody(req.Body, model, req.Protocol == OpenAIChat || req.Protocol == OpenAICompletions)
}

// usageOnly passes an answer through and reads its usage.
func usageOnly(body []byte) ([]byte, Usage, error) {
	u, _ := translate.UsageOf(body)
	return body, u, nil
}

// passThrough sends every event as it came and reads the usage on the way. The
// usage chunk the router asked for is dropped when the client did not. It
// notices a stream that ends before its end ([DONE], message_stop), and an error
// the backend sent in the stream, which reaches the client as it is.
type passThrough struct {
	out            [1]translate.Event // what Event returns: one allocation fewer an event
	dropUsageChunk bool
	usage          Usage
	done           bool
	relayed        string // the error event the backend sent, if any
}

func (p *passThrough) Event(ev translate.Event) ([]translate.Event, error) {
	switch {
	case ev.Name == "message_stop" || string(ev.Data) == "[DONE]":
		p.done = true
	case ev.Name == "error" || bytes.Contains(ev.Data, []byte(`"error"`)) && streamErrorEvent(ev.Data):
		p.relayed = upstreamMessage(0, ev.Data, "")
	}
	// Most events are tokens: decoding each one for a usage it does not have
	// cost more than relaying it.
	if len(ev.Data) > 0 && ev.Data[0] == '{' && bytes.Contains(ev.Data, []byte(`"usage"`)) {
		if u, ok, chunkOnly := usageOf(ev.Data); ok {
			if ev.Name == "message_delta" { // Anthropic: output here, input in message_start
				if u.Input == 0 {
					u.Input = p.usage.Input
				}
			}
			p.usage = u
			if p.dropUsageChunk && chunkOnly {
				return nil, nil
			}
		}
	}
	p.out[0] = ev
	return p.out[:], nil
}

func (p *passThrough) End() ([]translate.Event, error) {
	switch {
	case p.relayed != "":
		return nil, &relayedError{p.relayed}
	case !p.done:
		return nil, errors.New("the stream ended before it finished")
	}
	return nil, nil
}

// relayedError is an error the backend put in its stream, already passed on.
type relayedError struct{ msg string }

func (e *relayedError) Error() string { return e.msg }

// streamErrorEvent reports an OpenAI stream's error object: {"error":{...}}.
func streamErrorEvent(data []byte) bool {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	return json.Unmarshal(data, &v) == nil && len(v.Error) > 0 && string(v.Error) != "null"
}

func (p *passThrough) Usage() Usage { return p.usage }

// usageChunkOnly reports OpenAI's closing usage chunk, whose choices are empty.
func usageChunkOnly(data []byte) bool {
	var v struct {
		Choices []json.RawMessage `json:"choices"`
	}
	return json.Unmarshal(data, &v) == nil && len(v.Choices) == 0
}
