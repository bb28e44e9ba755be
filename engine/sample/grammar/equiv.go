package grammar

import (
	"encoding/binary"
	"slices"
)

// equivalence groups states whose tables are equal for tokens of at most depth
// bytes. A table depends on the walk through simple states until a path dies
// or reaches a non-simple state (whose identity is recorded in the frontier).
// So: start with every non-simple state alone and all simple states together,
// and refine by the classes of the successors, depth times (Moore's
// algorithm, stopped early). This matters for counted repetitions such as
// maxLength: each character position is a distinct state, but positions more
// than a token away from the limit behave the same, and share one table
// instead of paying a trie walk each. Each round only revisits predecessors
// of states that changed class in the round before, so a long chain of
// counted states costs little more than its length.
func (p *program) equivalence(depth int) []int32 {
	r := newRefiner(p)
	dirty := r.allSimple()
	for range depth {
		changed := r.round(dirty)
		if len(changed) == 0 {
			break
		}
		dirty = r.predsOf(changed)
	}
	return r.cls
}

type refiner struct {
	p       *program
	cls     []int32   // class per state
	members [][]int32 // states per class
	pos     []int32   // index of each state in members[cls[state]]
	predOff []int32   // predecessors of t: pred[predOff[t]:predOff[t+1]]
	pred    []int32
	mark    []uint32
	epoch   uint32
}

func newRefiner(p *program) *refiner {
	n := len(p.final)
	r := &refiner{p: p, cls: make([]int32, n), pos: make([]int32, n), mark: make([]uint32, n)}
	for s := range n {
		if !p.simple[s] {
			r.addTo(int32(s), int32(len(r.members)))
		}
	}
	simpleClass := int32(len(r.members))
	for s := range n {
		if p.simple[s] {
			r.addTo(int32(s), simpleClass)
		}
	}
	// Predecessor lists (CSR), each predecessor once per target.
	count := make([]int32, n+1)
	last := make([]int32, n)
	for i := range last {
		last[i] = -1
	}
	for s := range n {
		for c := range p.nclass {
			if t := p.trans[s*p.nclass+c]; t >= 0 && last[t] != int32(s) {
				last[t] = int32(s)
				count[t+1]++
			}
		}
	}
	for t := range n {
		count[t+1] += count[t]
	}
	r.predOff = count
	r.pred = make([]int32, count[n])
	fill := slices.Clone(count[:n])
	for i := range last {
		last[i] = -1
	}
	for s := range n {
		for c := range p.nclass {
			if t := p.trans[s*p.nclass+c]; t >= 0 && last[t] != int32(s) {
				last[t] = int32(s)
				r.pred[fill[t]] = int32(s)
				fill[t]++
			}
		}
	}
	return r
}

func (r *refiner) addTo(s, c int32) {
	for int(c) >= len(r.members) {
		r.members = append(r.members, nil)
	}
	r.cls[s] = c
	r.pos[s] = int32(len(r.members[c]))
	r.members[c] = append(r.members[c], s)
}

func (r *refiner) move(s, c int32) {
	old := r.members[r.cls[s]]
	i := r.pos[s]
	lastState := old[len(old)-1]
	old[i] = lastState
	r.pos[lastState] = i
	r.members[r.cls[s]] = old[:len(old)-1]
	r.addTo(s, c)
}

func (r *refiner) allSimple() []int32 {
	var out []int32
	for s, simple := range r.p.simple {
		if simple {
			out = append(out, int32(s))
		}
	}
	return out
}

// predsOf returns the simple predecessors of the given states, once each.
func (r *refiner) predsOf(states []int32) []int32 {
	r.epoch++
	var out []int32
	for _, t := range states {
		for _, s := range r.pred[r.predOff[t]:r.predOff[t+1]] {
			if r.p.simple[s] && r.mark[s] != r.epoch {
				r.mark[s] = r.epoch
				out = append(out, s)
			}
		}
	}
	return out
}

// signature is the classes of a state's successors, as a map key.
func (r *refiner) signature(s int32, buf []byte) []byte {
	buf = buf[:0]
	for c := range r.p.nclass {
		id := int32(-1)
		if t := r.p.trans[int(s)*r.p.nclass+c]; t >= 0 {
			id = r.cls[t]
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(id))
	}
	return buf
}

// round splits classes by the signatures of the dirty states (the only ones
// whose signature may have changed) and returns the states that moved.
func (r *refiner) round(dirty []int32) []int32 {
	r.epoch++
	byClass := map[int32][]int32{}
	var order []int32
	for _, s := range dirty {
		r.mark[s] = r.epoch
		c := r.cls[s]
		if _, ok := byClass[c]; !ok {
			order = append(order, c)
		}
		byClass[c] = append(byClass[c], s)
	}
	// Signatures are computed before any state moves: all against the
	// partition of the previous round.
	sigs := map[int32]string{}
	var buf []byte
	for _, s := range dirty {
		buf = r.signature(s, buf)
		sigs[s] = string(buf)
	}
	// The unchanged members keep their class; with none, the largest group
	// does (Hopcroft's rule), so few states move and few become dirty.
	keep := make([]string, len(order))
	for i, c := range order {
		found := false
		for _, m := range r.members[c] {
			if r.mark[m] != r.epoch {
				keep[i], found = string(r.signature(m, buf)), true
				break
			}
		}
		if !found {
			sizes := map[string]int{}
			for _, s := range byClass[c] {
				sizes[sigs[s]]++
				if sizes[sigs[s]] > sizes[keep[i]] {
					keep[i] = sigs[s]
				}
			}
		}
	}
	var changed []int32
	for i, c := range order {
		groups := map[string]int32{keep[i]: c}
		for _, s := range byClass[c] {
			id, ok := groups[sigs[s]]
			if !ok {
				id = int32(len(r.members))
				r.members = append(r.members, nil)
				groups[sigs[s]] = id
			}
			if id != c {
				r.move(s, id)
				changed = append(changed, s)
			}
		}
	}
	return changed
}
