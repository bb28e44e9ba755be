package openai

import "github.com/mlx-manager/mlx-manager/engine"

// ContextOverflow is the context_overflow field of an answer: what the
// request's policy dropped from the chat to fit the model's window.
type ContextOverflow struct {
	Policy          string `json:"policy"`
	DroppedMessages int    `json:"dropped_messages"`
	DroppedTokens   int    `json:"dropped_tokens"`
}

// ContextOverflowFrom is nil when nothing was dropped.
func ContextOverflowFrom(o *engine.Overflow) *ContextOverflow {
	if o == nil {
		return nil
	}
	return &ContextOverflow{Policy: o.Policy, DroppedMessages: o.DroppedMessages, DroppedTokens: o.DroppedTokens}
}

// contextOverflow reads the policy, accepting LM Studio's SDK spellings too.
func contextOverflow(p *string) (string, error) {
	if p == nil {
		return "", nil
	}
	switch *p {
	case engine.OverflowStop, "stopAtLimit":
		return engine.OverflowStop, nil
	case engine.OverflowTruncateMiddle, "truncateMiddle":
		return engine.OverflowTruncateMiddle, nil
	case engine.OverflowRollingWindow, "rollingWindow":
		return engine.OverflowRollingWindow, nil
	}
	return "", paramErr("context_overflow", "must be truncate_middle, rolling_window or stop, got %q", *p)
}
