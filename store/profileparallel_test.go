package store

import (
	"maps"
	"testing"
)

func TestModelParallel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		profiles []Profile
		want     map[string]int
	}{
		{"none", nil, map[string]int{}},
		{"unset profiles leave the pool setting", []Profile{{Model: "a/b"}, {Model: "c/d", Parallel: 0}}, map[string]int{}},
		{"one", []Profile{{Model: "a/b", Parallel: 2}}, map[string]int{"a/b": 2}},
		{"the largest of a model's profiles", []Profile{{Model: "a/b", Parallel: 2}, {Model: "a/b", Parallel: 8}, {Model: "a/b"}}, map[string]int{"a/b": 8}},
		{"by model", []Profile{{Model: "a/b", Parallel: 2}, {Model: "local/x", Parallel: 1}}, map[string]int{"a/b": 2, "local/x": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ModelParallel(c.profiles); !maps.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
