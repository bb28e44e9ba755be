package openai

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantParam string // "" with wantErr: the body as a whole
		wantErr   bool
		wantMsg   string
	}{
		{name: "minimal", body: `{"model":"a/b","messages":[{"role":"user","content":"hi"}]}`},
		{name: "nulls leave zero values", body: `{"model":"a/b","temperature":null,"stop":null,"messages":null}`},
		{name: "informational fields", body: `{"model":"a/b","user":"u","metadata":{"k":"v"},"store":true,"service_tier":"auto"}`},
		{name: "not JSON", body: `{"model":`, wantErr: true, wantMsg: "invalid JSON"},
		{name: "trailing data", body: `{"model":"a/b"} {}`, wantErr: true, wantMsg: "invalid JSON"},
		{name: "not an object", body: `["model"]`, wantErr: true, wantMsg: "JSON object"},
		{name: "unknown field", body: `{"model":"a/b","temprature":1}`, wantParam: "temprature", wantErr: true},
		{name: "field names are exact", body: `{"Model":"a/b"}`, wantParam: "Model", wantErr: true},
		{name: "unknown nested field", body: `{"messages":[{"role":"user","content":"x"},{"role":"user","contnet":"y"}]}`, wantParam: "messages[1].contnet", wantErr: true},
		{name: "string for number", body: `{"temperature":"hot"}`, wantParam: "temperature", wantErr: true, wantMsg: "must be a number"},
		{name: "fraction for integer", body: `{"max_tokens":1.5}`, wantParam: "max_tokens", wantErr: true, wantMsg: "integer"},
		{name: "integer overflow", body: `{"seed":99999999999999999999}`, wantParam: "seed", wantErr: true},
		{name: "number out of range", body: `{"temperature":1e999}`, wantParam: "temperature", wantErr: true},
		{name: "object for bool", body: `{"stream":{}}`, wantParam: "stream", wantErr: true, wantMsg: "boolean"},
		{name: "array for object", body: `{"stream_options":[]}`, wantParam: "stream_options", wantErr: true},
		{name: "bad map value", body: `{"logit_bias":{"5":"x"}}`, wantParam: "logit_bias.5", wantErr: true},
		{name: "nested tool type", body: `{"tools":[{"type":"function","function":{"name":1}}]}`, wantParam: "tools[0].function.name", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r ChatRequest
			err := Decode([]byte(tt.body), &r)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("Decode = %v, want a *ParamError", err)
			}
			if pe.Param != tt.wantParam {
				t.Errorf("param = %q, want %q (%v)", pe.Param, tt.wantParam, pe)
			}
			if !strings.Contains(pe.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", pe.Message, tt.wantMsg)
			}
		})
	}
}

func TestDecodeFillsValues(t *testing.T) {
	var r ChatRequest
	body := `{"model":"a/b","temperature":0,"n":2,"logit_bias":{"7":-100},"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"user":"u"}`
	if err := Decode([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Temperature == nil || *r.Temperature != 0 || *r.N != 2 || r.LogitBias["7"] != -100 || len(r.Messages) != 1 {
		t.Fatalf("decoded %+v", r)
	}
}

// FuzzDecode feeds arbitrary bodies to every request type: decoding and conversion
// never panic, and every refusal is a *ParamError.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"model":"a/b","messages":[{"role":"user","content":"hi"}],"stop":["x"],"n":2,"logprobs":true,"top_logprobs":3}`,
		`{"model":"a/b","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"ok"}]}`,
		`{"model":"a/b","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`,
		`{"model":"a/b","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"model":"a/b","response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}}}`,
		`{"model":"a/b","prompt":["a","b"],"echo":true,"logprobs":2,"keep_alive":"5m"}`,
		`{"model":"a/b","prompt":[[1,2]],"input":"x","encoding_format":"base64","dimensions":8}`,
		`{"model":"a/b","max_tokens":8,"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}]}`,
		`{"model":"a/b","max_tokens":8,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}],"thinking":{"type":"enabled","budget_tokens":4}}`,
		`[]`, `null`, `{"temperature":-0}`, `{"stop":"\u0000"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		var err error
		switch kind % 4 {
		case 0:
			var r ChatRequest
			if err = Decode(body, &r); err == nil {
				_, err = r.Engine(Defaults{})
			}
		case 1:
			var r CompletionRequest
			if err = Decode(body, &r); err == nil {
				_, err = r.Engine(Defaults{})
			}
		case 2:
			var r EmbeddingRequest
			if err = Decode(body, &r); err == nil {
				_, err = r.Engine(Defaults{})
			}
		case 3:
			var r MessagesRequest
			if err = Decode(body, &r); err == nil {
				_, err = r.Engine(Defaults{})
			}
		}
		var pe *ParamError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParamError", err, err)
		}
	})
}
