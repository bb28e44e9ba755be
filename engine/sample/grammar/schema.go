package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Keywords that never constrain a value: accepted and ignored. $defs and
// definitions are only containers for $ref targets.
var annotationKeywords = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true, "example": true,
	"$schema": true, "$id": true, "$comment": true, "$anchor": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "contentEncoding": true, "contentMediaType": true,
	"$defs": true, "definitions": true,
}

// Keywords that constrain values in ways this compiler cannot enforce.
var unsupportedKeywords = map[string]bool{
	"multipleOf":        true,
	"patternProperties": true, "propertyNames": true, "minProperties": true, "maxProperties": true,
	"dependentRequired": true, "dependentSchemas": true, "dependencies": true,
	"unevaluatedProperties": true, "unevaluatedItems": true, "if": true, "then": true, "else": true,
	"not": true, "contains": true, "minContains": true, "maxContains": true, "prefixItems": true,
	"additionalItems": true, "contentSchema": true, "$dynamicRef": true, "$recursiveRef": true,
	"$dynamicAnchor": true, "$recursiveAnchor": true,
}

// Keywords understood here; any other keyword is unknown and, as JSON Schema
// prescribes, ignored.
var knownKeywords = map[string]bool{
	"type": true, "properties": true, "required": true, "additionalProperties": true,
	"enum": true, "const": true, "items": true, "minItems": true, "maxItems": true,
	"uniqueItems": true, "anyOf": true, "oneOf": true, "allOf": true, "$ref": true,
	"minLength": true, "maxLength": true, "pattern": true, "format": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
}

func unsupported(path, what string) error {
	return fmt.Errorf("%w: %s at %s", ErrUnsupported, what, path)
}

func invalid(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s at %s", ErrInvalid, fmt.Sprintf(format, args...), path)
}

// schemaCache keeps recently compiled schemas: a client usually sends the same
// tool or response schema again and again, and a Grammar keeps its compiled
// automaton and token tables.
var schemaCache = struct {
	sync.Mutex
	m     map[string]*Grammar
	order []string
}{m: map[string]*Grammar{}}

const schemaCacheSize = 64

// FromSchema compiles a JSON Schema into a grammar for the JSON texts that
// satisfy it. See the package documentation for the supported subset;
// anything else fails with an error wrapping ErrUnsupported that names the keyword.
func FromSchema(raw json.RawMessage) (*Grammar, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, fmt.Errorf("%w: schema is not JSON: %v", ErrInvalid, err)
	}
	k := compact.String()
	schemaCache.Lock()
	g, ok := schemaCache.m[k]
	schemaCache.Unlock()
	if ok {
		return g, nil
	}
	g, err := compileSchema(compact.Bytes())
	if err != nil {
		return nil, err
	}
	schemaCache.Lock()
	if _, ok := schemaCache.m[k]; !ok {
		if len(schemaCache.order) >= schemaCacheSize {
			delete(schemaCache.m, schemaCache.order[0])
			schemaCache.order = schemaCache.order[1:]
		}
		schemaCache.m[k] = g
		schemaCache.order = append(schemaCache.order, k)
	}
	schemaCache.Unlock()
	return g, nil
}

func compileSchema(raw []byte) (*Grammar, error) {
	root, err := parseValue(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: schema: %v", ErrInvalid, err)
	}
	c := &compiler{root: root, rules: map[*value]*rule{}, byText: map[string]*rule{}}
	c.anyValue, _ = anyRules()
	c.str = &rule{name: "string", body: stringOf(0, -1)}
	r, err := c.schema(root, "#")
	if err != nil {
		return nil, err
	}
	g := &Grammar{root: r}
	if err := g.Compile(); err != nil {
		return nil, err
	}
	return g, nil
}

type compiler struct {
	root     *value
	rules    map[*value]*rule // one rule per schema object, so $ref cycles close
	byText   map[string]*rule // one rule per distinct schema text
	anyValue *rule
	str      *rule // plain strings share one rule, and so one set of token tables
}

