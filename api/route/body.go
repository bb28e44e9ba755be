package route

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"fmt"
	"io"
	"slices"
)

// A pass-through body is the client's bytes with one or two values replaced in
// place: re-encoding the whole request (a map of every field, sorted, escaped
// again) cost a long chat's size in allocations on the way to the first byte
// (issue #24), and the issue asks that the body pass "unchanged except the model
// name".

// topFields are the spans of a JSON object's top-level members the router
// rewrites, as byte offsets of their values in the body.
type topFields struct {
	open          int64 // just after the object's '{'
	empty         bool  // the object has no members
	model         span
	stream        span
	streamOptions span
	repeated      bool // one of them appears twice: the caller re-encodes instead
}

// span is a value's bytes [start, end); end == 0 when the member is absent.
type span struct{ start, end int64 }

func (s span) found() bool { return s.end > 0 }

// member is where a top-level member the router reads goes, nil for others.
func (f *topFields) member(name string) *span {
	switch name {
	case "model":
		return &f.model
	case "stream":
		return &f.stream
	case "stream_options":
		return &f.streamOptions
	}
	return nil
}

// scanTop finds the members the router rewrites in a JSON object, validating the
// whole body as JSON (with invalid UTF-8 and repeated names let through, as
// encoding/json's Unmarshal lets them).
func scanTop(body []byte) (topFields, error) {
	if f, _, ok := quickTop(body); ok {
		return f, nil
	}
	return decodeTop(body)
}

// decodeTop is scanTop through jsontext's decoder, for any body.
func decodeTop(body []byte) (topFields, error) {
	var f topFields
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return f, err
	}
	if tok.Kind() != '{' {
		return f, errors.New("not an object")
	}
	f.open = dec.InputOffset()
	f.empty = true
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return f, err
		}
		f.empty = false
		field := f.member(name.String())
		if field == nil {
			if err := dec.SkipValue(); err != nil {
				return f, err
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return f, err
		}
		if field.found() {
			f.repeated = true
		}
		end := dec.InputOffset()
		*field = span{start: end - int64(len(v)), end: end}
	}
	if _, err := dec.ReadToken(); err != nil {
		return f, err
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return f, errors.New("data after the JSON object")
	}
	return f, nil
}

// edit replaces body[start:end] with text.
type edit struct {
	start, end int64
	text       []byte
}

// apply makes the edits, which must not overlap, on a copy of body.
func apply(body []byte, edits []edit) []byte {
	slices.SortStableFunc(edits, func(a, b edit) int { return int(a.start - b.start) })
	grow := 0
	for _, e := range edits {
		grow += len(e.text)
	}
	out := make([]byte, 0, len(body)+grow)
	at := int64(0)
	for _, e := range edits {
		out = append(out, body[at:e.start]...)
		out = append(out, e.text...)
		at = e.end
	}
	return append(out, body[at:]...)
}

// setMember is the edit that gives the object's member name the JSON value
// text: in place when it is there, first in the object when not.
func setMember(f topFields, s span, name string, text []byte) edit {
	if s.found() {
		return edit{start: s.start, end: s.end, text: text}
	}
	member := make([]byte, 0, len(name)+len(text)+4) // one allocation, not one per append
	member = append(append(append(append(member, '"'), name...), '"', ':'), text...)
	if !f.empty {
		member = append(member, ',')
	}
	return edit{start: f.open, end: f.open, text: member}
}

// rewriteBody is the client's body with the model set and, when usage is
// true and the body asks for a stream, stream_options.include_usage too.
// includeUsage says whether the client had asked for the usage chunk itself
// (true when nothing was added, so nothing is to be dropped).
func rewriteBody(body []byte, model string, usage bool) (out []byte, includeUsage bool, err error) {
	f, err := scanTop(body)
	if err != nil {
		return nil, false, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	if f.repeated {
		return reencodeBody(body, model, usage)
	}
	m, err := jsontext.AppendQuote(nil, model)
	if err != nil {
		return nil, false, fmt.Errorf("model name: %w", err)
	}
	edits := []edit{setMember(f, f.model, "model", m)}
	stream := f.stream.found() && string(body[f.stream.start:f.stream.end]) == "true"
	if !usage || !stream {
		return apply(body, edits), true, nil
	}
	var opts []byte
	if f.streamOptions.found() {
		opts = body[f.streamOptions.start:f.streamOptions.end]
	}
	opts, includeUsage = withIncludeUsage(opts)
	edits = append(edits, setMember(f, f.streamOptions, "stream_options", opts))
	return apply(body, edits), includeUsage, nil
}

// withIncludeUsage is stream_options with include_usage set, and whether the
// client had set it. Anything but an object becomes one.
func withIncludeUsage(opts []byte) ([]byte, bool) {
	if len(opts) == 0 || string(opts) == "null" { // what clients send
		return []byte(`{"include_usage":true}`), false
	}
	var so map[string]json.RawMessage
	_ = json.Unmarshal(opts, &so)
	if so == nil {
		so = map[string]json.RawMessage{}
	}
	var had bool
	_ = json.Unmarshal(so["include_usage"], &had)
	so["include_usage"] = json.RawMessage("true")
	out, _ := json.Marshal(so)
	return out, had
}

// reencodeBody is rewriteBody for a body that repeats model, stream or
// stream_options: decoded into a map, where the last of each wins as in
// encoding/json, and encoded again, so the backend cannot read another model
// than the one the router chose.
func reencodeBody(body []byte, model string, usage bool) ([]byte, bool, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, false, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	obj["model"], _ = json.Marshal(model)
	var stream bool
	_ = json.Unmarshal(obj["stream"], &stream)
	includeUsage := true
	if usage && stream {
		obj["stream_options"], includeUsage = withIncludeUsage(obj["stream_options"])
	}
	out, err := json.Marshal(obj)
	return out, includeUsage, err
}
