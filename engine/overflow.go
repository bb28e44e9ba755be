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

// fitWindow renders in (then prefill, the start of the answer, as message text)
// and, when the prompt leaves no room for the answer and the request's policy
// allows it, drops whole messages until it does. Without a policy (or with
// stop) the prompt is returned as it is and plan refuses it.
func (l *loaded) fitWindow(req *ChatRequest, in chat.Input, prefill string, imgs *promptImages) (string, []int32, *Overflow, error) {
	type rendered struct {
		text string
		ids  []int32
	}
	if imgs == nil {
		// Text alone may skip the marked render (chat.Input.Inert); a prompt
		// with images may not: markTemplateImages finds the placeholders
		// through the content spans that render marks.
		in.Inert = l.tok.Inert
	}
	render := func(msgs []chat.Message) (rendered, error) {
		in.Messages = msgs
		r, err := l.tmpl.Render(in)
		if err != nil {
			return rendered{}, &InvalidError{Param: "messages", Err: fmt.Errorf("chat template: %w", err)}
		}
		if prefill != "" {
			// The answer's start follows the generation prompt as message text,
			// so its look-alikes of special tokens stay text like any content.
			r.Content = append(r.Content, chat.Span{Start: len(r.Text), End: len(r.Text) + len(prefill)})
			r.Text += prefill
		}
		if imgs != nil {
			r = markTemplateImages(r, msgs)
			return rendered{r.Text, imgs.encode(l.tok, l.vision.spec, segments(r))}, nil
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
	hi := len(msgs) - 1
	type cut struct{ from, n int } // msgs[from:from+n] are dropped
	var cuts []cut                 // in the order of a shrinking prompt
	from := lo
	if policy == OverflowTruncateMiddle {
		from++
	}
	// Cut only where the kept part goes on with the role the dropped part began
	// with, so templates that insist on user/assistant turns still render.
	for n := 1; from+n <= hi; n++ {
		if from+n == hi || msgs[from+n].Role == msgs[from].Role {
			cuts = append(cuts, cut{from, n})
		}
	}
	if from > lo && lo < hi {
		// Last resort of truncate_middle: the first message goes too.
		cuts = append(cuts, cut{lo, hi - lo})
	}
	trimmed := func(c cut) []chat.Message {
		return append(append([]chat.Message(nil), msgs[:c.from]...), msgs[c.from+c.n:]...)
	}
	var renderErr error
	fits := make(map[cut]rendered)
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
	c := cuts[i]
	p := fits[c]
	return p.text, p.ids, &Overflow{Policy: policy, DroppedMessages: c.n, DroppedTokens: len(full.ids) - len(p.ids)}, nil
}