// schema returns the rule for values valid under s.
func (c *compiler) schema(s *value, path string) (*rule, error) {
	switch s.kind {
	case 'b':
		if s.boolean {
			return c.anyValue, nil
		}
		return nil, invalid(path, "schema false matches nothing")
	case 'o':
	default:
		return nil, invalid(path, "schema must be an object or a boolean")
	}
	if r, ok := c.rules[s]; ok {
		return r, nil
	}
	// Equal schema texts mean the same thing within one document ($ref
	// pointers are absolute), so they share a rule: ten identical string
	// fields cost one automaton.
	var text strings.Builder
	s.encode(&text)
	if r, ok := c.byText[text.String()]; ok {
		c.rules[s] = r
		return r, nil
	}
	r := &rule{name: path}
	c.rules[s] = r
	c.byText[text.String()] = r
	body, err := c.body(s, path)
	if err != nil {
		return nil, err
	}
	r.body = body
	return r, nil
}

// constraints lists the keywords of s that constrain values, except those named.
func constraints(s *value, except ...string) []string {
	var out []string
	for _, m := range s.obj {
		if !annotationKeywords[m.key] && knownKeywords[m.key] && !slices.Contains(except, m.key) {
			out = append(out, m.key)
		}
	}
	return out
}

func (c *compiler) body(s *value, path string) (node, error) {
	seen := map[string]bool{}
	for _, m := range s.obj {
		if seen[m.key] {
			return nil, invalid(path, "duplicate keyword %q", m.key)
		}
		seen[m.key] = true
		if unsupportedKeywords[m.key] {
			return nil, unsupported(path, fmt.Sprintf("keyword %q", m.key))
		}
	}
	if v, ok := s.get("uniqueItems"); ok && v.kind == 'b' && v.boolean {
		return nil, unsupported(path, `keyword "uniqueItems"`)
	}
	for _, kw := range []string{"$ref", "allOf", "anyOf", "oneOf"} {
		v, ok := s.get(kw)
		if !ok {
			continue
		}
		if other := constraints(s, kw); len(other) > 0 {
			return nil, unsupported(path, fmt.Sprintf("keyword %q next to %q", other[0], kw))
		}
		return c.combinator(kw, v, path)
	}
	if _, ok := s.get("enum"); ok {
		return c.enum(s, path, "enum")
	}
	if _, ok := s.get("const"); ok {
		return c.enum(s, path, "const")
	}
	types, err := schemaTypes(s, path)
	if err != nil {
		return nil, err
	}
	var alts alt
	for _, t := range types {
		n, err := c.typed(s, t, path)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (c *compiler) combinator(kw string, v *value, path string) (node, error) {
	p := path + "/" + kw
	if kw == "$ref" {
		if v.kind != 's' {
			return nil, invalid(p, "$ref must be a string")
		}
		target, err := c.resolve(v.str, p)
		if err != nil {
			return nil, err
		}
		r, err := c.schema(target, v.str)
		if err != nil {
			return nil, err
		}
		return call{r}, nil
	}
	if v.kind != 'a' || len(v.arr) == 0 {
		return nil, invalid(p, "%s must be a non-empty array", kw)
	}
	if kw == "allOf" && len(v.arr) > 1 {
		return nil, unsupported(p, `keyword "allOf" with more than one schema`)
	}
	// oneOf is compiled as anyOf: exclusivity is not enforced.
	var alts alt
	for i, sub := range v.arr {
		if sub.kind == 'b' && !sub.boolean {
			continue // a false branch contributes nothing
		}
		r, err := c.schema(sub, fmt.Sprintf("%s/%d", p, i))
		if err != nil {
			return nil, err
		}
		alts = append(alts, call{r})
	}
	if len(alts) == 0 {
		return nil, invalid(p, "no branch can match")
	}
	return alts, nil
}

// resolve follows a local JSON pointer ("#", "#/$defs/x", "#/definitions/x", ...).
func (c *compiler) resolve(ref, path string) (*value, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, unsupported(path, fmt.Sprintf("$ref %q (only local references starting with #)", ref))
	}
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return nil, invalid(path, "bad $ref %q", ref)
	}
	cur := c.root
	if frag == "" {
		return cur, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, unsupported(path, fmt.Sprintf("$ref %q (anchors are not supported)", ref))
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next *value
		switch cur.kind {
		case 'o':
			next, _ = cur.get(tok)
		case 'a':
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(cur.arr) {
				next = cur.arr[i]
			}
		}
		if next == nil {
			return nil, invalid(path, "$ref %q does not resolve", ref)
		}
		cur = next
	}
	return cur, nil
}

