package grammar

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"weak"
)

// program is the compiled grammar: one deterministic automaton per rule, all
// states numbered in one space. Inside a rule, bytes move deterministically
// through trans; calls push a return state and jump to another rule's start,
// and a final state may pop back to the caller. Alternatives that start with
// the same byte in different rules (anyOf of two objects) are the only source
// of non-determinism, which the parser handles with a set of stacks.
type program struct {
	nclass int
	class  [256]uint8
	trans  []int32   // (states, nclass) next state or -1
	calls  [][]dcall // per state: rules it may call here
	final  []bool    // per state: the rule may end here
	bytes  []bool    // per state: some byte moves on
	simple []bool    // per state: bytes only, no calls, not final
	start  []int32   // per rule: start state
	names  []string  // per rule
	root   int32     // rule id

	tablesMu sync.Mutex
	tables   map[weak.Pointer[Masker]]*progTables // guarded by tablesMu; see tables.go
}

type dcall struct {
	rule int32
	ret  int32 // state to continue in once the rule ends
}

func (p *program) next(st int32, b byte) int32 {
	return p.trans[int(st)*p.nclass+int(p.class[b])]
}

func compile(root *rule) (*program, error) {
	rules := reachable(root)
	ids := make(map[*rule]int32, len(rules))
	for i, r := range rules {
		ids[r] = int32(i)
	}
	// Byte classes need every byte set up front; the sets come straight from
	// the expressions, so each rule's NFA can be dropped once determinized.
	b := &nfaBuilder{setIdx: map[byteSet]int32{}}
	for _, r := range rules {
		b.collectSets(r.body)
	}
	p := &program{root: 0}
	classSets := p.makeClasses(b.sets)
	for _, r := range rules {
		n, err := b.rule(r)
		if err != nil {
			return nil, err
		}
		p.names = append(p.names, r.name)
		d := &determinizer{p: p, n: n, ids: ids, classSets: classSets, index: map[string]int32{}}
		start, err := d.run()
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.name, err)
		}
		p.start = append(p.start, start)
	}
	if err := p.checkLeftRecursion(); err != nil {
		return nil, err
	}
	return p, nil
}

// reachable lists the rules reachable from root, root first.
func reachable(root *rule) []*rule {
	seen := map[*rule]bool{root: true}
	out := []*rule{root}
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case seq:
			for _, x := range n {
				walk(x)
			}
		case alt:
			for _, x := range n {
				walk(x)
			}
		case rep:
			walk(n.n)
		case call:
			if !seen[n.r] {
				seen[n.r] = true
				out = append(out, n.r)
			}
		}
	}
	for i := 0; i < len(out); i++ {
		walk(out[i].body)
	}
	return out
}

// makeClasses partitions the 256 bytes into classes that no byte set in the
// grammar tells apart, and returns for each set the classes it covers.
func (p *program) makeClasses(sets []byteSet) [][]uint8 {
	var cls [256]int
	n := 1
	for _, s := range sets {
		split := map[[2]int]int{}
		for c := range 256 {
			k := [2]int{cls[c], 0}
			if s.has(byte(c)) {
				k[1] = 1
			}
			id, ok := split[k]
			if !ok {
				id = len(split)
				split[k] = id
			}
			cls[c] = id
		}
		n = len(split)
	}
	p.nclass = n
	for c := range 256 {
		p.class[c] = uint8(cls[c])
	}
	out := make([][]uint8, len(sets))
	for i, s := range sets {
		seen := make([]bool, n)
		for c := range 256 {
			if s.has(byte(c)) && !seen[cls[c]] {
				seen[cls[c]] = true
				out[i] = append(out[i], uint8(cls[c]))
			}
		}
	}
	return out
}

// determinizer runs the subset construction for one rule, treating each
// called rule as one more input symbol.
type determinizer struct {
	p         *program
	n         *nfa
	ids       map[*rule]int32
	classSets [][]uint8
	index     map[string]int32
	queue     [][]int32
	mark      []uint32
	epoch     uint32
}

