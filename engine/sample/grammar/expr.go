package grammar

import (
	"errors"
	"fmt"
	"sync"
)

// ErrUnsupported is wrapped by errors for JSON Schema features this package
// cannot enforce; the message names the keyword. The API layer maps it to a 400.
var ErrUnsupported = errors.New("unsupported JSON Schema")

// ErrInvalid is wrapped by errors for grammars or schemas that are malformed
// or can match nothing.
var ErrInvalid = errors.New("invalid grammar")

// node is a grammar expression over bytes. Expressions form trees; sharing and
// recursion go through *rule, which compiles to a call on the parser's stack.
type node interface{ isNode() }

type (
	// lit matches exactly these bytes.
	lit []byte
	// class matches one byte from the set (bit b%64 of word b/64).
	class byteSet
	// seq matches its items one after another.
	seq []node
	// alt matches any one of its items.
	alt []node
	// rep matches n between min and max times; max < 0 means unbounded.
	rep struct {
		n        node
		min, max int
	}
	// call matches the rule's body, as a sub-routine with its own stack frame.
	call struct{ r *rule }
)

func (lit) isNode()   {}
func (class) isNode() {}
func (seq) isNode()   {}
func (alt) isNode()   {}
func (rep) isNode()   {}
func (call) isNode()  {}

// rule is a named non-terminal. body is set after creation so rules can refer
// to themselves (recursive $ref, nested JSON values).
type rule struct {
	name string
	body node
}

type byteSet [4]uint64

func (s *byteSet) add(b byte)      { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}

// bytesIn returns a class matching any byte in the given inclusive ranges,
// written as pairs: bytesIn('a','z','0','9').
func bytesIn(ranges ...byte) class {
	var s byteSet
	for i := 0; i+1 < len(ranges); i += 2 {
		s.addRange(ranges[i], ranges[i+1])
	}
	return class(s)
}

func opt(n node) node { return rep{n: n, min: 0, max: 1} }

// Grammar is a compiled-on-demand grammar over bytes. It is immutable and safe
// to share between goroutines and requests; compilation happens once, on first use.
type Grammar struct {
	root *rule

	once sync.Once
	prog *program
	err  error
}

func newGrammar(name string, body node) *Grammar {
	return &Grammar{root: &rule{name: name, body: body}}
}

// program compiles the grammar on first use.
func (g *Grammar) program() (*program, error) {
	g.once.Do(func() {
		g.prog, g.err = compile(g.root)
		if g.err != nil {
			g.err = fmt.Errorf("compile grammar %s: %w", g.root.name, g.err)
		}
	})
	return g.prog, g.err
}

// Compile builds the grammar's automaton now rather than on first use, and
// reports whether it is usable (too large, or left-recursive through $ref).
func (g *Grammar) Compile() error {
	_, err := g.program()
	return err
}

// Literal matches exactly s: the fixed text around a tool call, for instance.
func Literal(s string) *Grammar { return newGrammar(fmt.Sprintf("literal %q", s), lit(s)) }

// Seq matches each grammar in turn.
func Seq(gs ...*Grammar) *Grammar {
	items := make(seq, len(gs))
	for i, g := range gs {
		items[i] = call{g.root}
	}
	return newGrammar("sequence", items)
}

// Choice matches any one of the grammars.
func Choice(gs ...*Grammar) *Grammar {
	items := make(alt, len(gs))
	for i, g := range gs {
		items[i] = call{g.root}
	}
	return newGrammar("choice", items)
}

// Repeat matches g between min and max times (max < 0: no limit), with sep
// between repetitions (nil: nothing), e.g. several tool calls in a row.
func Repeat(g, sep *Grammar, min, max int) *Grammar {
	item := node(call{g.root})
	var tail node = item
	if sep != nil {
		tail = seq{call{sep.root}, item}
	}
	var body node
	switch {
	case max == 0:
		body = seq{}
	case min == 0:
		body = opt(seq{item, rep{n: tail, min: 0, max: dec(max)}})
	default:
		body = seq{item, rep{n: tail, min: min - 1, max: dec(max)}}
	}
	return newGrammar("repeat", body)
}

func dec(max int) int {
	if max < 0 {
		return -1
	}
	return max - 1
}

// ErrRejected is returned when input does not fit the grammar.
var ErrRejected = errors.New("input rejected by grammar")
