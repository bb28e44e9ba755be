//go:build !race

// Numeric only (refinement over every state of the JSON grammar): make
// test-norace runs it without the race detector, which made it five times slower.

package grammar

import (
	"fmt"
	"testing"
)

// naiveEquivalence is plain Moore refinement over all states, depth rounds.
func naiveEquivalence(p *program, depth int) []int32 {
	n := len(p.final)
	cls := make([]int32, n)
	for s := range n {
		if p.simple[s] {
			cls[s] = -2
		} else {
			cls[s] = int32(s)
		}
	}
	for range depth {
		ids := map[string]int32{}
		next := make([]int32, n)
		for s := range n {
			if !p.simple[s] {
				next[s] = cls[s]
				continue
			}
			k := fmt.Sprint(cls[s])
			for c := range p.nclass {
				t := p.trans[s*p.nclass+c]
				if t >= 0 {
					k += fmt.Sprint(",", cls[t])
				} else {
					k += ",x"
				}
			}
			id, ok := ids[k]
			if !ok {
				id = int32(n + len(ids))
				ids[k] = id
			}
			next[s] = id
		}
		cls = next
	}
	return cls
}

func samePartition(a, b []int32) bool {
	ab, ba := map[int32]int32{}, map[int32]int32{}
	for i := range a {
		if x, ok := ab[a[i]]; ok && x != b[i] {
			return false
		}
		if y, ok := ba[b[i]]; ok && y != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

func TestEquivalence(t *testing.T) {
	schemas := append([]string{
		`{"type":"string","maxLength":60}`,
		`{"type":"object","properties":{"a":{"type":"string","minLength":3,"maxLength":30},"b":{"type":"array","items":{"type":"integer"},"maxItems":7}}}`,
		`{"type":"string","pattern":"^(ab|a)*b{2,9}$"}`,
	}, walkSchemas...)
	for _, schema := range schemas {
		g, err := compileSchema([]byte(schema))
		if err != nil {
			t.Fatal(err)
		}
		for _, depth := range []int{1, 3, 16, 40} {
			got := g.prog.equivalence(depth)
			want := naiveEquivalence(g.prog, depth)
			if !samePartition(got, want) {
				t.Fatalf("%s depth %d: partition differs from plain Moore refinement", schema, depth)
			}
		}
	}
}
