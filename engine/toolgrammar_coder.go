package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// Qwen3-Coder writes a call as XML with one element per parameter:
//
//	<tool_call>
//	<function=get_weather>
//	<parameter=city>
//	Paris
//	</parameter>
//	</function>
//	</tool_call>
//
// A parameter whose schema is a string is bare text, anything else is JSON.
// The parser (engine/chat) keeps string parameters as strings; the grammar
// generates the declared parameters in the schema's order, required ones
// always. Bare text cannot follow a pattern, a format or a length bound, and
// a parameter that may be a string or something else has no single form: a
// strict tool with such a parameter is refused, another gets free text there.

var coderStops = []string{"</parameter>", "<parameter=", "</function>"}

// coderCall is one call of t in the Qwen3-Coder format.
func coderCall(t Tool) (*grammar.Grammar, error) {
	params, err := coderParams(t.Parameters, t.Strict)
	if err != nil {
		return nil, err
	}
	parts := append([]*grammar.Grammar{grammar.Literal(hermesOpen + "\n<function=" + t.Name + ">\n")}, params...)
	return grammar.Seq(append(parts, grammar.Literal("</function>\n</tool_call>"))...), nil
}

// coderSchema is the part of a tool's parameters schema the format uses.
type coderSchema struct {
	names    []string // properties, in the schema's order
	props    map[string]json.RawMessage
	required []string
	defs     map[string]json.RawMessage // $defs and definitions, for $ref inside properties
}

func parseCoderSchema(raw json.RawMessage) (*coderSchema, error) {
	s := &coderSchema{defs: map[string]json.RawMessage{}}
	if len(raw) == 0 {
		return s, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("%w: parameters: %v", grammar.ErrInvalid, err)
	}
	for _, kw := range []string{"anyOf", "oneOf", "allOf", "$ref", "if", "not"} {
		if _, ok := top[kw]; ok {
			return nil, fmt.Errorf("%w: %s at the top of the parameters (the qwen3-coder format writes each parameter apart)", grammar.ErrUnsupported, kw)
		}
	}
	for _, kw := range []string{"$defs", "definitions"} {
		if d, ok := top[kw]; ok {
			s.defs[kw] = d
		}
	}
	if r, ok := top["required"]; ok {
		if err := json.Unmarshal(r, &s.required); err != nil {
			return nil, fmt.Errorf("%w: required: %v", grammar.ErrInvalid, err)
		}
	}
	var err error
	if p, ok := top["properties"]; ok {
		if s.names, s.props, err = orderedMembers(p); err != nil {
			return nil, fmt.Errorf("%w: properties: %v", grammar.ErrInvalid, err)
		}
	}
	return s, nil
}

// coderParams is the grammar of each declared parameter, in order.
func coderParams(raw json.RawMessage, strict bool) ([]*grammar.Grammar, error) {
	s, err := parseCoderSchema(raw)
	if err != nil {
		return nil, err
	}
	text, err := grammar.TextWithout(coderStops...)
	if err != nil {
		return nil, err
	}
	var out []*grammar.Grammar
	for _, name := range s.names {
		v, err := s.value(name, text)
		if err != nil && (strict || !errors.Is(err, grammar.ErrUnsupported)) {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		if err != nil {
			v = text
		}
		p := grammar.Seq(grammar.Literal("<parameter="+name+">\n"), v, grammar.Literal("\n</parameter>\n"))
		if !slices.Contains(s.required, name) {
			p = grammar.Repeat(p, nil, 0, 1)
		}
		out = append(out, p)
	}
	return out, nil
}

// value is the grammar of one parameter's value.
func (s *coderSchema) value(name string, text *grammar.Grammar) (*grammar.Grammar, error) {
	prop, err := s.resolve(s.props[name])
	if err != nil {
		return nil, err
	}
	switch kind, vals := valueKind(prop); kind {
	case kindText:
		for _, kw := range []string{"pattern", "format", "minLength", "maxLength"} {
			if _, ok := prop[kw]; ok {
				return nil, fmt.Errorf("%w: %s on a string parameter (the qwen3-coder format writes strings as bare text)", grammar.ErrUnsupported, kw)
			}
		}
		if vals == nil {
			return text, nil
		}
		alts := make([]*grammar.Grammar, len(vals))
		for i, v := range vals {
			alts[i] = grammar.Literal(v)
		}
		return grammar.Choice(alts...), nil
	case kindMixed:
		return nil, fmt.Errorf("%w: a parameter that may be a string or another type (the qwen3-coder format writes strings as bare text)", grammar.ErrUnsupported)
	}
	// Not a string: JSON, with the definitions its $refs point to.
	with := make(map[string]json.RawMessage, len(prop)+len(s.defs))
	for k, v := range s.defs {
		with[k] = v
	}
	for k, v := range prop {
		with[k] = v
	}
	b, err := json.Marshal(with)
	if err != nil {
		return nil, err
	}
	return grammar.FromSchema(b)
}

// resolve reads a property schema, following a $ref at its top.
func (s *coderSchema) resolve(raw json.RawMessage) (map[string]json.RawMessage, error) {
	for range 16 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%w: %v", grammar.ErrInvalid, err)
		}
		ref, ok := m["$ref"]
		if !ok {
			return m, nil
		}
		var r string
		if err := json.Unmarshal(ref, &r); err != nil {
			return nil, fmt.Errorf("%w: $ref: %v", grammar.ErrInvalid, err)
		}
		if raw, ok = s.def(r); !ok {
			return nil, fmt.Errorf("%w: $ref %q (only #/$defs/name and #/definitions/name)", grammar.ErrUnsupported, r)
		}
	}
	return nil, fmt.Errorf("%w: $ref chain too long", grammar.ErrInvalid)
}

