package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/chat"
)

// TestHarmonyConstraints: a harmony (gpt-oss) model's calls are free: auto
// gets no grammar, and required or a named function, which a text grammar
// cannot force through its control-token headers, are refused by name.
func TestHarmonyConstraints(t *testing.T) {
	l := &loaded{}
	c, err := l.constraintFor(&ChatRequest{Tools: weatherTools}, chat.FormatHarmony)
	if err != nil || c != nil {
		t.Fatalf("auto: %+v, %v", c, err)
	}
	for _, mode := range []string{"required", "function"} {
		_, err := l.constraintFor(&ChatRequest{Tools: weatherTools, ToolChoice: ToolChoice{Mode: mode, Name: "get_weather"}}, chat.FormatHarmony)
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Param != "tool_choice" || !strings.Contains(err.Error(), "harmony") {
			t.Errorf("%s: %v", mode, err)
		}
	}
	c, err = l.constraintFor(&ChatRequest{Tools: weatherTools, ResponseFormat: &ResponseFormat{Type: "json_object"}}, chat.FormatHarmony)
	if err != nil || c == nil || c.param != "response_format" {
		t.Fatalf("response_format: %+v, %v", c, err)
	}
}
