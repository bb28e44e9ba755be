package chat

import (
	"reflect"
	"testing"
)

// TestHarmonyStreams: analysis and final text stream as they arrive, with
// a possible token held back; a call comes whole when its message ends.
func TestHarmonyStreams(t *testing.T) {
	p := NewParser(Options{Format: FormatHarmony})
	var got [][]EventKind
	for _, s := range []string{"<|channel|>ana", "lysis<|message|>Look", " it up<|e", "nd|><|start|>assistant to=functions.search<|channel|>commentary json<|message|>{\"q\":", " \"go\"}"} {
		var kinds []EventKind
		for _, ev := range p.Feed(s) {
			kinds = append(kinds, ev.Kind)
		}
		got = append(got, kinds)
	}
	var last []EventKind
	for _, ev := range p.Close() {
		last = append(last, ev.Kind)
	}
	got = append(got, last)
	want := [][]EventKind{nil, {EventReasoning}, {EventReasoning}, nil, nil, {EventToolCallStart, EventToolCallArgs, EventDone}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestHarmonyCut: a call the token limit cut is dropped (Parser.Cut), and
// one the output ended inside with broken JSON is released as content.
func TestHarmonyCut(t *testing.T) {
	text := "<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\": "
	p := NewParser(Options{Format: FormatHarmony})
	if r := Collect(append(p.Feed(text), p.Cut()...)); r.Content != "" || len(r.ToolCalls) != 0 {
		t.Errorf("cut: %+v", r)
	}
	if r := ParseOutput(text, Options{Format: FormatHarmony}); r.Content != `{"a": ` || len(r.ToolCalls) != 0 {
		t.Errorf("closed: %+v", r)
	}
}
