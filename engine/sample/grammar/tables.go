package grammar

import (
	"math/bits"
	"runtime"
	"sync"
	"weak"
)

// Token tables per automaton state, the idea behind XGrammar's adaptive token
// mask cache. From one automaton state, a token whose bytes stay inside the
// state's rule, through states that neither call nor may end the rule, is
// valid or not whatever the stack below holds. Those "context-independent"
// tokens are found once per (program, vocabulary, state) by walking the trie
// with plain table lookups. The walk stops where a path reaches a state that
// calls or may return; those trie nodes form the frontier, the only part a
// mask must still walk with the real stack.
type stateTable struct {
	// Tokens valid from this state whatever the stack: a bitset, or a list of
	// ids when that is smaller (most states admit few tokens; a string's
	// inside admits most).
	ok       Bitset
	okIDs    []int32
	frontier []frontier // trie nodes where validity depends on the stack
}

// addTo sets the table's context-independent tokens in dst.
func (t *stateTable) addTo(dst Bitset) {
	for i, w := range t.ok {
		dst[i] |= w
	}
	for _, id := range t.okIDs {
		dst.Set(id)
	}
}

// compact turns a sparse bitset into a list of ids.
func (t *stateTable) compact() {
	n := t.ok.Count()
	if n >= len(t.ok)*2 { // a list of n int32 would be larger than the bitset
		return
	}
	t.okIDs = make([]int32, 0, n)
	for i, w := range t.ok {
		for ; w != 0; w &= w - 1 {
			t.okIDs = append(t.okIDs, int32(i*64+bits.TrailingZeros64(w)))
		}
	}
	t.ok = nil
}

type frontier struct {
	node  int32 // trie node reached
	st    int32 // automaton state after its last byte: calls or may end the rule
	depth int32 // node's depth in the trie
}

// maxTables bounds the tables kept per (program, masker): each may hold a
// vocabulary-sized bitset. Past it, the cache starts over.
const maxTables = 1024

// progTables holds the tables of one program for one vocabulary.
type progTables struct {
	// eq maps each state to its class under depth-bounded equivalence:
	// states in one class have the same table. Set once at creation.
	eq []int32
	mu sync.Mutex
	by map[int32]*stateTable // guarded by mu; key is the class in eq
}

// tablesFor returns the table set of p for masker m, creating it on first use.
// They live on the program, so a schema's tables go away with its Grammar;
// the masker is held weakly, so an unloaded model's tables go away with it
// even from a program that lives forever, like JSON()'s.
func (p *program) tablesFor(m *Masker) *progTables {
	key := weak.Make(m)
	p.tablesMu.Lock()
	defer p.tablesMu.Unlock()
	if p.tables == nil {
		p.tables = map[weak.Pointer[Masker]]*progTables{}
	}
	t, ok := p.tables[key]
	if !ok {
		t = &progTables{by: map[int32]*stateTable{}, eq: p.equivalence(m.trie.maxDepth)}
		p.tables[key] = t
		runtime.AddCleanup(m, func(a tablesKey) {
			if p := a.p.Value(); p != nil {
				p.tablesMu.Lock()
				delete(p.tables, a.m)
				p.tablesMu.Unlock()
			}
		}, tablesKey{weak.Make(p), key})
	}
	return t
}

type tablesKey struct {
	p weak.Pointer[program]
	m weak.Pointer[Masker]
}

// table returns the table for state st, computing it outside the lock: two
// matchers may both compute it the first time, which is harmless.
func (pt *progTables) table(p *program, m *Masker, st int32) *stateTable {
	key := pt.eq[st]
	pt.mu.Lock()
	t, ok := pt.by[key]
	pt.mu.Unlock()
	if ok {
		return t
	}
	t = &stateTable{ok: NewBitset(len(m.vocab))}
	t.build(p, m.trie, 0, 0, st)
	t.compact()
	pt.mu.Lock()
	if len(pt.by) >= maxTables {
		clear(pt.by)
	}
	pt.by[key] = t
	pt.mu.Unlock()
	return t
}

// build walks the trie below node n from automaton state st.
func (t *stateTable) build(p *program, tr *trie, n int32, depth int32, st int32) {
	for e := tr.first[n]; e < tr.first[n+1]; e++ {
		next := p.next(st, tr.edgeByte[e])
		if next < 0 {
			continue
		}
		child := tr.edgeNode[e]
		if !p.simple[next] {
			t.frontier = append(t.frontier, frontier{node: child, st: next, depth: depth + 1})
			continue
		}
		for _, id := range tr.toks[tr.tokFirst[child]:tr.tokFirst[child+1]] {
			t.ok.Set(id)
		}
		if tr.first[child] < tr.first[child+1] {
			t.build(p, tr, child, depth+1, next)
		}
	}
}
