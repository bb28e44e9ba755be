package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/sample"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// DefaultContext is the context window a request gets when neither it nor its
// profile asks for one: the KV cache of a model's full window (128k tokens for
// Llama 3) would not fit in most machines' memory. Ollama and LM Studio do the same.
const DefaultContext = 8192

// job is one generation over a prompt that is already tokenized.
type job struct {
	prompt    []int32
	opts      GenOptions
	constrain *constraintSpec // nil: unconstrained
	parse     chat.Options    // how to split the output into content, reasoning, tool calls
	start     time.Time
	overflow  *Overflow // what fitting the chat in the window dropped; nil: nothing

	images []promptImage // the prompt's images, in order (images.go)
}

// contextFor is the window of a request on a model.
func (l *loaded) contextFor(o GenOptions) int {
	n := o.ContextSize
	if n <= 0 {
		n = DefaultContext
	}
	return min(n, l.ctxLen)
}

// plan checks the prompt against the context and fixes the token budget.
func (l *loaded) plan(prompt []int32, o *GenOptions) (int, error) {
	window := l.contextFor(*o)
	if len(prompt) == 0 {
		return 0, &InvalidError{Param: "prompt", Err: errors.New("the prompt is empty")}
	}
	if o.MaxTokens < 0 {
		return 0, &InvalidError{Param: "max_tokens", Err: errors.New("must be positive")}
	}
	if len(prompt) >= window || (o.MaxTokens > 0 && len(prompt)+o.MaxTokens > window) {
		return 0, &ContextLengthError{PromptTokens: len(prompt), MaxTokens: o.MaxTokens, ContextLength: window}
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = window - len(prompt)
	}
	return window, nil
}

// run generates tokens for j, calling emit with each piece of parsed output.
func (l *loaded) run(ctx context.Context, j *job, emit func(Delta) error) (*Result, error) {
	window, err := l.plan(j.prompt, &j.opts)
	if err != nil {
		return nil, err
	}
	smp, err := sample.New(j.opts.Sampling, l.m.Config.VocabSize)
	if err != nil {
		return nil, &InvalidError{Param: "sampling", Err: err}
	}
	if err := smp.SetPrompt(j.prompt); err != nil {
		return nil, &InvalidError{Param: "sampling", Err: err}
	}
	con, err := l.newConstraint(j)
	if err != nil {
		return nil, err
	}

	slot, err := l.sched.Admit(ctx, callerOf(ctx))
	if err != nil {
		return nil, err
	}
	defer slot.Release()
	key := j.prompt
	if len(j.images) > 0 {
		key = cacheKey(j.prompt, j.images)
	}
	seq, have, err := l.sequenceFor(window, key)
	if err != nil {
		return nil, err
	}
	if h := imageStart(have, j.images); h != have {
		if err := seq.Truncate(h); err != nil {
			seq.Close()
			return nil, err
		}
		have = h
	}
	// Whatever happens, the sequence goes back to the model's cache or is closed;
	// tokens is what its KV cache holds when it does (images by their key).
	tokens := append(make([]int32, 0, len(j.prompt)+16), key...)
	done := false
	defer func() { l.keep(seq, window, tokens, done) }()

	res := &Result{Model: l.id, Backend: l.runner.Backend(), Usage: Usage{PromptTokens: len(j.prompt), CachedTokens: have}}
	out := newOutput(l.tok, j, emit, res)
	var logits []float32
	if imagesFrom(j.images, have) {
		logits, err = l.prefillImages(ctx, seq, j, have)
	} else {
		logits, err = slot.Forward(ctx, seq, j.prompt[have:])
	}
	if err != nil {
		err = fmt.Errorf("prefill: %w", err)
		return res.failed(j, err)
	}
	history := make([]int32, 0, min(j.opts.MaxTokens, 4096))
	for {
		tok, err := con.sample(func(m sample.Mask) (sample.Token, error) { return smp.Sample(logits, history, m) })
		if err != nil {
			if con.done() {
				res.FinishReason = "stop"
				break
			}
			return res.failed(j, fmt.Errorf("sample: %w", err))
		}
		if len(history) == 0 {
			res.TTFT = time.Since(j.start)
		}
		if l.eos[tok.ID] {
			res.FinishReason = "stop"
			break
		}
		history = append(history, tok.ID)
		res.Usage.CompletionTokens++
		if err := con.accept(tok.ID); err != nil {
			return res.failed(j, err)
		}
		stopped, err := out.token(tok)
		if err != nil {
			return res.failed(j, err) // the client went away, or cancelled
		}
		if stopped || con.complete() {
			res.FinishReason = "stop"
			res.StopSequence = out.stops.Matched()
			break
		}
		if len(history) >= j.opts.MaxTokens {
			res.FinishReason = "length"
			break
		}
		if err := ctx.Err(); err != nil {
			return res.failed(j, err)
		}
		if logits, err = slot.Forward(ctx, seq, history[len(history)-1:]); err != nil {
			return res.failed(j, fmt.Errorf("decode: %w", err))
		}
		tokens = append(tokens, history[len(history)-1])
	}
	if err := out.finish(); err != nil {
		return res.failed(j, err)
	}
	done = true
	if len(res.ToolCalls) > 0 && res.FinishReason == "stop" {
		res.FinishReason = "tool_calls" // a call cut off by max_tokens stays "length", as OpenAI says
	}
	res.Duration = time.Since(j.start)
	return res, nil
}

