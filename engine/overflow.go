package engine

import (
	"fmt"
	"sort"

	"github.com/mlx-manager/mlx-manager/engine/chat"
)

// Context overflow policies: what a chat whose history outgrows the model's
// window does. The names are LM Studio's, which chat users know.
const (
	// OverflowStop refuses the request with context_length_exceeded, as OpenAI does.
	OverflowStop = "stop"
	// OverflowTruncateMiddle keeps the system prompt, the first exchange's
	// opening message and the latest messages, and drops the oldest of the rest.
	OverflowTruncateMiddle = "truncate_middle"
	// OverflowRollingWindow keeps the system prompt and the latest messages.
	OverflowRollingWindow = "rolling_window"
)

// Overflow says what a context overflow policy dropped to fit a chat in the window.
type Overflow struct {
	Policy          string
	DroppedMessages int
	DroppedTokens   int // prompt tokens before the trim minus after
}

// answerReserve is the room left for the answer when a chat is trimmed and the
// request set no max_tokens: a quarter of the window, so a trimmed chat gets a
// real answer instead of a few tokens.
func answerReserve(o GenOptions, window int) int {
	if o.MaxTokens > 0 {
		return o.MaxTokens
	}
	return window / 4
}

// fitWindow renders in and, when the prompt leaves no room for the answer and
// the request's policy allows it, drops whole messages until it does. Without a
// policy (or with stop) the prompt is returned as it is and plan refuses it.
func (l *loaded) fitWindow(req *ChatRequest, in chat.Input) (string, []int32, *Overflow, error) {
	type rendered struct {
		text string
		ids  []int32
	}
	render := func(msgs []chat.Message) (rendered, error) {
		in.Messages = msgs
		r, err := l.tmpl.Render(in)
		if err != nil {
			return rendered{}, &InvalidError{Param: "messages", Err: fmt.Errorf("chat template: %w", err)}
		}
		return rendered{r.Text, l.tok.EncodeSegments(segments(r), false)}, nil
	}
	msgs := in.Messages
	full, err := render(msgs)
	if err != nil {
		return "", nil, nil, err
	}
	policy := req.ContextOverflow
	switch policy {
	case "", OverflowStop:
		return full.text, full.ids, nil, nil
	case OverflowTruncateMiddle, OverflowRollingWindow:
	default:
		return "", nil, nil, &InvalidError{Param: "context_overflow", Err: fmt.Errorf("unknown policy %q: want %s, %s or %s",
			policy, OverflowTruncateMiddle, OverflowRollingWindow, OverflowStop)}
	}
	window := l.contextFor(req.Options)
	budget := window - answerReserve(req.Options, window)
	if len(full.ids) <= budget {
		return full.text, full.ids, nil, nil
	}
	// msgs[lo:hi] may be dropped, oldest first; the last message (the one to
	// answer) always stays.
	lo := 0
	for lo < len(msgs) && msgs[lo].Role == "system" {
		lo++
	}
	if policy == OverflowTruncateMiddle {
		lo++
	}
	hi := len(msgs) - 1
	// Cut only where the kept part goes on with the role the dropped part began
	// with, so templates that insist on user/assistant turns still render.
	var cuts []int // how many messages to drop
	for k := 1; lo+k <= hi; k++ {
		if lo+k == hi || msgs[lo+k].Role == msgs[lo].Role {
			cuts = append(cuts, k)
		}
	}
	trimmed := func(k int) []chat.Message {
		return append(append([]chat.Message(nil), msgs[:lo]...), msgs[lo+k:]...)
	}
	var renderErr error
	fits := make(map[int]rendered)
	// The prompt shrinks as more is dropped: the fewest messages that fit.
	i := sort.Search(len(cuts), func(i int) bool {
		p, err := render(trimmed(cuts[i]))
		if err != nil {
			renderErr = err
			return true
		}
		if len(p.ids) <= budget {
			fits[cuts[i]] = p
			return true
		}
		return false
	})
	if renderErr != nil {
		return "", nil, nil, renderErr
	}
	if i == len(cuts) {
		shortest := len(full.ids)
		if len(cuts) > 0 {
			p, err := render(trimmed(cuts[len(cuts)-1]))
			if err != nil {
				return "", nil, nil, err
			}
			shortest = len(p.ids)
		}
		return "", nil, nil, &ContextLengthError{PromptTokens: shortest, MaxTokens: answerReserve(req.Options, window), ContextLength: window}
	}
	k := cuts[i]
	p := fits[k]
	return p.text, p.ids, &Overflow{Policy: policy, DroppedMessages: k, DroppedTokens: len(full.ids) - len(p.ids)}, nil
}
