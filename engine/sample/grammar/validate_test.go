package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// errValidatorRegexp: Go's RE2 cannot compile an ECMA-262 pattern (like [^]),
// so the test validator cannot judge the text.
var errValidatorRegexp = errors.New("test validator cannot compile pattern")

// validator checks a decoded instance against a schema, independently of the
// compiler, for the subset the compiler supports.
type validator struct{ root *value }

func decodeInstance(text []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func (vd validator) check(s *value, inst any, path string) error {
	if s.kind == 'b' {
		if !s.boolean {
			return fmt.Errorf("%s: schema false", path)
		}
		return nil
	}
	if ref, ok := s.get("$ref"); ok {
		c := &compiler{root: vd.root}
		target, err := c.resolve(ref.str, path)
		if err != nil {
			return err
		}
		return vd.check(target, inst, path)
	}
	if all, ok := s.get("allOf"); ok {
		for _, sub := range all.arr {
			if err := vd.check(sub, inst, path); err != nil {
				return err
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if list, ok := s.get(kw); ok {
			n := 0
			for _, sub := range list.arr {
				if vd.check(sub, inst, path) == nil {
					n++
				}
			}
			// oneOf is checked like anyOf: the compiler documents that it does
			// not enforce exclusivity (no regular-language complement here).
			if n == 0 {
				return fmt.Errorf("%s: %d branches of %s match", path, n, kw)
			}
		}
	}
	if e, ok := s.get("enum"); ok && !slicesContainsJSON(e.arr, inst) {
		return fmt.Errorf("%s: %v not in enum", path, inst)
	}
	if c, ok := s.get("const"); ok && !jsonEqual(c, inst) {
		return fmt.Errorf("%s: %v is not the const", path, inst)
	}
	if t, ok := s.get("type"); ok {
		types := []*value{t}
		if t.kind == 'a' {
			types = t.arr
		}
		match := false
		for _, tt := range types {
			match = match || instanceIs(inst, tt.str)
		}
		if !match {
			return fmt.Errorf("%s: %v has the wrong type", path, inst)
		}
	}
	switch x := inst.(type) {
	case map[string]any:
		return vd.object(s, x, path)
	case []any:
		return vd.array(s, x, path)
	case string:
		return vd.str(s, x, path)
	case json.Number:
		return vd.number(s, x, path)
	}
	return nil
}

func instanceIs(inst any, t string) bool {
	switch x := inst.(type) {
	case map[string]any:
		return t == "object"
	case []any:
		return t == "array"
	case string:
		return t == "string"
	case bool:
		return t == "boolean"
	case nil:
		return t == "null"
	case json.Number:
		if t == "number" {
			return true
		}
		f, err := x.Float64()
		return t == "integer" && err == nil && f == math.Trunc(f)
	}
	return false
}

func (vd validator) object(s *value, x map[string]any, path string) error {
	props, _ := s.get("properties")
	if req, ok := s.get("required"); ok {
		for _, r := range req.arr {
			if _, ok := x[r.str]; !ok {
				return fmt.Errorf("%s: missing required %q", path, r.str)
			}
		}
	}
	for k, v := range x {
		var sub *value
		if props != nil {
			sub, _ = props.get(k)
		}
		if sub == nil {
			sub, _ = s.get("additionalProperties")
		}
		if sub == nil {
			continue
		}
		if err := vd.check(sub, v, path+"/"+k); err != nil {
			return err
		}
	}
	return nil
}

func (vd validator) array(s *value, x []any, path string) error {
	if n, ok := s.get("minItems"); ok && int64(len(x)) < mustInt(n) {
		return fmt.Errorf("%s: %d items < minItems", path, len(x))
	}
	if n, ok := s.get("maxItems"); ok && int64(len(x)) > mustInt(n) {
		return fmt.Errorf("%s: %d items > maxItems", path, len(x))
	}
	if it, ok := s.get("items"); ok {
		for i, e := range x {
			if err := vd.check(it, e, fmt.Sprintf("%s/%d", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	timeRE  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
	emailRE = regexp.MustCompile(`^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
)

func (vd validator) str(s *value, x string, path string) error {
	n := int64(utf8.RuneCountInString(x))
	if m, ok := s.get("minLength"); ok && n < mustInt(m) {
		return fmt.Errorf("%s: %q shorter than minLength", path, x)
	}
	if m, ok := s.get("maxLength"); ok && n > mustInt(m) {
		return fmt.Errorf("%s: %q longer than maxLength", path, x)
	}
	if p, ok := s.get("pattern"); ok {
		re, err := regexp.Compile(p.str)
		if err != nil {
			return fmt.Errorf("%s: %w %q: %v", path, errValidatorRegexp, p.str, err)
		}
		if !re.MatchString(x) {
			return fmt.Errorf("%s: %q does not match %q", path, x, p.str)
		}
	}
	if f, ok := s.get("format"); ok {
		var err error
		switch f.str {
		case "date":
			_, err = time.Parse("2006-01-02", x)
		case "date-time":
			_, err = time.Parse(time.RFC3339Nano, x)
		case "time":
			if !timeRE.MatchString(x) {
				err = fmt.Errorf("bad time")
			}
		case "uuid":
			if !uuidRE.MatchString(x) {
				err = fmt.Errorf("bad uuid")
			}
		case "email":
			if _, e := mail.ParseAddress(x); e != nil || !emailRE.MatchString(x) {
				err = fmt.Errorf("bad email %v", e)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %q is not a %s: %v", path, x, f.str, err)
		}
	}
	return nil
}

func (vd validator) number(s *value, x json.Number, path string) error {
	f, err := x.Float64()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	bounds := map[string]func(b float64) bool{
		"minimum":          func(b float64) bool { return f >= b },
		"maximum":          func(b float64) bool { return f <= b },
		"exclusiveMinimum": func(b float64) bool { return f > b },
		"exclusiveMaximum": func(b float64) bool { return f < b },
	}
	for kw, ok := range bounds {
		if b, has := s.get(kw); has {
			bf, _ := b.num.Float64()
			if !ok(bf) {
				return fmt.Errorf("%s: %v violates %s %v", path, x, kw, bf)
			}
		}
	}
	return nil
}

func mustInt(v *value) int64 {
	n, _ := v.num.Int64()
	return n
}

func slicesContainsJSON(list []*value, inst any) bool {
	for _, v := range list {
		if jsonEqual(v, inst) {
			return true
		}
	}
	return false
}

// jsonEqual compares a schema value with a decoded instance by meaning.
func jsonEqual(v *value, inst any) bool {
	var b strings.Builder
	v.encode(&b)
	want, err := decodeInstance([]byte(b.String()))
	if err != nil {
		return false
	}
	return deepEqualJSON(want, inst)
}

func deepEqualJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !deepEqualJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqualJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, _ := x.Float64()
		fy, _ := y.Float64()
		return fx == fy
	}
	return a == b
}

// validateText parses text with encoding/json and validates it against schema.
func validateText(schema *value, text []byte) error {
	if !json.Valid(text) {
		return fmt.Errorf("not valid JSON: %q", text)
	}
	inst, err := decodeInstance(text)
	if err != nil {
		return err
	}
	return validator{root: schema}.check(schema, inst, "#")
}
