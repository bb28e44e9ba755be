package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/engine/sample"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

func TestV1Error(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("model org/m: %w", err) }
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		param  string
		retry  bool
	}{
		{"param", &openai.ParamError{Param: "n", Message: "bad"}, 400, "", "n", false},
		{"param code", &openai.ParamError{Param: "audio", Code: "unsupported_parameter", Message: "no"}, 400, "unsupported_parameter", "audio", false},
		{"context length", &engine.ContextLengthError{PromptTokens: 9, ContextLength: 8}, 400, "context_length_exceeded", "messages", false},
		{"invalid", wrap(&engine.InvalidError{Param: "tools[0].function.parameters", Err: errors.New("bad schema")}), 400, "invalid_value", "tools[0].function.parameters", false},
		{"unsupported schema", &engine.InvalidError{Param: "response_format.json_schema.schema", Err: fmt.Errorf("%w: patternProperties", grammar.ErrUnsupported)}, 400, "unsupported_value", "response_format.json_schema.schema", false},
		{"sampling", fmt.Errorf("%w: top_p", sample.ErrInvalidParams), 400, "invalid_value", "", false},
		{"not found", wrap(engine.ErrModelNotFound), 404, "model_not_found", "model", false},
		{"unsupported model", wrap(engine.ErrUnsupported), 400, "model_not_supported", "model", false},
		{"queue full", wrap(pool.ErrQueueFull), 429, "queue_full", "", true},
		{"too large", wrap(pool.ErrTooLarge), 507, "model_too_large", "", false},
		{"no room", wrap(pool.ErrNoRoom), 503, "no_memory", "", true},
		{"queue timeout", wrap(pool.ErrQueueTimeout), 503, "queue_timeout", "", false},
		{"closed", wrap(pool.ErrClosed), 503, "shutting_down", "", false},
		{"unknown", errors.New("disk on fire"), 500, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := toError(v1Error(tt.err))
			if e.Status != tt.status || e.Code != tt.code || e.Param != tt.param || (e.RetryAfter > 0) != tt.retry {
				t.Errorf("%v → %d %q %q retry %d", tt.err, e.Status, e.Code, e.Param, e.RetryAfter)
			}
		})
	}
	if err := v1Error(context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled became %v", err)
	}
	if v1Error(nil) != nil {
		t.Error("nil became an error")
	}
	if e := toError(modelNotFound("x")); e.Status != http.StatusNotFound || e.Code != "model_not_found" {
		t.Errorf("modelNotFound %+v", e)
	}
}
