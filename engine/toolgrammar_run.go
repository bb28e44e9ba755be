package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/sample"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// constraint applies a constraintSpec to one generation: the eager grammar
// from the first token, or a trigger's grammar from the moment the output
// reaches a call marker. A nil *constraint leaves the output free. The run
// loop calls sample, then accept with the token it keeps.
type constraint struct {
	spec   *constraintSpec
	mk     *grammar.Masker
	bytes  func(id int32) []byte
	forced []int32            // special tokens still to emit before the grammar
	m      *grammar.Matcher   // the grammar in force; nil while waiting for a trigger
	mask   grammar.Bitset     // scratch for the matcher's masks
	scan   triggerScan        // what the output says so far, while waiting
	next   *pendingActivation // a sampled token that starts a call, until accepted
	ended  bool               // a lazily constrained call completed and ends the output
	// deferred holds the eager grammar back while the output is inside the
	// reasoning block the prompt opened: a thinking model reasons first, then
	// the forced call (or format) applies from the token after </think>.
	deferred bool
	steps    []step // of spec.steps, the one in force first (toolgrammar_harmony.go)
	text     []byte // what the text step in force has matched
}

type pendingActivation struct {
	id   int32
	m    *grammar.Matcher
	scan triggerScan
}

// newConstraint starts j's constraint; nil when the output is free.
func (l *loaded) newConstraint(j *job) (*constraint, error) {
	spec := j.constrain
	if spec == nil {
		return nil, nil
	}
	mk, err := l.grammarMasker()
	if err != nil {
		return nil, fmt.Errorf("build grammar masks: %w", err)
	}
	c := &constraint{spec: spec, mk: mk, bytes: l.tok.TokenBytes, forced: spec.forced, mask: grammar.NewBitset(mk.Size())}
	c.scan = newTriggerScan(j.parse)
	switch {
	case spec.steps != nil:
		if err := c.enterStep(spec.steps); err != nil {
			return nil, err
		}
	case spec.eager != nil && j.parse.InReasoning:
		c.deferred = true
	case spec.eager != nil:
		if c.m, err = mk.NewMatcher(spec.eager); err != nil {
			return nil, &InvalidError{Param: spec.param, Err: err}
		}
	}
	return c, nil
}

// sample draws the next token through draw, with the mask of the grammar in
// force. A token that would start a call whose grammar refuses the rest of
// the token is drawn again among the tokens that do not.
func (c *constraint) sample(draw func(sample.Mask) (sample.Token, error)) (sample.Token, error) {
	if c == nil {
		return draw(nil)
	}
	c.next = nil
	switch {
	case c.spec.steps != nil:
		return c.sampleStep(draw)
	case c.deferred:
		return draw(nil)
	case len(c.forced) > 0:
		clear(c.mask)
		c.mask.Set(c.forced[0])
		return draw(sample.Mask(c.mask))
	case c.m != nil:
		if err := c.m.Mask(c.mask); err != nil {
			return sample.Token{}, fmt.Errorf("grammar mask: %w", err)
		}
		return draw(sample.Mask(c.mask))
	case len(c.spec.lazy) == 0:
		return draw(nil)
	}
	tok, err := draw(nil)
	if err != nil {
		return tok, err
	}
	next, ok := c.activation(tok.ID)
	if ok {
		c.next = next
		return tok, nil
	}
	c.safeMask()
	tok, err = draw(sample.Mask(c.mask))
	if err == nil {
		c.next, _ = c.activation(tok.ID)
	}
	return tok, err
}

// activation says what accepting id would do while waiting for a trigger:
// the new scan state, and a started matcher when id completes a trigger. ok is
// false when the trigger's grammar refuses the text after it.
func (c *constraint) activation(id int32) (*pendingActivation, bool) {
	scan, tr, from := c.scan.feed(c.spec.lazy, c.bytes(id))
	p := &pendingActivation{id: id, scan: scan}
	if tr == nil {
		return p, true
	}
	m, err := c.mk.NewMatcher(tr.g)
	if err != nil || m.AcceptText(from) != nil {
		return nil, false
	}
	p.m = m
	return p, true
}

// safeMask allows every token but those that would start a call with text
// its grammar refuses.
func (c *constraint) safeMask() {
	for i := range c.mask {
		c.mask[i] = ^uint64(0)
	}
	for id := range int32(c.mk.Size()) {
		if _, ok := c.activation(id); !ok {
			c.mask[id>>6] &^= 1 << (uint(id) & 63)
		}
	}
}

