package route

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestRewriteBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		usage      bool
		want       string // exact bytes: everything but the rewritten values stays as sent
		include    bool
	}{
		{"model replaced in place", `{ "messages": [ {"role":"user","content":"<b>hi</b>"} ],"model" : "alias", "x-unknown": {"a":[1,2.50]} }`, false,
			`{ "messages": [ {"role":"user","content":"<b>hi</b>"} ],"model" : "real/m", "x-unknown": {"a":[1,2.50]} }`, true},
		{"model added", `{"messages":[]}`, false, `{"model":"real/m","messages":[]}`, true},
		{"model added to an empty object", ` {} `, false, ` {"model":"real/m"} `, true},
		{"not a stream: nothing added", `{"model":"a","stream":false}`, true, `{"model":"real/m","stream":false}`, true},
		{"stream: usage asked for", `{"model":"a","stream":true}`, true,
			`{"stream_options":{"include_usage":true},"model":"real/m","stream":true}`, false},
		{"stream: the client's own options kept", `{"model":"a","stream":true,"stream_options":{"include_obfuscation":false}}`, true,
			`{"model":"real/m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}`, false},
		{"stream: the client asked for usage", `{"stream":true,"stream_options":{"include_usage":true},"model":"a"}`, true,
			`{"stream":true,"stream_options":{"include_usage":true},"model":"real/m"}`, true},
		{"stream: options that are not an object", `{"model":"a","stream":true,"stream_options":null}`, true,
			`{"model":"real/m","stream":true,"stream_options":{"include_usage":true}}`, false},
		{"anthropic stream: nothing added", `{"model":"a","stream":true}`, false, `{"model":"real/m","stream":true}`, true},
		{"a nested model is not the model", `{"metadata":{"model":"x"}}`, false, `{"model":"real/m","metadata":{"model":"x"}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, include, err := rewriteBody([]byte(tc.body), "real/m", tc.usage)
			if err != nil || string(got) != tc.want || include != tc.include {
				t.Fatalf("rewriteBody = %s, %v, %v\nwant          %s, %v", got, include, err, tc.want, tc.include)
			}
		})
	}
	t.Run("a repeated model: the last wins and the backend sees one", func(t *testing.T) {
		got, _, err := rewriteBody([]byte(`{"model":"a","messages":[],"model":"b"}`), "real/m", false)
		if err != nil || strings.Count(string(got), `"model"`) != 1 || !strings.Contains(string(got), `"model":"real/m"`) {
			t.Fatalf("rewriteBody = %s, %v", got, err)
		}
	})
	for _, bad := range []string{``, `[]`, `"model"`, `{"model":"a"`, `{"model":"a"} {}`, `{"model":"a"}x`, `{"a":}`, `null`} {
		if got, _, err := rewriteBody([]byte(bad), "m", true); err == nil {
			t.Errorf("rewriteBody(%q) = %s, want an error", bad, got)
		}
	}
}

// FuzzRewriteBody checks the in-place rewrite against decoding and encoding the
// whole body again (what the router did before): the same bodies are refused,
// and the others mean the same JSON.
func FuzzRewriteBody(f *testing.F) {
	for _, s := range []string{`{"model":"a","stream":true}`, `{"stream":true,"stream_options":{"include_usage":false},"messages":[{"content":"x"}]}`,
		`{}`, `{"model":1}`, `{"Model":"a","model":"b"}`, `{"stream":"yes"}`, "{\"model\":\"\xff\"}", `{"a":{"a":1,"a":2}}`} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, usage bool) {
		got, include, err := rewriteBody(body, "real/m", usage)
		want, wantInclude, wantErr := reencodeBody(body, "real/m", usage)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("rewriteBody(%q): err %v, re-encoding: err %v", body, err, wantErr)
		}
		if err != nil {
			return
		}
		if include != wantInclude {
			t.Fatalf("rewriteBody(%q): include_usage %v, re-encoding: %v", body, include, wantInclude)
		}
		var a, b any
		if err := decodeNumbers(got, &a); err != nil {
			t.Fatalf("rewriteBody(%q) = %q, not JSON: %v", body, got, err)
		}
		if err := decodeNumbers(want, &b); err != nil {
			t.Fatalf("re-encoding %q: %v", want, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("rewriteBody(%q) = %s\nre-encoding  = %s", body, got, want)
		}
	})
}

func decodeNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}