func (d *determinizer) run() (int32, error) {
	d.mark = make([]uint32, len(d.n.states))
	start, err := d.intern(d.closure([]int32{0}))
	if err != nil {
		return 0, err
	}
	buckets := make([][]int32, d.p.nclass)
	for len(d.queue) > 0 {
		set := d.queue[0]
		d.queue = d.queue[1:]
		st := d.index[key(set)]
		for c := range buckets {
			buckets[c] = buckets[c][:0]
		}
		callTo := map[int32][]int32{}
		var callOrder []int32
		for _, s := range set {
			ns := &d.n.states[s]
			for _, e := range ns.bytes {
				for _, c := range d.classSets[e.set] {
					buckets[c] = append(buckets[c], e.to)
				}
			}
			for _, c := range ns.calls {
				id := d.ids[c.rule]
				if _, ok := callTo[id]; !ok {
					callOrder = append(callOrder, id)
				}
				callTo[id] = append(callTo[id], c.to)
			}
		}
		for c, targets := range buckets {
			if len(targets) == 0 {
				continue
			}
			t, err := d.intern(d.closure(targets))
			if err != nil {
				return 0, err
			}
			d.p.trans[int(st)*d.p.nclass+c] = t
			d.p.bytes[st] = true
		}
		for _, id := range callOrder {
			t, err := d.intern(d.closure(callTo[id]))
			if err != nil {
				return 0, err
			}
			d.p.calls[st] = append(d.p.calls[st], dcall{rule: id, ret: t})
		}
		d.p.simple[st] = d.p.bytes[st] && len(d.p.calls[st]) == 0 && !d.p.final[st]
	}
	return start, nil
}

// closure follows epsilon edges; the result is sorted, so it can be a map key.
func (d *determinizer) closure(from []int32) []int32 {
	d.epoch++
	stack := append([]int32(nil), from...)
	var out []int32
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d.mark[s] == d.epoch {
			continue
		}
		d.mark[s] = d.epoch
		ns := &d.n.states[s]
		// Only states that read, call or end matter; leaving out pure
		// epsilon hops makes equivalent subsets compare equal.
		if len(ns.bytes) > 0 || len(ns.calls) > 0 || s == d.n.final {
			out = append(out, s)
		}
		stack = append(stack, ns.eps...)
	}
	slices.Sort(out)
	return out
}

func key(set []int32) string {
	b := make([]byte, 4*len(set))
	for i, s := range set {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(s))
	}
	return string(b)
}

// intern returns the DFA state for an NFA state set, creating it if new.
func (d *determinizer) intern(set []int32) (int32, error) {
	k := key(set)
	if st, ok := d.index[k]; ok {
		return st, nil
	}
	p := d.p
	if len(p.final) >= maxDFAStates {
		return 0, fmt.Errorf("%w: more than %d automaton states", ErrInvalid, maxDFAStates)
	}
	st := int32(len(p.final))
	d.index[k] = st
	for range p.nclass {
		p.trans = append(p.trans, -1)
	}
	p.calls = append(p.calls, nil)
	p.final = append(p.final, slices.Contains(set, d.n.final))
	p.bytes = append(p.bytes, false)
	p.simple = append(p.simple, false)
	d.queue = append(d.queue, set)
	return st, nil
}

// checkLeftRecursion rejects rules that can call themselves without consuming
// a byte (a $ref cycle through anyOf, say): the parser's stack would grow forever.
func (p *program) checkLeftRecursion() error {
	nullable := make([]bool, len(p.start))
	for changed := true; changed; {
		changed = false
		for r, s := range p.start {
			if !nullable[r] && p.reachesFinal(s, nullable) {
				nullable[r], changed = true, true
			}
		}
	}
	// Edges r -> callee for calls reachable from r's start without consuming input.
	const (
		unvisited = iota
		active
		done
	)
	color := make([]int, len(p.start))
	var visit func(r int32) error
	visit = func(r int32) error {
		color[r] = active
		for _, c := range p.firstCalls(p.start[r], nullable) {
			switch color[c] {
			case active:
				return fmt.Errorf("%w: rule %s can recurse into %s without consuming input (a $ref cycle?)", ErrInvalid, p.names[r], p.names[c])
			case unvisited:
				if err := visit(c); err != nil {
					return err
				}
			}
		}
		color[r] = done
		return nil
	}
	for r := range p.start {
		if color[r] == unvisited {
			if err := visit(int32(r)); err != nil {
				return err
			}
		}
	}
	return nil
}

// epsReach lists the states reachable from s through calls of nullable rules.
func (p *program) epsReach(s int32, nullable []bool) []int32 {
	seen := map[int32]bool{s: true}
	out := []int32{s}
	for i := 0; i < len(out); i++ {
		for _, c := range p.calls[out[i]] {
			if nullable[c.rule] && !seen[c.ret] {
				seen[c.ret] = true
				out = append(out, c.ret)
			}
		}
	}
	return out
}

func (p *program) reachesFinal(s int32, nullable []bool) bool {
	for _, t := range p.epsReach(s, nullable) {
		if p.final[t] {
			return true
		}
	}
	return false
}

func (p *program) firstCalls(s int32, nullable []bool) []int32 {
	var out []int32
	for _, t := range p.epsReach(s, nullable) {
		for _, c := range p.calls[t] {
			out = append(out, c.rule)
		}
	}
	return out
}
