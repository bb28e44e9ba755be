package app

import (
	"strings"
	"testing"
)

// The CLI commands hand their flags to newRunner without the daemon's
// config.Validate: it must refuse what Validate refuses.
func TestNewRunnerRefuses(t *testing.T) {
	for _, tt := range []struct {
		executor string
		p        precision
		want     string
	}{
		{"cpu", precision{KV: "f8"}, "kv cache"},
		{"cpu", precision{Activations: "int8"}, "want int16 or f32"},
		{"cpu", precision{Prefill: "f16"}, "want bf16, f32 or int8"},
		{"gpu", precision{}, "unknown executor"},
	} {
		if _, err := newRunner(tt.executor, tt.p, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("newRunner(%q, %+v) = %v, want an error mentioning %q", tt.executor, tt.p, err, tt.want)
		}
	}
	for _, p := range []precision{{}, {KV: "f32", Activations: "f32", Prefill: "int8"}, {KV: "f16", Activations: "int16", Prefill: "f32"}} {
		if _, err := newRunner("cpu", p, nil); err != nil {
			t.Errorf("newRunner(cpu, %+v): %v", p, err)
		}
	}
}
