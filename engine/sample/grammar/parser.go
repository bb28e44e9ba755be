package grammar

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// maxDepth bounds the parser stack; deeper nesting is treated as a dead end.
const maxDepth = 2048

// frame is one return address on a parser stack. Frames are interned per
// Parser, so two stacks are equal exactly when their top frames are the same
// pointer; that makes whole parser states cheap to compare and hash.
type frame struct {
	ret    int32
	parent *frame
	id     uint32
	depth  int32
}

type frameKey struct {
	ret    int32
	parent *frame
}

// thread is one possible parse: the current automaton state and the stack below it.
type thread struct {
	st   int32
	tail *frame
}

// state is a closed set of threads: every thread can consume a byte next.
// accept says whether the input so far is a complete match.
type state struct {
	threads []thread
	accept  bool
}

// Parser runs a Grammar over bytes. It answers whether a byte sequence can
// continue the input so far, consumes it if so, and reports whether the input
// is complete. It is not safe for concurrent use.
type Parser struct {
	prog   *program
	frames map[frameKey]*frame
	cur    state
	// scratch for closure
	work    []thread
	visited []thread
	seeds   []thread
	tmp     state
}

// NewParser returns a parser at the start of g.
func NewParser(g *Grammar) (*Parser, error) {
	prog, err := g.program()
	if err != nil {
		return nil, err
	}
	p := &Parser{prog: prog, frames: map[frameKey]*frame{}}
	p.cur = p.closeInto(state{}, []thread{{st: prog.start[prog.root]}})
	return p, nil
}

func (p *Parser) push(ret int32, parent *frame) *frame {
	k := frameKey{ret, parent}
	if f, ok := p.frames[k]; ok {
		return f
	}
	f := &frame{ret: ret, parent: parent, id: uint32(len(p.frames) + 1)}
	if parent != nil {
		f.depth = parent.depth + 1
	}
	p.frames[k] = f
	return f
}

// closeInto expands seeds through calls and rule ends into dst, which must be
// empty: the threads that can read a byte, plus whether the input may end here.
func (p *Parser) closeInto(dst state, seeds []thread) state {
	prog := p.prog
	p.work = append(p.work[:0], seeds...)
	p.visited = p.visited[:0]
	for len(p.work) > 0 {
		t := p.work[len(p.work)-1]
		p.work = p.work[:len(p.work)-1]
		if slices.Contains(p.visited, t) {
			continue
		}
		p.visited = append(p.visited, t)
		if prog.bytes[t.st] {
			dst.threads = append(dst.threads, t)
		}
		if (t.tail == nil || t.tail.depth < maxDepth) && len(prog.calls[t.st]) > 0 {
			for _, c := range prog.calls[t.st] {
				p.work = append(p.work, thread{st: prog.start[c.rule], tail: p.push(c.ret, t.tail)})
			}
		}
		if prog.final[t.st] {
			if t.tail == nil {
				dst.accept = true
			} else {
				p.work = append(p.work, thread{st: t.tail.ret, tail: t.tail.parent})
			}
		}
	}
	return dst
}

// step moves every thread of s over byte b into dst (reset first).
func (p *Parser) step(s state, b byte, dst state) state {
	dst.threads, dst.accept = dst.threads[:0], false
	prog := p.prog
	if len(s.threads) == 1 {
		t := s.threads[0]
		n := prog.next(t.st, b)
		if n < 0 {
			return dst
		}
		if prog.simple[n] {
			dst.threads = append(dst.threads, thread{n, t.tail})
			return dst
		}
		return p.closeInto(dst, []thread{{n, t.tail}})
	}
	p.seeds = p.seeds[:0]
	for _, t := range s.threads {
		if n := prog.next(t.st, b); n >= 0 {
			p.seeds = append(p.seeds, thread{n, t.tail})
		}
	}
	if len(p.seeds) == 0 {
		return dst
	}
	return p.closeInto(dst, p.seeds)
}

func (s state) dead() bool { return len(s.threads) == 0 && !s.accept }

// Valid reports whether b can continue the input consumed so far, that is
// whether Advance(b) would succeed.
func (p *Parser) Valid(b []byte) bool {
	s := p.cur
	for i, c := range b {
		s = p.step(s, c, state{})
		if len(s.threads) == 0 {
			return i == len(b)-1 && s.accept
		}
	}
	return true
}

// Advance consumes b if it is a valid continuation; otherwise it returns an
// error and leaves the parser as it was.
func (p *Parser) Advance(b []byte) error {
	s := state{threads: slices.Clone(p.cur.threads), accept: p.cur.accept}
	for i, c := range b {
		s = p.step(s, c, state{})
		if len(s.threads) == 0 && (i < len(b)-1 || !s.accept) {
			return fmt.Errorf("%w: byte %d (%q) of %q is not allowed here", ErrRejected, i, c, b)
		}
	}
	p.cur = canonical(s)
	return nil
}

// Accepting reports whether the input so far is a complete match.
func (p *Parser) Accepting() bool { return p.cur.accept }

// Complete reports whether the input is a complete match that nothing can extend.
func (p *Parser) Complete() bool { return p.cur.accept && len(p.cur.threads) == 0 }

// canonical sorts threads so equal states have equal keys.
func canonical(s state) state {
	slices.SortFunc(s.threads, func(a, b thread) int {
		if a.st != b.st {
			return int(a.st - b.st)
		}
		return int(tailID(a.tail)) - int(tailID(b.tail))
	})
	return s
}

func tailID(f *frame) uint32 {
	if f == nil {
		return 0
	}
	return f.id
}

// appendKey appends a byte encoding of s that identifies it within this parser.
func appendKey(b []byte, s state) []byte {
	if s.accept {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, t := range s.threads {
		b = binary.LittleEndian.AppendUint32(b, uint32(t.st))
		b = binary.LittleEndian.AppendUint32(b, tailID(t.tail))
	}
	return b
}
