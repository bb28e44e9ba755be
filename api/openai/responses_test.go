package openai

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
)

// TestInputItems checks that an earlier answer's reasoning, text and calls in
// a row become one assistant turn, and that a call's output names its function.
func TestInputItems(t *testing.T) {
	raw := json.RawMessage(`[
		{"role":"developer","content":"Be brief."},
		{"type":"message","role":"user","content":[{"type":"input_text","text":"Weather "},{"type":"input_text","text":"in Paris?"}]},
		{"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"Look it up."}]},
		{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}]},
		{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
		{"type":"function_call_output","call_id":"call_1","output":"21 degrees"},
		{"role":"user","content":"Thanks"}]`)
	got, _, err := inputItems(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Message{
		{Role: "developer", Content: "Be brief."},
		{Role: "user", Content: "Weather in Paris?"},
		{Role: "assistant", Content: "Checking.", Reasoning: "Look it up.",
			ToolCalls: []engine.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Paris"}`)}}},
		{Role: "tool", Content: "21 degrees", ToolCallID: "call_1", Name: "get_weather"},
		{Role: "user", Content: "Thanks"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if msgs, _, err := inputItems(json.RawMessage(`"Hi"`), false); err != nil || len(msgs) != 1 || msgs[0].Role != "user" {
		t.Fatalf("string input: %+v, %v", msgs, err)
	}
	if _, _, err := inputItems(nil, true); err != nil {
		t.Fatalf("no input after a previous response: %v", err)
	}
	for in, param := range map[string]string{
		`[{"type":"function_call","name":"f","arguments":"{}"}]`:              "input[0].call_id",
		`[{"type":"function_call","call_id":"c","name":"f","arguments":"{"}]`: "input[0].arguments",
		`[{"role":"user","content":"x","colour":"red"}]`:                      "input[0].colour",
		`[{"type":"item_reference","id":"msg_1"}]`:                            "input[0].type",
		`42`: "input",
	} {
		_, _, err := inputItems(json.RawMessage(in), false)
		pe, ok := err.(*ParamError)
		if !ok || pe.Param != param {
			t.Errorf("%s: %v, want an error on %s", in, err, param)
		}
	}
}

// TestHistoryRoundTrip checks that an answer's output items come back as the
// assistant turn a later previous_response_id request continues from.
func TestHistoryRoundTrip(t *testing.T) {
	res := &engine.Result{Content: "Hi.", Reasoning: "Greet.", FinishReason: "tool_calls",
		ToolCalls: []engine.ToolCall{{ID: "call_9", Name: "f", Arguments: json.RawMessage(`{"a":1}`)}}}
	out := OutputFrom(res)
	if len(out) != 3 || out[0].Type != "reasoning" || out[1].Type != "message" || out[2].Type != "function_call" {
		t.Fatalf("output %+v", out)
	}
	got := History(out)
	want := engine.Message{Role: "assistant", Content: "Hi.", Reasoning: "Greet.", ToolCalls: res.ToolCalls}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history %+v, want %+v", got, want)
	}
}
