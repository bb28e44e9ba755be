package grammar

import (
	"errors"
	"strings"
	"testing"
)

func accepts(t *testing.T, g *Grammar, text string) bool {
	t.Helper()
	p, err := NewParser(g)
	if err != nil {
		t.Fatal(err)
	}
	return p.Advance([]byte(text)) == nil && p.Accepting()
}

// keywordCases: for each supported keyword, texts the grammar must accept
// (and that the validator accepts) and texts it must refuse.
var keywordCases = []struct {
	name   string
	schema string
	good   []string
	bad    []string
}{
	{"empty schema", `{}`, []string{`1`, `"x"`, `{"a": [null]}`}, []string{``, `{a}`}},
	{"true schema", `true`, []string{`[]`}, []string{`[`}},
	{"type string", `{"type":"string"}`, []string{`""`, `"a\"b\\c\u00e9"`, `"日本"`}, []string{`1`, `"a`, "\"\x01\"", `"\ud800"`}},
	{"type number", `{"type":"number"}`, []string{`0`, `-1.5`, `2e10`, `3.25E-2`}, []string{`01`, `1.`, `.5`, `1e999`, `NaN`}},
	{"type integer", `{"type":"integer"}`, []string{`0`, `-42`, `1234567890123456`}, []string{`1.0`, `1e3`, `12345678901234567`}},
	{"type boolean", `{"type":"boolean"}`, []string{`true`, `false`}, []string{`1`, `"true"`}},
	{"type null", `{"type":"null"}`, []string{`null`}, []string{`nul`, `0`}},
	{"type list", `{"type":["string","null"]}`, []string{`"x"`, `null`}, []string{`1`}},
	{"properties in order", `{"type":"object","properties":{"b":{"type":"integer"},"a":{"type":"string"}},"required":["b","a"]}`,
		[]string{`{"b":1,"a":"x"}`, `{"b": 1, "a": "x"}`}, []string{`{"a":"x","b":1}`, `{"b":1}`, `{"b":1,"a":"x","c":2}`, `{ "b":1,"a":"x"}`, `{"b":1,  "a":"x"}`}},
	{"optional properties", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"required":["b"]}`,
		[]string{`{"b":1}`, `{"a":1,"b":2}`, `{"b":2,"c":3}`, `{"a":1,"b":2,"c":3}`}, []string{`{}`, `{"a":1}`, `{"a":1,"c":3}`, `{,"b":1}`}},
	{"all optional", `{"properties":{"a":{"type":"integer"},"b":{"type":"integer"}}}`,
		[]string{`{}`, `{"a":1}`, `{"b":1}`, `{"a":1, "b":2}`}, []string{`{"b":1,"a":1}`, `{,}`}},
	{"required without property", `{"type":"object","required":["x"]}`, []string{`{"x":[1]}`}, []string{`{}`}},
	{"additionalProperties false", `{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}`,
		[]string{`{}`, `{"a":1}`}, []string{`{"b":1}`}},
	{"additionalProperties schema", `{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}`,
		[]string{`{"a":1,"b":"x"}`, `{"zz":"x","b_2":"y"}`}, []string{`{"b":1}`, `{"a":1,"a":"x"}`, `{"a":"x"}`}},
	{"additionalProperties only", `{"type":"object","additionalProperties":{"type":"integer"}}`,
		[]string{`{}`, `{"any key":1,"k":2}`}, []string{`{"k":"v"}`}},
	{"any object", `{"type":"object"}`, []string{`{}`, `{"a":{"b":[1,"c"]}}`}, []string{`[]`}},
	{"nested objects", `{"type":"object","properties":{"o":{"type":"object","properties":{"p":{"type":"boolean"}},"required":["p"]}},"required":["o"]}`,
		[]string{`{"o":{"p":true}}`}, []string{`{"o":{}}`, `{"o":{"p":1}}`}},
	{"enum", `{"enum":["a","b",1,null,{"k":[1,2]}]}`, []string{`"a"`, `1`, `null`, `{"k":[1,2]}`}, []string{`"c"`, `2`, `{"k":[1]}`}},
	{"enum with type", `{"type":"string","enum":["a",1]}`, []string{`"a"`}, []string{`1`}},
	{"enum html chars", `{"enum":["<a&b>"]}`, []string{`"<a&b>"`}, []string{`"\u003ca&b>"`}},
	{"const", `{"const":"fixed"}`, []string{`"fixed"`}, []string{`"other"`}},
	{"array items", `{"type":"array","items":{"type":"integer"}}`, []string{`[]`, `[1]`, `[1, 2,3]`}, []string{`[1,]`, `["a"]`, `[ 1]`}},
	{"minItems maxItems", `{"type":"array","items":{"type":"boolean"},"minItems":2,"maxItems":3}`,
		[]string{`[true,false]`, `[true,false,true]`}, []string{`[]`, `[true]`, `[true,true,true,true]`}},
	{"maxItems zero", `{"type":"array","maxItems":0}`, []string{`[]`}, []string{`[1]`}},
	{"items false", `{"type":"array","items":false}`, []string{`[]`}, []string{`[1]`}},
	{"anyOf", `{"anyOf":[{"type":"integer"},{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}]}`,
		[]string{`1`, `{"x":"y"}`}, []string{`"s"`, `{}`}},
	{"anyOf same start", `{"anyOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"type":"object","properties":{"b":{"type":"string"}},"required":["b"]}]}`,
		[]string{`{"a":1}`, `{"b":"x"}`}, []string{`{"a":"x"}`, `{"b":1}`}},
	{"oneOf", `{"oneOf":[{"type":"string"},{"type":"boolean"}]}`, []string{`"x"`, `true`}, []string{`1`}},
	{"allOf single", `{"allOf":[{"type":"integer"}],"title":"wrapped"}`, []string{`3`}, []string{`"3"`}},
	{"ref defs", `{"$defs":{"pos":{"type":"integer","minimum":0}},"type":"object","properties":{"n":{"$ref":"#/$defs/pos"}},"required":["n"]}`,
		[]string{`{"n":5}`}, []string{`{"n":-5}`}},
	{"ref definitions", `{"definitions":{"s":{"type":"string"}},"$ref":"#/definitions/s"}`, []string{`"x"`}, []string{`1`}},
	{"recursive ref", `{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},"$ref":"#/$defs/node"}`,
		[]string{`{"v":1,"next":null}`, `{"v":1,"next":{"v":2,"next":{"v":3,"next":null}}}`}, []string{`{"v":1,"next":{"v":2}}`}},
	{"root ref", `{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#"}}},"required":["kids"]}`,
		[]string{`{"kids":[]}`, `{"kids":[{"kids":[]}]}`}, []string{`{"kids":[{}]}`}},
	{"minLength maxLength", `{"type":"string","minLength":2,"maxLength":3}`, []string{`"ab"`, `"日本語"`, `"a\nb"`}, []string{`"a"`, `"abcd"`, `"日本語x"`}},
	{"pattern anchored", `{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"}`, []string{`"AB-123"`}, []string{`"ab-123"`, `"AB-1234"`, `"xAB-123"`}},
	{"pattern unanchored", `{"type":"string","pattern":"ab+c"}`, []string{`"abc"`, `"xxabbbcyy"`}, []string{`"ac"`}},
	{"pattern alternation groups", `{"type":"string","pattern":"^(?:cat|dog)s?( [0-9]+)?$"}`, []string{`"cat"`, `"dogs 12"`}, []string{`"cow"`, `"cats "`}},
	{"pattern negated class quote", `{"type":"string","pattern":"^[^a]+$"}`, []string{`"b\"c"`, `"\\"`}, []string{`"a"`, `""`}},
	{"format date", `{"type":"string","format":"date"}`, []string{`"2024-02-28"`, `"1999-12-31"`}, []string{`"2024-02-30"`, `"2024-13-01"`, `"2024-04-31"`}},
	{"format date-time", `{"type":"string","format":"date-time"}`, []string{`"2024-05-06T07:08:09Z"`, `"2024-05-06T23:59:59.123+02:00"`}, []string{`"2024-05-06 07:08:09Z"`, `"2024-05-06T24:00:00Z"`}},
	{"format time", `{"type":"string","format":"time"}`, []string{`"07:08:09Z"`}, []string{`"7:08:09Z"`}},
	{"format uuid", `{"type":"string","format":"uuid"}`, []string{`"123e4567-e89b-12d3-a456-426614174000"`}, []string{`"123e4567e89b12d3a456426614174000"`}},
	{"format email", `{"type":"string","format":"email"}`, []string{`"ada.l@example.co.uk"`}, []string{`"ada@"`, `"@x.org"`, `"a b@x.org"`}},
	{"integer range", `{"type":"integer","minimum":-15,"maximum":250}`, []string{`-15`, `0`, `9`, `99`, `199`, `250`}, []string{`-16`, `251`, `300`, `1000`, `-0`}},
	{"exclusive range", `{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10}`, []string{`1`, `9`}, []string{`0`, `10`}},
	{"unknown keyword ignored", `{"type":"string","x-vendor":true,"nullable":true}`, []string{`"x"`}, []string{`null`}},
	{"annotations", `{"type":"boolean","title":"t","description":"d","default":true,"examples":[false],"$schema":"https://json-schema.org/draft/2020-12/schema"}`, []string{`true`}, []string{`null`}},
}

