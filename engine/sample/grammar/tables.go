package grammar

import "sync"

// Token tables per automaton state, the idea behind XGrammar's adaptive token
// mask cache. From one automaton state, a token whose bytes stay inside the
// state's rule, through states that neither call nor may end the rule, is
// valid or not whatever the stack below holds. Those "context-independent"
// tokens are found once per (program, vocabulary, state) by walking the trie
// with plain table lookups. The walk stops where a path reaches a state that
// calls or may return; those trie nodes form the frontier, the only part a
// mask must still walk with the real stack.
type stateTable struct {
	ok       Bitset     // tokens valid from this state whatever the stack
	frontier []frontier // trie nodes where validity depends on the stack
}

type frontier struct {
	node  int32 // trie node reached
	st    int32 // automaton state after its last byte: calls or may end the rule
	depth int32 // node's depth in the trie
}

// maxTables bounds the tables kept per (program, masker): each holds a
// vocabulary-sized bitset. Past it, the cache starts over.
const maxTables = 2048

// progTables holds the tables of one program for one vocabulary.
type progTables struct {
	mu sync.Mutex
	by map[int32]*stateTable // guarded by mu
}

// tablesFor returns the table set of p for masker m, creating it on first use.
// They live on the program, so a schema's tables go away with its Grammar.
func (p *program) tablesFor(m *Masker) *progTables {
	p.tablesMu.Lock()
	defer p.tablesMu.Unlock()
	if p.tables == nil {
		p.tables = map[*Masker]*progTables{}
	}
	t, ok := p.tables[m]
	if !ok {
		t = &progTables{by: map[int32]*stateTable{}}
		p.tables[m] = t
	}
	return t
}

// table returns the table for state st, computing it outside the lock: two
// matchers may both compute it the first time, which is harmless.
func (pt *progTables) table(p *program, m *Masker, st int32) *stateTable {
	pt.mu.Lock()
	t, ok := pt.by[st]
	pt.mu.Unlock()
	if ok {
		return t
	}
	t = &stateTable{ok: NewBitset(len(m.vocab))}
	t.build(p, m.trie, 0, 0, st)
	pt.mu.Lock()
	if len(pt.by) >= maxTables {
		clear(pt.by)
	}
	pt.by[st] = t
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
