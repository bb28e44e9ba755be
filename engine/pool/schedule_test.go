package pool

import (
	"slices"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	idle := func(id string, charge int64, used int) slot {
		return slot{id: id, charge: charge, lastUsed: at(used), idle: true}
	}
	busy := func(id string, charge int64, used int) slot {
		return slot{id: id, charge: charge, lastUsed: at(used)}
	}
	tests := []struct {
		name      string
		lim       limits
		need      int64
		loaded    []slot
		freeing   int64
		want      verdict
		wantEvict []eviction
	}{
		{name: "fits in free memory", lim: limits{budget: 300}, need: 100,
			loaded: []slot{idle("a", 100, 1)}, want: fits},
		{name: "exactly fills the budget", lim: limits{budget: 200}, need: 100,
			loaded: []slot{idle("a", 100, 1)}, want: fits},
		{name: "no cap", lim: limits{budget: 0}, need: 1 << 50,
			loaded: []slot{idle("a", 1<<40, 1)}, want: fits},
		{name: "evicts the least recently used", lim: limits{budget: 300}, need: 100,
			loaded:    []slot{idle("a", 100, 3), idle("b", 100, 1), idle("c", 100, 2)},
			want:      fits,
			wantEvict: []eviction{{"b", ReasonMemory}}},
		{name: "evicts as many as needed, oldest first", lim: limits{budget: 300}, need: 250,
			loaded:    []slot{idle("a", 100, 3), idle("b", 100, 1), idle("c", 100, 2)},
			want:      fits,
			wantEvict: []eviction{{"b", ReasonMemory}, {"c", ReasonMemory}, {"a", ReasonMemory}}},
		{name: "ties break by id", lim: limits{budget: 200}, need: 100,
			loaded:    []slot{idle("b", 100, 1), idle("a", 100, 1)},
			want:      fits,
			wantEvict: []eviction{{"a", ReasonMemory}}},
		{name: "busy and pinned are skipped", lim: limits{budget: 300}, need: 100,
			loaded:    []slot{busy("old", 100, 0), idle("mid", 100, 2), busy("pinned", 100, 1)},
			want:      fits,
			wantEvict: []eviction{{"mid", ReasonMemory}}},
		{name: "busy models hold the room: wait", lim: limits{budget: 300}, need: 200,
			loaded: []slot{busy("a", 100, 0), idle("b", 100, 2), busy("c", 100, 1)},
			want:   mustWait},
		{name: "more than the budget: too large, nothing evicted", lim: limits{budget: 300}, need: 301,
			loaded: []slot{idle("a", 100, 1)}, want: tooLarge},
		{name: "memory being freed counts until it is", lim: limits{budget: 300}, need: 100,
			loaded: []slot{busy("a", 100, 1)}, freeing: 150, want: mustWait},
		{name: "max models", lim: limits{maxModels: 2}, need: 100,
			loaded:    []slot{idle("a", 100, 2), idle("b", 100, 1)},
			want:      fits,
			wantEvict: []eviction{{"b", ReasonMaxModels}}},
		{name: "max models with all busy", lim: limits{maxModels: 1}, need: 1,
			loaded: []slot{busy("a", 100, 2)}, want: mustWait},
		{name: "count first, then memory", lim: limits{budget: 300, maxModels: 3}, need: 200,
			loaded:    []slot{idle("a", 100, 1), idle("b", 100, 2), idle("c", 50, 3)},
			want:      fits,
			wantEvict: []eviction{{"a", ReasonMaxModels}, {"b", ReasonMemory}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := slices.Clone(tt.loaded)
			got, evict := decide(tt.lim, tt.need, tt.loaded, tt.freeing)
			if got != tt.want || !slices.Equal(evict, tt.wantEvict) {
				t.Errorf("decide = %v %v, want %v %v", got, evict, tt.want, tt.wantEvict)
			}
			if !slices.Equal(loaded, tt.loaded) {
				t.Errorf("decide changed its input: %v", tt.loaded)
			}
		})
	}
}

func TestFitOverLimits(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	loaded := []slot{
		{id: "a", charge: 100, lastUsed: t0.Add(3), idle: true},
		{id: "b", charge: 100, lastUsed: t0.Add(1), idle: true},
		{id: "c", charge: 100, lastUsed: t0.Add(2)},
	}
	tests := []struct {
		name   string
		lim    limits
		want   []eviction
		wantOK bool
	}{
		{"within limits", limits{budget: 300, maxModels: 3}, nil, true},
		{"lowered budget", limits{budget: 200}, []eviction{{"b", ReasonMemory}}, true},
		{"lowered count", limits{maxModels: 1}, []eviction{{"b", ReasonMaxModels}, {"a", ReasonMaxModels}}, true},
		{"below what is busy: evict every idle one", limits{budget: 50},
			[]eviction{{"b", ReasonMemory}, {"a", ReasonMemory}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fit(tt.lim, 0, 0, loaded, 0)
			if ok != tt.wantOK || !slices.Equal(got, tt.want) {
				t.Errorf("fit = %v %v, want %v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func BenchmarkDecide(b *testing.B) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var loaded []slot
	for i := range 16 {
		loaded = append(loaded, slot{id: string(rune('a' + i)), charge: 1 << 30, lastUsed: t0.Add(time.Duration(16-i) * time.Second), idle: i%3 != 0})
	}
	lim := limits{budget: 16 << 30, maxModels: 16}
	for b.Loop() {
		decide(lim, 4<<30, loaded, 0)
	}
}