func (s *coderSchema) def(ref string) (json.RawMessage, bool) {
	for kw, raw := range s.defs {
		prefix := "#/" + kw + "/"
		if len(ref) > len(prefix) && ref[:len(prefix)] == prefix {
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				d, ok := m[ref[len(prefix):]]
				return d, ok
			}
		}
	}
	return nil, false
}

type valueKindT int

const (
	kindJSON  valueKindT = iota // never a string
	kindText                    // always a string
	kindMixed                   // maybe a string
)

// valueKind says whether a schema's values are strings, and lists them when
// an enum or a const fixes them.
func valueKind(prop map[string]json.RawMessage) (valueKindT, []string) {
	var types []string
	if t, ok := prop["type"]; ok {
		var one string
		if json.Unmarshal(t, &one) == nil {
			types = []string{one}
		} else if json.Unmarshal(t, &types) != nil {
			return kindMixed, nil
		}
	}
	var vals []any
	if c, ok := prop["const"]; ok {
		vals = []any{nil}
		if json.Unmarshal(c, &vals[0]) != nil {
			return kindMixed, nil
		}
	} else if e, ok := prop["enum"]; ok && json.Unmarshal(e, &vals) != nil {
		return kindMixed, nil
	}
	if len(types) == 0 && vals == nil {
		_, anyOf := prop["anyOf"]
		_, oneOf := prop["oneOf"]
		if anyOf || oneOf || len(prop) == 0 {
			return kindMixed, nil // could be anything, strings included
		}
		return kindJSON, nil // object, array or number keywords only
	}
	var strs []string
	nonString := false
	for _, v := range vals {
		if s, ok := v.(string); ok {
			strs = append(strs, s)
		} else {
			nonString = true
		}
	}
	hasString := slices.Contains(types, "string") || len(strs) > 0
	switch {
	case !hasString:
		return kindJSON, nil
	case nonString || len(types) > 1 || len(types) == 1 && types[0] != "string":
		return kindMixed, nil
	}
	return kindText, strs
}

// stringParams lists, per tool, the parameters the Qwen3-Coder parser keeps
// as text.
func stringParams(tools []Tool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, t := range tools {
		s, err := parseCoderSchema(t.Parameters)
		if err != nil {
			continue
		}
		for _, name := range s.names {
			prop, err := s.resolve(s.props[name])
			if err != nil {
				continue
			}
			if kind, _ := valueKind(prop); kind == kindText {
				if out[t.Name] == nil {
					out[t.Name] = map[string]bool{}
				}
				out[t.Name][name] = true
			}
		}
	}
	return out
}

// orderedMembers reads a JSON object, keeping its key order.
func orderedMembers(raw json.RawMessage) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not an object")
	}
	var names []string
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, dup := members[name]; !dup {
			names = append(names, name)
		}
		members[name] = v
	}
	return names, members, nil
}
