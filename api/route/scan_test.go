package route

import (
	"encoding/json"
	"strings"
	"testing"
)

// quickBodies are bodies quickTop must read itself: what clients send.
var quickBodies = []string{
	`{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0,"stream":true}`,
	` { "model" : "a/b:c" , "stream" : false , "stream_options" : null } `,
	"{\n\t\"messages\": [{\"content\": \"caf\xc3\xa9 \\u00e9 \\n \\\" \\\\ \\/ \\b\\f\\r\\t\"}],\n\t\"model\": \"x\"\n}",
	`{}`, `{"a":[]}`, `{"a":{}}`, `{"a":[1,-2,0.5,1e9,-0.25E-3,true,false,null,"s",{"b":[{}]}]}`,
	`{"model":null}`, `{"model":12}`, `{"model":{"name":"x"}}`, `{"metadata":{"model":"x","Model":"y"}}`,
	`{"model":"a","model":"b"}`, `{"stream":true,"stream_options":{"include_usage":false}}`,
	"{\"content\":\"\xff\xfe\"}", // invalid UTF-8 in a value: the decoder lets it through as well
}

// slowBodies are valid bodies quickTop leaves to the decoder.
var slowBodies = []string{
	`{"mod\u0065l":"a"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ud800"}`,
	`{"a":` + strings.Repeat("[", maxQuickDepth+2) + strings.Repeat("]", maxQuickDepth+2) + `}`,
}

// badBodies are not one JSON object.
var badBodies = []string{
	``, ` `, `[]`, `"model"`, `null`, `{`, `{"model":"a"`, `{"model":"a"} {}`, `{"model":"a"}x`, `{"a":}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":tru}`, `{"a":nul}`, `{"a":"x}`,
	"{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a" "b"}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`,
	`{"a":[1 2]}`, `{a:1}`, `{"a":1}}`, `{"a":{"b":1}`, `{"a":"\`, `{"a":1 "b":2}`,
}

func TestQuickTop(t *testing.T) {
	for _, body := range quickBodies {
		f, _, ok := quickTop([]byte(body))
		if !ok {
			t.Errorf("quickTop(%q) left a plain body to the decoder", body)
			continue
		}
		want, err := decodeTop([]byte(body))
		if err != nil || f != want {
			t.Errorf("quickTop(%q) = %+v, the decoder: %+v, %v", body, f, want, err)
		}
	}
	for _, body := range slowBodies {
		if _, _, ok := quickTop([]byte(body)); ok {
			t.Errorf("quickTop(%q) read a body it must leave to the decoder", body)
		}
		if _, err := scanTop([]byte(body)); err != nil {
			t.Errorf("scanTop(%q): %v, want it read by the decoder", body, err)
		}
	}
	for _, body := range badBodies {
		if _, _, ok := quickTop([]byte(body)); ok {
			t.Errorf("quickTop(%q) read a body that is not one JSON object", body)
		}
		if _, err := scanTop([]byte(body)); err == nil {
			t.Errorf("scanTop(%q): no error", body)
		}
	}
}

// modelRef is what ModelOf was: encoding/json's reading of the field.
func modelRef(body []byte) string {
	var v struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Model
}

func TestModelOf(t *testing.T) {
	cases := append(append(append([]string{}, quickBodies...), slowBodies...), badBodies...)
	cases = append(cases, `{"Model":"a"}`, `{"model":"a","MODEL":"b"}`, `{"MoDeL":"a","model":"b"}`,
		`{"model":"caf\u00e9"}`, "{\"model\":\"caf\xc3\xa9\"}", "{\"model\":\"\xff\"}", `{"model":"a\"b"}`,
		`{"model":true}`, `{"model":["a"]}`, `{"modeL":"x","stream":true}`, `{"models":"x"}`, `{"mode":"x"}`)
	for _, body := range cases {
		if got, want := ModelOf([]byte(body)), modelRef([]byte(body)); got != want {
			t.Errorf("ModelOf(%q) = %q, encoding/json reads %q", body, got, want)
		}
	}
	if _, ok := quickModel([]byte(quickBodies[0])); !ok {
		t.Errorf("quickModel left a plain body to encoding/json")
	}
}

// TestQuickAllocs holds the point of quickTop: a plain body is read without
// allocating.
func TestQuickAllocs(t *testing.T) {
	body := []byte(quickBodies[0])
	if n := testing.AllocsPerRun(100, func() { _, _ = scanTop(body) }); n != 0 {
		t.Errorf("scanTop: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ModelOf(body) }); n > 1 { // the model's string
		t.Errorf("ModelOf: %v allocations, want at most 1", n)
	}
}

// FuzzQuickTop checks that whatever quickTop reads, the decoder reads the same,
// and that ModelOf's quick answer is encoding/json's.
func FuzzQuickTop(f *testing.F) {
	for _, s := range quickBodies {
		f.Add([]byte(s))
	}
	for _, s := range append(slowBodies[:3], badBodies...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, ok := quickModel(body); ok {
			if want := modelRef(body); got != want {
				t.Fatalf("quickModel(%q) = %q, encoding/json reads %q", body, got, want)
			}
		}
		fields, _, ok := quickTop(body)
		if !ok {
			return
		}
		want, err := decodeTop(body)
		if err != nil || fields != want {
			t.Fatalf("quickTop(%q) = %+v, the decoder: %+v, %v", body, fields, want, err)
		}
	})
}