func TestSchemaKeywords(t *testing.T) {
	for _, tt := range keywordCases {
		t.Run(tt.name, func(t *testing.T) {
			g, err := FromSchema([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			sv, err := parseValue([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.good {
				if !accepts(t, g, s) {
					t.Errorf("rejects %s", s)
				}
				if err := validateText(sv, []byte(s)); err != nil {
					t.Errorf("test case %s is not valid: %v", s, err)
				}
			}
			for _, s := range tt.bad {
				if accepts(t, g, s) {
					t.Errorf("accepts %s", s)
				}
			}
		})
	}
}

func TestSchemaUnsupported(t *testing.T) {
	tests := []struct{ schema, keyword string }{
		{`{"type":"number","minimum":0}`, "minimum"},
		{`{"type":"integer","multipleOf":3}`, "multipleOf"},
		{`{"type":"object","patternProperties":{"^x":{}}}`, "patternProperties"},
		{`{"type":"object","propertyNames":{"maxLength":3}}`, "propertyNames"},
		{`{"type":"object","minProperties":1}`, "minProperties"},
		{`{"not":{"type":"string"}}`, "not"},
		{`{"if":{"type":"string"},"then":{"minLength":1}}`, "if"},
		{`{"type":"array","contains":{"type":"integer"}}`, "contains"},
		{`{"type":"array","uniqueItems":true}`, "uniqueItems"},
		{`{"type":"array","prefixItems":[{"type":"integer"}]}`, "prefixItems"},
		{`{"type":"array","items":[{"type":"integer"}]}`, "items"},
		{`{"allOf":[{"type":"object"},{"required":["a"]}]}`, "allOf"},
		{`{"$ref":"https://example.com/schema.json"}`, "$ref"},
		{`{"$ref":"#/$defs/a","type":"string","$defs":{"a":{}}}`, "type"},
		{`{"type":"string","format":"uri"}`, "uri"},
		{`{"type":"string","pattern":"(a)\\1"}`, "pattern"},
		{`{"type":"string","pattern":"^(?=a)"}`, "pattern"},
		{`{"type":"string","pattern":"\\bword"}`, "pattern"},
		{`{"type":"string","format":"date","maxLength":3}`, "format"},
		{`{"type":"string","maxLength":100000}`, "maxLength"},
		{`{"properties":{"a":{"dependentRequired":{}}}}`, "dependentRequired"},
	}
	for _, tt := range tests {
		t.Run(tt.keyword, func(t *testing.T) {
			_, err := FromSchema([]byte(tt.schema))
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("got %v, want ErrUnsupported", err)
			}
			if !strings.Contains(err.Error(), tt.keyword) {
				t.Fatalf("error %q does not name %q", err, tt.keyword)
			}
		})
	}
}

func TestSchemaInvalid(t *testing.T) {
	for _, schema := range []string{
		`not json`, `{"type":"strin"}`, `{"type":7}`, `{"$ref":"#/nowhere"}`, `false`, `[]`,
		`{"type":"array","minItems":3,"maxItems":1}`, `{"enum":[]}`, `{"anyOf":[]}`,
		`{"type":"integer","minimum":5,"maximum":1}`, `{"properties":{"a":false},"required":["a"]}`,
		`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"anyOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}`,
		`{"type":"string","minLength":-1}`, `{"type":"string","pattern":"[]"}`,
	} {
		t.Run(schema, func(t *testing.T) {
			_, err := FromSchema([]byte(schema))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither ErrInvalid nor ErrUnsupported", err)
			}
		})
	}
}

func TestSchemaCache(t *testing.T) {
	a, err := FromSchema([]byte(`{"type": "string"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FromSchema([]byte(`{"type":"string"}`))
	if a != b {
		t.Fatal("same schema compiled twice")
	}
}
