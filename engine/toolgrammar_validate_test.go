package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"
)

// validator checks a decoded JSON value against a JSON Schema, independently
// of the grammar package: the keywords the tests' schemas use, with the
// semantics of the JSON Schema specification.
type validator struct{ root map[string]any }

func validateJSON(schema json.RawMessage, doc []byte) error {
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("text after the JSON value")
	}
	return validator{root}.check(root, v, "$")
}

var schemaFormats = map[string]*regexp.Regexp{
	"date":      regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`),
	"date-time": regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`),
	"uuid":      regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`),
	"email":     regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`),
}

func (vd validator) check(s map[string]any, v any, at string) error {
	if ref, ok := s["$ref"].(string); ok {
		return vd.check(vd.resolve(ref), v, at)
	}
	if err := vd.checkType(s, v, at); err != nil {
		return err
	}
	if c, ok := s["const"]; ok && !sameJSON(c, v) {
		return fmt.Errorf("%s: %v is not the const %v", at, v, c)
	}
	if e, ok := s["enum"].([]any); ok && !anySame(e, v) {
		return fmt.Errorf("%s: %v is not in the enum %v", at, v, e)
	}
	for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
		list, ok := s[kw].([]any)
		if !ok {
			continue
		}
		n := 0
		for _, sub := range list {
			if vd.check(sub.(map[string]any), v, at) == nil {
				n++
			}
		}
		if kw == "anyOf" && n == 0 || kw == "oneOf" && n != 1 || kw == "allOf" && n != len(list) {
			return fmt.Errorf("%s: %d of %d branches of %s match %v", at, n, len(list), kw, v)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		return vd.checkObject(s, x, at)
	case []any:
		return vd.checkArray(s, x, at)
	case string:
		return checkString(s, x, at)
	case json.Number:
		return checkNumber(s, x, at)
	}
	return nil
}

func (vd validator) resolve(ref string) map[string]any {
	node := any(vd.root)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#"), "/")[1:] {
		node = node.(map[string]any)[part]
	}
	return node.(map[string]any)
}

func (vd validator) checkType(s map[string]any, v any, at string) error {
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, x.(string))
		}
	default:
		return nil
	}
	got := jsonType(v)
	for _, t := range types {
		if t == got || t == "number" && got == "integer" {
			return nil
		}
	}
	return fmt.Errorf("%s: %v is a %s, want %v", at, v, got, types)
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !strings.ContainsAny(x.String(), ".eE") {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

func (vd validator) checkObject(s map[string]any, obj map[string]any, at string) error {
	props, _ := s["properties"].(map[string]any)
	for _, r := range asList(s["required"]) {
		if _, ok := obj[r.(string)]; !ok {
			return fmt.Errorf("%s: required %q is missing", at, r)
		}
	}
	for k, v := range obj {
		if p, ok := props[k]; ok {
			if err := vd.check(p.(map[string]any), v, at+"."+k); err != nil {
				return err
			}
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				return fmt.Errorf("%s: property %q is not allowed", at, k)
			}
		case map[string]any:
			if err := vd.check(ap, v, at+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (vd validator) checkArray(s map[string]any, arr []any, at string) error {
	if n, ok := s["minItems"].(float64); ok && len(arr) < int(n) {
		return fmt.Errorf("%s: %d items, minItems %v", at, len(arr), n)
	}
	if n, ok := s["maxItems"].(float64); ok && len(arr) > int(n) {
		return fmt.Errorf("%s: %d items, maxItems %v", at, len(arr), n)
	}
	if items, ok := s["items"].(map[string]any); ok {
		for i, v := range arr {
			if err := vd.check(items, v, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkString(s map[string]any, x, at string) error {
	n := utf8.RuneCountInString(x)
	if m, ok := s["minLength"].(float64); ok && n < int(m) {
		return fmt.Errorf("%s: %q shorter than %v", at, x, m)
	}
	if m, ok := s["maxLength"].(float64); ok && n > int(m) {
		return fmt.Errorf("%s: %q longer than %v", at, x, m)
	}
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
		return fmt.Errorf("%s: %q does not match %s", at, x, p)
	}
	if f, ok := s["format"].(string); ok && schemaFormats[f] != nil && !schemaFormats[f].MatchString(x) {
		return fmt.Errorf("%s: %q is not a %s", at, x, f)
	}
	return nil
}

func checkNumber(s map[string]any, x json.Number, at string) error {
	f, err := x.Float64()
	if err != nil {
		return fmt.Errorf("%s: %v", at, err)
	}
	bounds := []struct {
		kw string
		ok func(b float64) bool
	}{
		{"minimum", func(b float64) bool { return f >= b }},
		{"maximum", func(b float64) bool { return f <= b }},
		{"exclusiveMinimum", func(b float64) bool { return f > b }},
		{"exclusiveMaximum", func(b float64) bool { return f < b }},
	}
	for _, b := range bounds {
		if lim, ok := s[b.kw].(float64); ok && !b.ok(lim) {
			return fmt.Errorf("%s: %v breaks %s %v", at, x, b.kw, lim)
		}
	}
	return nil
}

func asList(v any) []any { l, _ := v.([]any); return l }

func anySame(list []any, v any) bool {
	for _, e := range list {
		if sameJSON(e, v) {
			return true
		}
	}
	return false
}

// sameJSON compares a schema value (float64 numbers) with a document value (json.Number).
func sameJSON(a, b any) bool {
	norm := func(v any) any {
		raw, _ := json.Marshal(v)
		var out any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
