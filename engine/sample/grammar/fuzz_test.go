package grammar

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
)

// byteWalk generates up to n bytes by picking random valid next bytes with
// the parser alone (no vocabulary), and reports whether it reached an end.
func byteWalk(t *testing.T, g *Grammar, r *rand.Rand, n int) ([]byte, bool) {
	p, err := NewParser(g)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var options []byte
	for len(out) < n {
		if p.Accepting() && (p.Complete() || r.IntN(3) == 0) {
			return out, true
		}
		options = options[:0]
		for b := range 256 {
			if p.Valid([]byte{byte(b)}) {
				options = append(options, byte(b))
			}
		}
		if len(options) == 0 {
			t.Fatalf("stuck after %q", out)
		}
		b := options[r.IntN(len(options))]
		// Prefer closing bytes as the budget runs out, so walks end.
		for _, c := range []byte(`"]}`) {
			if r.IntN(n) < len(out) && p.Valid([]byte{c}) {
				b = c
			}
		}
		if err := p.Advance([]byte{b}); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out, p.Accepting()
}

// FuzzFromSchema: compiling never panics, and when it succeeds, text the
// grammar generates parses and validates against the schema.
func FuzzFromSchema(f *testing.F) {
	for _, c := range keywordCases {
		f.Add(c.schema)
	}
	for _, s := range walkSchemas {
		f.Add(s)
	}
	f.Add(`{"$ref":"#"}`)
	f.Add(`{"type":"string","pattern":"^(a|b)*[^c-e]{1,3}$"}`)
	f.Fuzz(func(t *testing.T, schema string) {
		g, err := compileSchema([]byte(schema))
		if err != nil {
			return
		}
		sv, err := parseValue([]byte(schema))
		if err != nil {
			t.Fatalf("compiled a schema that does not parse: %v", err)
		}
		r := rand.New(rand.NewPCG(uint64(len(schema)), 1))
		text, ok := byteWalk(t, g, r, 200)
		if !ok {
			return
		}
		if err := validateText(sv, text); err != nil && !errors.Is(err, errValidatorRegexp) {
			t.Fatalf("schema %s generated %q: %v", schema, text, err)
		}
	})
}

// FuzzJSONGrammar: any bytes the JSON grammar accepts as complete are valid
// JSON, and any a schema's grammar accepts validate against the schema.
func FuzzJSONGrammar(f *testing.F) {
	var schemas []*Grammar
	var values []*value
	for _, s := range walkSchemas {
		g, err := FromSchema([]byte(s))
		if err != nil {
			f.Fatal(err)
		}
		v, _ := parseValue([]byte(s))
		schemas, values = append(schemas, g), append(values, v)
	}
	f.Add([]byte(`{"name": "x", "age": 3, "tags": ["a"]}`))
	f.Add([]byte(`{"kind":"circle","r":2.5}`))
	for _, s := range []string{`{"a": [1, -2.5e3, "x\u00e9\n"]}`, `"日本"`, `[]`, `{}`, `-0`, `[1,2`, `"\ud800"`, "\"\xff\"", `1e99`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, g := range []*Grammar{JSON(), JSONObject()} {
			p, err := NewParser(g)
			if err != nil {
				t.Fatal(err)
			}
			if p.Advance(data) != nil || !p.Accepting() {
				continue
			}
			var x any
			if err := json.Unmarshal(data, &x); err != nil {
				t.Fatalf("grammar accepted %q: %v", data, err)
			}
		}
		for i, g := range schemas {
			p, _ := NewParser(g)
			if p.Advance(data) != nil || !p.Accepting() {
				continue
			}
			if err := validateText(values[i], data); err != nil && !errors.Is(err, errValidatorRegexp) {
				t.Fatalf("schema %s accepted %q: %v", walkSchemas[i], data, err)
			}
		}
	})
}