// accept records the token the run loop keeps (never EOS, which ends the loop).
func (c *constraint) accept(id int32) error {
	if c == nil {
		return nil
	}
	switch {
	case c.spec.steps != nil:
		return c.acceptStep(id)
	case c.deferred:
		return c.acceptReasoning(id)
	case len(c.forced) > 0:
		if id != c.forced[0] {
			return fmt.Errorf("grammar accept: token %d instead of the forced %d", id, c.forced[0])
		}
		c.forced = c.forced[1:]
		return nil
	case c.m != nil:
		if err := c.m.Accept(id); err != nil {
			return fmt.Errorf("grammar accept: %w", err)
		}
		if c.m.Complete() && c.spec.eager == nil {
			// A lazily constrained call is over: the output ends, or is free again.
			c.m, c.ended = nil, c.spec.single
			c.scan = triggerScan{}
		}
		return nil
	case len(c.spec.lazy) == 0:
		return nil
	}
	p := c.next
	if p == nil || p.id != id {
		var ok bool
		if p, ok = c.activation(id); !ok {
			return errors.New("grammar accept: the token starts a tool call its grammar refuses")
		}
	}
	c.scan, c.m, c.next = p.scan, p.m, nil
	return nil
}

// acceptReasoning follows the reasoning block of a deferred eager grammar and
// starts the grammar once the block is closed.
func (c *constraint) acceptReasoning(id int32) error {
	c.scan, _, _ = c.scan.feed(nil, c.bytes(id))
	if c.scan.think != scanFree {
		return nil
	}
	m, err := c.mk.NewMatcher(c.spec.eager)
	if err != nil {
		return &InvalidError{Param: c.spec.param, Err: err}
	}
	c.m, c.deferred = m, false
	return nil
}

// complete reports whether the output is finished: the eager grammar matched
// all it can, or a single lazily constrained call is over.
func (c *constraint) complete() bool {
	if c == nil {
		return false
	}
	if c.spec.steps != nil {
		return len(c.steps) == 0
	}
	return c.ended || c.spec.eager != nil && len(c.forced) == 0 && c.m != nil && c.m.Complete()
}

// done reports whether the output may end here, for when no token is left to sample.
func (c *constraint) done() bool {
	if c != nil && c.spec.steps != nil {
		return len(c.steps) == 0
	}
	return c != nil && (c.ended || c.m != nil && c.m.Done())
}

// triggerScan follows the output while no grammar is in force: whether it
// is still inside the reasoning block (where markers are only words), and
// the recent bytes a marker may have begun in.
type triggerScan struct {
	think int    // scanFree, scanMaybeThink, scanThink
	lead  bool   // the output so far is whitespace (anchored triggers may match)
	tail  []byte // bytes not yet ruled out as the start of a trigger or of </think>
}

const (
	scanFree = iota
	scanMaybeThink
	scanThink
)

const (
	thinkOpenTag  = "<think>"
	thinkCloseTag = "</think>"
	scanSpace     = " \t\r\n"
)

func newTriggerScan(p chat.Options) triggerScan {
	s := triggerScan{lead: true}
	switch {
	case p.InReasoning:
		s.think = scanThink
	case p.Reasoning:
		s.think = scanMaybeThink
	}
	return s
}

// feed returns the scan after b and, when b completes a trigger, the trigger
// and the text from its first byte on. It does not modify s.
func (s triggerScan) feed(triggers []trigger, b []byte) (triggerScan, *trigger, []byte) {
	buf := append(append(make([]byte, 0, len(s.tail)+len(b)), s.tail...), b...)
	for s.think != scanFree {
		if s.think == scanMaybeThink {
			rest := bytes.TrimLeft(buf, scanSpace)
			switch {
			case bytes.HasPrefix(rest, []byte(thinkOpenTag)):
				s.think, buf = scanThink, rest[len(thinkOpenTag):]
				continue
			case bytes.HasPrefix([]byte(thinkOpenTag), rest):
				s.tail = buf // undecided: whitespace and the start of <think>
				return s, nil, nil
			}
			s.think = scanFree
			break
		}
		i := bytes.Index(buf, []byte(thinkCloseTag))
		if i < 0 {
			s.tail = keepTail(buf, len(thinkCloseTag)-1)
			return s, nil, nil
		}
		s.think, s.lead, buf = scanFree, true, buf[i+len(thinkCloseTag):] // the answer starts after the reasoning
	}
	best, at := -1, len(buf)
	longest := 0
	for i := range triggers {
		t := &triggers[i]
		longest = max(longest, len(t.text))
		j := bytes.Index(buf, []byte(t.text))
		if j < 0 || j >= at || t.anchored && !(s.lead && len(bytes.TrimLeft(buf[:j], scanSpace)) == 0) {
			continue
		}
		best, at = i, j
	}
	if best >= 0 {
		return triggerScan{}, &triggers[best], buf[at:]
	}
	kept := keepTail(buf, longest-1)
	s.lead = s.lead && len(bytes.TrimLeft(buf[:len(buf)-len(kept)], scanSpace)) == 0
	s.tail = kept
	return s, nil, nil
}

// keepTail is the last n bytes of b (all of it when shorter), copied.
func keepTail(b []byte, n int) []byte {
	if n <= 0 {
		return nil // no trigger to wait for (a deferred eager grammar's scan)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return append([]byte(nil), b...)
}
