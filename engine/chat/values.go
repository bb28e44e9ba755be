package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// maxJSONDepth bounds nesting of tool schemas and call arguments converted
// for the template.
const maxJSONDepth = 64

// jsonValue decodes JSON into a template value, keeping object keys in
// document order. Order matters: templates print tool schemas with tojson,
// and Python's json.dumps keeps insertion order, so a sorted map would
// change the prompt.
func jsonValue(data []byte) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSON(dec, 0)
	if err != nil {
		return jinja.Undefined(), err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return jinja.Undefined(), fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func decodeJSON(dec *json.Decoder, depth int) (jinja.Value, error) {
	if depth > maxJSONDepth {
		return jinja.Undefined(), fmt.Errorf("JSON nested deeper than %d", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return jinja.Undefined(), err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := jinja.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return jinja.Undefined(), err
				}
				v, err := decodeJSON(dec, depth+1)
				if err != nil {
					return jinja.Undefined(), err
				}
				d.AsDict().Set(k.(string), v)
			}
			_, err := dec.Token()
			return d, err
		case '[':
			items := []jinja.Value{}
			for dec.More() {
				v, err := decodeJSON(dec, depth+1)
				if err != nil {
					return jinja.Undefined(), err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return jinja.NewList(items), err
		}
		return jinja.Undefined(), fmt.Errorf("unexpected JSON delimiter %v", t)
	default:
		return jinja.FromGoValue(tok), nil
	}
}

// dict builds an ordered template dict from alternating keys and values.
func dict(kv ...any) jinja.Value {
	d := jinja.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		d.AsDict().Set(kv[i].(string), kv[i+1].(jinja.Value))
	}
	return d
}

// messageValue converts a message the way OpenAI-compatible servers hand
// messages to apply_chat_template: keys in OpenAI order, optional keys
// omitted, tool call arguments decoded to an object.
func messageValue(m Message, content jinja.Value) (jinja.Value, error) {
	d := dict("role", jinja.NewString(m.Role), "content", content)
	if m.Name != "" {
		d.AsDict().Set("name", jinja.NewString(m.Name))
	}
	if len(m.ToolCalls) > 0 {
		calls := make([]jinja.Value, len(m.ToolCalls))
		for i, tc := range m.ToolCalls {
			c, err := toolCallValue(tc)
			if err != nil {
				return jinja.Undefined(), fmt.Errorf("tool call %d: %w", i, err)
			}
			calls[i] = c
		}
		d.AsDict().Set("tool_calls", jinja.NewList(calls))
	}
	if m.ToolCallID != "" {
		d.AsDict().Set("tool_call_id", jinja.NewString(m.ToolCallID))
	}
	if m.Reasoning != "" {
		d.AsDict().Set("reasoning_content", jinja.NewString(m.Reasoning))
		// gpt-oss's template reads an assistant turn's analysis as thinking.
		d.AsDict().Set("thinking", jinja.NewString(m.Reasoning))
	}
	return d, nil
}

func toolCallValue(tc ToolCall) (jinja.Value, error) {
	args, err := argumentsValue(tc.Arguments)
	if err != nil {
		return jinja.Undefined(), err
	}
	fn := dict("name", jinja.NewString(tc.Name), "arguments", args)
	if tc.ID == "" {
		return dict("type", jinja.NewString("function"), "function", fn), nil
	}
	return dict("id", jinja.NewString(tc.ID), "type", jinja.NewString("function"), "function", fn), nil
}

// argumentsValue accepts arguments as a JSON object or, as the OpenAI wire
// format sends them, as a JSON string holding an object. Templates expect
// a mapping (they iterate it or print it with tojson); a string that is not
// JSON is passed through unchanged.
func argumentsValue(raw json.RawMessage) (jinja.Value, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return jinja.NewDict(), nil
	}
	v, err := jsonValue(raw)
	if err != nil {
		return jinja.Undefined(), fmt.Errorf("arguments: %w", err)
	}
	if v.IsString() {
		if inner, err := jsonValue([]byte(v.AsString())); err == nil && inner.IsDict() {
			return inner, nil
		}
	}
	return v, nil
}

// varValue converts a caller-supplied variable. json.RawMessage keeps its
// key order; other Go values go through the library (maps sorted).
func varValue(v any) (jinja.Value, error) {
	switch t := v.(type) {
	case json.RawMessage:
		return jsonValue(t)
	case jinja.Value:
		return t, nil
	}
	return jinja.FromGoValue(v), nil
}

// strftime formats t with Python strftime directives (the ones chat
// templates use for "Today Date").
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		if d, ok := strftimeDirectives[format[i]]; ok {
			b.WriteString(t.Format(d))
			continue
		}
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '-':
			if i+1 < len(format) && format[i+1] == 'd' {
				fmt.Fprintf(&b, "%d", t.Day())
				i++
				continue
			}
			b.WriteString("%-")
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

var strftimeDirectives = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04",
	'S': "05", 'p': "PM", 'b': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday",
	'Z': "MST", 'z': "-0700",
}

// sortedKeys returns map keys in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
