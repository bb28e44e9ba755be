package chat

import (
	"encoding/json"
	"strings"
)

// OpenAI's harmony format (gpt-oss): the output is a sequence of messages,
// each a header and a body,
//
//	<|channel|>analysis<|message|>reasoning…<|end|>
//	<|start|>assistant<|channel|>final<|message|>the answer…<|return|>
//	<|start|>assistant to=functions.NAME<|channel|>commentary <|constrain|>json<|message|>{…}<|call|>
//
// (the recipient " to=functions.NAME" may also follow the channel name).
// The analysis channel is reasoning, final and commentary without a
// recipient are content, and a message to functions.NAME is a call of NAME
// with its body as the arguments. <|return|> and <|call|> end generation
// (they are EOS tokens), so the last message usually ends with the output.

const (
	harmonyMessage = "<|message|>"
	harmonyChannel = "<|channel|>"
	harmonyStart   = "<|start|>"
	// maxHarmonyHeader bounds how much text is held back as a header before
	// it is taken for content: real headers are a few dozen bytes.
	maxHarmonyHeader = 512
)

// harmonyEnds close a message body; <|start|> also opens the next header.
var harmonyEnds = []string{"<|end|>", "<|call|>", "<|return|>", harmonyStart}

type harmonyKind int

const (
	harmonyHeader    harmonyKind = iota // reading a header
	harmonyContent                      // final (or commentary) text
	harmonyReasoning                    // analysis text
	harmonyCall                         // a tool call's arguments
)

// harmonyStage splits harmony output into reasoning, content and calls.
type harmonyStage struct {
	kind harmonyKind
	name string // the function called, in harmonyCall
}

func (h *harmonyStage) process(buf string, final bool, e *emitter) int {
	if buf == "" {
		return 0
	}
	if h.kind == harmonyHeader {
		return h.header(buf, final, e)
	}
	end, at := -1, len(buf)
	for i, t := range harmonyEnds {
		if j := strings.Index(buf, t); j >= 0 && j < at {
			end, at = i, j
		}
	}
	if h.kind == harmonyCall {
		return h.call(buf, end, at, final, e)
	}
	kind := EventContent
	if h.kind == harmonyReasoning {
		kind = EventReasoning
	}
	if end < 0 {
		n := len(buf)
		if !final {
			for _, t := range harmonyEnds {
				n = min(n, len(buf)-partialSuffix(buf, t))
			}
		}
		e.add(kind, 0, buf[:n])
		return n
	}
	e.add(kind, 0, buf[:at])
	h.kind = harmonyHeader
	if harmonyEnds[end] == harmonyStart {
		return at // the header reads it
	}
	return at + len(harmonyEnds[end])
}

// header waits for <|message|> and decides what the body is. Text that
// cannot be a header (a model writing plain text: it does not start with a
// token, or runs past maxHarmonyHeader without <|message|>) is content. The
// same rules hold however the text arrives: whole, in pieces or byte by byte.
func (h *harmonyStage) header(buf string, final bool, e *emitter) int {
	lead := strings.TrimLeft(buf, pyWhitespace)
	looksLike := strings.HasPrefix(lead, "<|") || strings.HasPrefix("<|", lead)
	i := strings.Index(buf, harmonyMessage)
	if i >= 0 && i+len(harmonyMessage) > maxHarmonyHeader {
		i, looksLike = -1, false // streamed, it would have been content before <|message|> arrived
	}
	if i < 0 || !looksLike {
		switch {
		case looksLike && len(buf) < maxHarmonyHeader && !final:
			return 0
		case looksLike && len(buf) < maxHarmonyHeader && final:
			return len(buf) // a header the output ended in: markup, no text
		}
		h.kind = harmonyContent
		return h.process(buf, final, e)
	}
	head := buf[:i]
	channel, recipient := headerField(head, harmonyChannel), headerField(head, " to=")
	if recipient == "" {
		recipient = headerField(head, "to=")
	}
	switch {
	case recipient != "":
		h.kind, h.name = harmonyCall, strings.TrimPrefix(recipient, "functions.")
	case channel == "analysis":
		h.kind = harmonyReasoning
	default:
		h.kind = harmonyContent
	}
	return i + len(harmonyMessage)
}

// headerField is the word after key in a header: up to a space or a token.
func headerField(head, key string) string {
	i := strings.Index(head, key)
	if i < 0 {
		return ""
	}
	v := head[i+len(key):]
	if j := strings.IndexAny(v, " \t\n<"); j >= 0 {
		v = v[:j]
	}
	return v
}

// call holds a call's arguments until its message ends (or the output
// does), then emits the call when they are a JSON object, else the text as
// content. A call cut by the token limit is dropped (Parser.Cut).
func (h *harmonyStage) call(buf string, end, at int, final bool, e *emitter) int {
	if end < 0 && !final {
		if len(buf) > maxCallSize {
			h.kind = harmonyContent // never closed: text after all
			return h.process(buf, final, e)
		}
		return 0
	}
	if end < 0 && e.cut {
		return len(buf)
	}
	args := strings.TrimSpace(buf[:at])
	if strings.HasPrefix(args, "{") && json.Valid([]byte(args)) && h.name != "" {
		i := e.start(h.name)
		e.add(EventToolCallArgs, i, args)
	} else {
		e.add(EventContent, 0, buf[:at])
	}
	h.kind, h.name = harmonyHeader, ""
	if end < 0 {
		return len(buf)
	}
	if harmonyEnds[end] == harmonyStart {
		return at
	}
	return at + len(harmonyEnds[end])
}