func (c *compiler) enum(s *value, path, kw string) (node, error) {
	v, _ := s.get(kw)
	values := []*value{v}
	if kw == "enum" {
		if v.kind != 'a' || len(v.arr) == 0 {
			return nil, invalid(path, "enum must be a non-empty array")
		}
		values = v.arr
	}
	if other := constraints(s, "enum", "const", "type"); len(other) > 0 {
		return nil, unsupported(path, fmt.Sprintf("keyword %q next to %q", other[0], kw))
	}
	var types []string
	if _, ok := s.get("type"); ok {
		var err error
		if types, err = schemaTypes(s, path); err != nil {
			return nil, err
		}
	}
	var alts alt
	for _, e := range values {
		if types != nil && !typeAllows(types, e.jsonType()) {
			continue
		}
		var b strings.Builder
		e.encode(&b)
		alts = append(alts, lit(b.String()))
	}
	if len(alts) == 0 {
		return nil, invalid(path, "no %s value matches the type", kw)
	}
	return alts, nil
}

func typeAllows(types []string, t string) bool {
	return slices.Contains(types, t) || (t == "integer" && slices.Contains(types, "number"))
}

var typeNames = []string{"object", "array", "string", "number", "integer", "boolean", "null"}

// schemaTypes returns the declared types, or the one implied by the keywords
// present when "type" is absent (a schema with "properties" describes objects).
func schemaTypes(s *value, path string) ([]string, error) {
	t, ok := s.get("type")
	if !ok {
		has := func(kws ...string) bool {
			for _, k := range kws {
				if _, ok := s.get(k); ok {
					return true
				}
			}
			return false
		}
		switch {
		case has("properties", "required", "additionalProperties"):
			return []string{"object"}, nil
		case has("items", "minItems", "maxItems"):
			return []string{"array"}, nil
		case has("minLength", "maxLength", "pattern", "format"):
			return []string{"string"}, nil
		case has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
			return []string{"number"}, nil
		}
		return []string{"any"}, nil
	}
	var out []string
	switch t.kind {
	case 's':
		out = []string{t.str}
	case 'a':
		for _, e := range t.arr {
			if e.kind != 's' {
				return nil, invalid(path, "type list must hold strings")
			}
			out = append(out, e.str)
		}
	default:
		return nil, invalid(path, "type must be a string or an array of strings")
	}
	if len(out) == 0 {
		return nil, invalid(path, "empty type list")
	}
	for _, name := range out {
		if !slices.Contains(typeNames, name) {
			return nil, invalid(path, "unknown type %q", name)
		}
	}
	return out, nil
}

func (c *compiler) typed(s *value, t, path string) (node, error) {
	switch t {
	case "any":
		return call{c.anyValue}, nil
	case "object":
		return c.object(s, path)
	case "array":
		return c.array(s, path)
	case "string":
		return c.string(s, path)
	case "number", "integer":
		return c.number(s, t, path)
	case "boolean":
		return alt{lit("true"), lit("false")}, nil
	}
	return lit("null"), nil
}
