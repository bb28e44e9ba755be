package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckArchitecture(t *testing.T) {
	supported := SupportedArchitectures()
	if !slices.Contains(supported, "LlamaForCausalLM") || !slices.IsSorted(supported) {
		t.Fatalf("supported = %v, want the registry's names sorted", supported)
	}
	tests := []struct {
		name, config, arch string
		ok                 bool
	}{
		{"registered", `{"architectures":["LlamaForCausalLM"]}`, "LlamaForCausalLM", true},
		{"unknown", `{"architectures":["AlienForCausalLM"]}`, "AlienForCausalLM", false},
		{"none named", `{"model_type":"llama"}`, "", false},
		{"not json", `{`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkArchitecture("org/m", []byte(tt.config))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok {
				return
			}
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) || ue.Architecture != tt.arch {
				t.Fatalf("err = %#v, want an *UnsupportedError for %q wrapping ErrUnsupported", err, tt.arch)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "org/m: ") || !strings.Contains(msg, strings.Join(supported, ", ")) {
				t.Errorf("message %q does not name the model and list %v", msg, supported)
			}
			if c, ok := Classify(err); !ok || c.Kind != KindUnsupported || c.Code != "model_not_supported" {
				t.Errorf("Classify = %+v %v", c, ok)
			}
			info := DescribeConfig("org/m", []byte(tt.config))
			if info.Supported || info.Architecture != tt.arch || info.Unsupported == "" ||
				tt.arch != "" && !strings.Contains(info.Unsupported, tt.arch+" is not supported") {
				t.Errorf("DescribeConfig = %+v", info)
			}
		})
	}
}
