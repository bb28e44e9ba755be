package openai

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// fitBodies are request bodies of every shape Decode meets: they seed the
// fuzzer, and the valid ones must take the one-read path.
var fitBodies = []string{
	`{"model":"a/b","messages":[{"role":"user","content":"hi"}]}`,
	` {"model":"a/b","temperature":null,"stop":null,"messages":null} `,
	`{"model":"a/b","user":"u","metadata":{"k":"v"},"store":true,"service_tier":"auto"}`,
	`{"model":"a/b","messages":[{"role":"user","content":[{"type":"text","text":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}]}],"max_tokens":12,"temperature":-0.5e-3,"top_p":1E+0,"seed":-7}`,
	`{"model":"a/b","logit_bias":{"5":-100,"7":1.5},"stop":["a","b"],"stream_options":{"include_usage":true}}`,
	`{"model":"a/b","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":["string","null"]}}}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
	`{"model":"a/b","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
	"{\"model\":\"\xff\xfe\"}", // invalid UTF-8 is valid JSON
	`{}`,
	// Refused, or left to decodeChecked.
	`{"model":`, `{"model":"a/b"} {}`, `["model"]`, `{"temprature":1}`, `{"Model":"a/b"}`, `{"mod\u0065l":"a/b"}`,
	`{"model":"a","model":"b"}`, `{"temperature":"hot"}`, `{"max_tokens":1.5}`, `{"seed":99999999999999999999}`,
	`{"temperature":1e999}`, `{"stream":{}}`, `{"stream_options":[]}`, `{"logit_bias":{"5":"x"}}`,
	`{"tools":[{"type":"function","function":{"name":1}}]}`, `{"model":"a\u12"}`, `{"model":"a\x"}`, "{\"model\":\"a\x01\"}",
	`{"temperature":01}`, `{"temperature":1.}`, `{"temperature":-}`, `{"temperature":1e}`, `{"stream":tru}`, `{"model":"a",}`,
	`{"messages":[1,]}`, `{,}`, `{"model" "a"}`, `{"metadata":{"k":[}}`, `{"n":+1}`, `{"stop":nul}`,
	`{"model":"a/b"` + strings.Repeat(" ", 3) + `}`, "{\"model\":\"a/b\"}\n",
}

// TestFitsAgreesWithDecode holds the one-read path to the careful one: what
// fits accepts, decodeChecked accepts and decodes to the same value, and every
// well-formed body above takes the one-read path.
func TestFitsAgreesWithDecode(t *testing.T) {
	for _, body := range fitBodies {
		checkFits(t, []byte(body))
	}
	for _, body := range fitBodies[:9] {
		if !fits([]byte(body), reflect.TypeFor[ChatRequest]()) {
			t.Errorf("fits(%s) = false, want the one-read path", body)
		}
	}
	var msgs []string
	for range 50 {
		msgs = append(msgs, `{"role":"user","content":"`+strings.Repeat("word ", 40)+`"}`)
	}
	long := `{"model":"a/b","messages":[` + strings.Join(msgs, ",") + `]}`
	if !fits([]byte(long), reflect.TypeFor[ChatRequest]()) {
		t.Error("a long chat does not take the one-read path")
	}
}

// checkFits compares fits with encoding/json's grammar and with decodeChecked.
func checkFits(t *testing.T, body []byte) {
	t.Helper()
	if len(body) > 0 && body[0] == '{' {
		// With no type to check against, fits is exactly a JSON object validator.
		if got, want := fits(body, reflect.TypeFor[map[string]any]()), json.Valid(body); got != want {
			t.Errorf("fits(%q, any object) = %v, json.Valid = %v", body, got, want)
		}
	}
	for _, typ := range []any{&ChatRequest{}, &CompletionRequest{}, &EmbeddingRequest{}} {
		if !fits(body, reflect.TypeOf(typ).Elem()) {
			continue
		}
		fast := reflect.New(reflect.TypeOf(typ).Elem()).Interface()
		slow := reflect.New(reflect.TypeOf(typ).Elem()).Interface()
		errFast := Decode(body, fast)
		errSlow := decodeChecked(body, slow)
		if errSlow != nil {
			t.Errorf("%T: fits accepted %q, decodeChecked refused it: %v", typ, body, errSlow)
			continue
		}
		if errFast != nil || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%T %q: Decode = %+v, %v; decodeChecked = %+v", typ, body, fast, errFast, slow)
		}
	}
}

func FuzzFits(f *testing.F) {
	for _, body := range fitBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(checkFits)
}