// failed returns what was generated before err, with err: the caller (an audit
// record, say) still learns the real token counts of a cancelled stream.
func (res *Result) failed(j *job, err error) (*Result, error) {
	res.Duration = time.Since(j.start)
	return res, err
}

// output turns sampled tokens into parsed deltas: incremental detokenization,
// then stop strings (held back while they might still match), then the chat
// parser (reasoning and tool calls).
type output struct {
	dec    *tokenizer.StreamDecoder
	stops  *sample.StopMatcher
	parser *chat.Parser
	emit   func(Delta) error
	res    *Result
	tok    *tokenizer.Tokenizer
	probs  bool
	topN   int
	events []chat.Event

	content, reasoning strings.Builder
	args               []strings.Builder
}

func newOutput(tok *tokenizer.Tokenizer, j *job, emit func(Delta) error, res *Result) *output {
	return &output{
		// Special tokens other than EOS (which ends generation before it is decoded)
		// stay in the text: tool-call markers such as [TOOL_CALLS] and <|python_tag|>
		// are special tokens the output parser must see.
		dec:    tok.NewStreamDecoder(j.prompt, false),
		stops:  sample.NewStopMatcher(j.opts.Stop),
		parser: chat.NewParser(j.parse),
		emit:   emit,
		res:    res,
		tok:    tok,
		probs:  j.opts.Logprobs,
		topN:   j.opts.Sampling.TopLogprobs,
	}
}

// token adds one generated token and reports whether a stop string ended the output.
func (o *output) token(t sample.Token) (bool, error) {
	text, stopped := o.stops.Feed(o.dec.Next(t.ID))
	d := o.deltas(o.parser.Feed(text))
	if o.probs {
		lp := TokenLogprob{Token: o.tok.TokenString(t.ID), Bytes: o.tok.TokenBytes(t.ID), Logprob: t.Logprob}
		for _, a := range t.Top[:min(len(t.Top), o.topN)] {
			lp.Top = append(lp.Top, TopLogprob{Token: o.tok.TokenString(a.ID), Bytes: o.tok.TokenBytes(a.ID), Logprob: a.Logprob})
		}
		d.Logprobs = []TokenLogprob{lp}
		o.res.Logprobs = append(o.res.Logprobs, lp)
	}
	if err := o.send(d); err != nil {
		return false, err
	}
	return stopped, nil
}

// finish flushes what the decoder, the stop matcher and the parser held back.
func (o *output) finish() error {
	text := o.dec.Flush()
	if !o.stops.Stopped() {
		var stopped bool
		text, stopped = o.stops.Feed(text)
		if !stopped {
			text += o.stops.Flush()
		}
	} else {
		text = ""
	}
	evs := o.parser.Feed(text)
	if o.res.FinishReason == "length" {
		evs = append(evs, o.parser.Cut()...)
	} else {
		evs = append(evs, o.parser.Close()...)
	}
	if err := o.send(o.deltas(evs)); err != nil {
		return err
	}
	o.res.Content, o.res.Reasoning = o.content.String(), o.reasoning.String()
	for i := range o.res.ToolCalls {
		o.res.ToolCalls[i].Arguments = []byte(o.args[i].String())
	}
	return nil
}

// deltas folds parser events into one Delta and into the running Result.
func (o *output) deltas(evs []chat.Event) Delta {
	var d Delta
	for _, ev := range evs {
		switch ev.Kind {
		case chat.EventContent:
			d.Content += ev.Text
			o.content.WriteString(ev.Text)
		case chat.EventReasoning:
			d.Reasoning += ev.Text
			o.reasoning.WriteString(ev.Text)
		case chat.EventToolCallStart:
			id := newCallID()
			o.res.ToolCalls = append(o.res.ToolCalls, ToolCall{ID: id, Name: ev.Name})
			o.args = append(o.args, strings.Builder{})
			d.ToolCalls = append(d.ToolCalls, ToolCallDelta{Index: ev.Index, ID: id, Name: ev.Name})
		case chat.EventToolCallArgs:
			if ev.Index < len(o.args) {
				o.args[ev.Index].WriteString(ev.Text)
			}
			if n := len(d.ToolCalls); n > 0 && d.ToolCalls[n-1].Index == ev.Index {
				d.ToolCalls[n-1].Arguments += ev.Text
			} else {
				d.ToolCalls = append(d.ToolCalls, ToolCallDelta{Index: ev.Index, Arguments: ev.Text})
			}
		}
	}
	return d
}

func (o *output) send(d Delta) error {
	if d.Content == "" && d.Reasoning == "" && len(d.ToolCalls) == 0 && len(d.Logprobs) == 0 {
		return nil
	}
	if o.emit == nil {
		return nil
	}
	return o.emit(d)
}
