package engine

import (
	"context"
	"testing"
)

func TestBusDropsOldestAndSaysSo(t *testing.T) {
	var b bus
	slow, cancel := b.subscribe()
	defer cancel()
	const n = eventBuffer + 10
	for i := range n {
		b.publish(Event{Topic: TopicModel, Model: ModelEvent{Model: string(rune('a' + i%26)), Bytes: int64(i)}})
	}
	var got []Event
	for len(got) < eventBuffer {
		got = append(got, <-slow)
	}
	if first := got[0].Model.Bytes; first != n-eventBuffer {
		t.Errorf("oldest kept is %d, want %d: the newest events stay", first, n-eventBuffer)
	}
	if !got[len(got)-1].Lost || got[0].Lost {
		t.Errorf("Lost on the first %v and the last %v; want only those enqueued after a drop", got[0].Lost, got[len(got)-1].Lost)
	}
	b.publish(Event{Topic: TopicDownloads})
	if ev := <-slow; ev.Lost || ev.Topic != TopicDownloads {
		t.Errorf("after catching up: %+v, want a plain event", ev)
	}
	b.close()
	if _, open := <-slow; open {
		t.Error("close left the channel open")
	}
	if late, _ := b.subscribe(); late != nil {
		if _, open := <-late; open {
			t.Error("a subscription after close is open")
		}
	}
}

// TestEventsOfALoad: loading a model publishes its steps on the engine's
// stream, and closing the engine ends the stream. The test waits on the events.
func TestEventsOfALoad(t *testing.T) {
	e := newTestEngine(t)
	installTiny(t, e, "test/ev")
	events, cancel := e.Subscribe()
	defer cancel()
	if err := e.Load(context.Background(), "test/ev", LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	var kinds []ModelEventKind
	for ev := range events {
		if ev.Topic == TopicModel && ev.Model.Model == "test/ev" {
			kinds = append(kinds, ev.Model.Kind)
		}
		if len(kinds) > 0 && kinds[len(kinds)-1] == EventReady {
			break
		}
	}
	if len(kinds) != 2 || kinds[0] != EventLoading {
		t.Errorf("events %v, want loading then ready", kinds)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for range events {
		// the unload on close, then the end of the stream
	}
}
