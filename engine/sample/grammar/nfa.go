package grammar

import "fmt"

// Limits that keep a hostile schema from exhausting memory and time.
const (
	maxNFAStates = 1 << 18 // per rule
	maxDFAStates = 1 << 16 // per program: ~4,000 characters of maxLength in all
	maxRepeat    = 1000    // largest count unrolled for minLength, maxItems, ...
)

// nfa is a Thompson automaton for one rule: byte edges, epsilon edges and
// call edges (run another rule, then continue at to). State 0 is the start.
type nfa struct {
	states []nstate
	final  int32
}

type nstate struct {
	eps   []int32
	bytes []nbyte
	calls []ncall
}

type nbyte struct {
	set int32 // index into builder.sets
	to  int32
}

type ncall struct {
	rule *rule
	to   int32
}

// nfaBuilder builds the NFAs of all rules of a program and interns byte sets.
type nfaBuilder struct {
	cur    *nfa
	total  int // states of the current rule
	sets   []byteSet
	setIdx map[byteSet]int32
}

func (b *nfaBuilder) newState() int32 {
	b.cur.states = append(b.cur.states, nstate{})
	b.total++
	return int32(len(b.cur.states) - 1)
}

func (b *nfaBuilder) set(s byteSet) int32 {
	if i, ok := b.setIdx[s]; ok {
		return i
	}
	b.sets = append(b.sets, s)
	b.setIdx[s] = int32(len(b.sets) - 1)
	return int32(len(b.sets) - 1)
}

// collectSets interns every byte set that n uses.
func (b *nfaBuilder) collectSets(n node) {
	switch n := n.(type) {
	case lit:
		for _, c := range n {
			var s byteSet
			s.add(c)
			b.set(s)
		}
	case class:
		b.set(byteSet(n))
	case seq:
		for _, x := range n {
			b.collectSets(x)
		}
	case alt:
		for _, x := range n {
			b.collectSets(x)
		}
	case rep:
		b.collectSets(n.n)
	}
}

func (b *nfaBuilder) eps(from, to int32) {
	b.cur.states[from].eps = append(b.cur.states[from].eps, to)
}

func (b *nfaBuilder) rule(r *rule) (*nfa, error) {
	b.cur = &nfa{}
	b.total = 0
	start := b.newState()
	end, err := b.build(r.body, start)
	if err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.name, err)
	}
	b.cur.final = end
	return b.cur, nil
}

// build adds n starting at state from and returns its exit state. Every loop
// starts on a fresh state, so a loop never re-enters a sibling's alternatives.
func (b *nfaBuilder) build(n node, from int32) (int32, error) {
	if b.total > maxNFAStates {
		return 0, fmt.Errorf("%w: more than %d automaton states", ErrInvalid, maxNFAStates)
	}
	switch n := n.(type) {
	case lit:
		cur := from
		for _, c := range n {
			var s byteSet
			s.add(c)
			next := b.newState()
			b.cur.states[cur].bytes = append(b.cur.states[cur].bytes, nbyte{b.set(s), next})
			cur = next
		}
		return cur, nil
	case class:
		next := b.newState()
		b.cur.states[from].bytes = append(b.cur.states[from].bytes, nbyte{b.set(byteSet(n)), next})
		return next, nil
	case seq:
		cur := from
		for _, item := range n {
			var err error
			if cur, err = b.build(item, cur); err != nil {
				return 0, err
			}
		}
		return cur, nil
	case alt:
		if len(n) == 0 {
			return 0, fmt.Errorf("%w: a choice of nothing", ErrInvalid)
		}
		end := b.newState()
		for _, item := range n {
			s := b.newState()
			b.eps(from, s)
			e, err := b.build(item, s)
			if err != nil {
				return 0, err
			}
			b.eps(e, end)
		}
		return end, nil
	case rep:
		return b.repeat(n, from)
	case call:
		next := b.newState()
		b.cur.states[from].calls = append(b.cur.states[from].calls, ncall{n.r, next})
		return next, nil
	}
	return 0, fmt.Errorf("%w: unknown node %T", ErrInvalid, n)
}

func (b *nfaBuilder) repeat(n rep, from int32) (int32, error) {
	if n.min > maxRepeat || n.max > maxRepeat {
		return 0, fmt.Errorf("%w: repetition count above %d", ErrUnsupported, maxRepeat)
	}
	if n.min < 0 || (n.max >= 0 && n.max < n.min) {
		return 0, fmt.Errorf("%w: repetition between %d and %d times", ErrInvalid, n.min, n.max)
	}
	cur := from
	for range n.min {
		s := b.newState()
		b.eps(cur, s)
		var err error
		if cur, err = b.build(n.n, s); err != nil {
			return 0, err
		}
	}
	end := b.newState()
	if n.max < 0 {
		loop := b.newState()
		b.eps(cur, loop)
		e, err := b.build(n.n, loop)
		if err != nil {
			return 0, err
		}
		b.eps(e, loop)
		b.eps(loop, end)
		return end, nil
	}
	for range n.max - n.min {
		b.eps(cur, end)
		s := b.newState()
		b.eps(cur, s)
		var err error
		if cur, err = b.build(n.n, s); err != nil {
			return 0, err
		}
	}
	b.eps(cur, end)
	return end, nil
}
