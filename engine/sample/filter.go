package sample

import (
	"math"
	"slices"
)

// draw samples with temperature after top-k, top-p and min-p, in that order
// (the order of Hugging Face's logits warpers). maxv is the largest logit.
func (s *Sampler) draw(maxv float32) int32 {
	w, idx := s.work, s.idx
	n := 0
	for i, v := range w {
		if v > float32(math.Inf(-1)) {
			idx[n] = int32(i)
			n++
		}
	}
	cand := idx[:n]
	invT := float32(1 / s.p.Temperature)
	sorted := 0 // length of the prefix of cand known to be sorted best-first
	if k := s.p.TopK; k > 0 && k < len(cand) {
		selectTop(cand, k, w)
		cand, sorted = cand[:k], k
	}
	var z float64
	for _, id := range cand {
		e := fastExp((w[id] - maxv) * invT)
		s.ex[id] = e
		z += float64(e)
	}
	if s.topP < 1 {
		cand, z = s.nucleus(cand, sorted, z)
	}
	if s.p.MinP > 0 {
		// p_i >= MinP * p_max  <=>  exp((w_i-max)/T) >= MinP, since p_max ∝ exp(0) = 1.
		thr := float32(s.p.MinP)
		kept := cand[:0]
		z = 0
		for _, id := range cand {
			if s.ex[id] >= thr {
				kept = append(kept, id)
				z += float64(s.ex[id])
			}
		}
		cand = kept
	}
	u := s.rng.Float64() * z
	for _, id := range cand {
		u -= float64(s.ex[id])
		if u < 0 {
			return id
		}
	}
	return cand[len(cand)-1] // rounding left u a hair above zero
}

// nucleus keeps the smallest best-first prefix of cand whose mass reaches
// topP·z and returns it with its mass. When cand is already sorted (after
// top-k) it walks it; otherwise it runs a quickselect on mass: partition around
// a pivot, and keep going into the better side if it already holds the target,
// else into the worse side with the better side's mass banked. Expected O(n),
// even for flat distributions where the nucleus is most of the vocabulary.
func (s *Sampler) nucleus(cand []int32, sorted int, z float64) ([]int32, float64) {
	target := s.topP * z
	if sorted == len(cand) {
		return prefixMass(cand, s.ex, target)
	}
	w, ex := s.work, s.ex
	lo, hi := 0, len(cand) // cand[:lo] are kept, cand[hi:] dropped
	var acc float64        // mass of cand[:lo]
	for hi-lo > 32 {
		pivot := medianOfThree(cand, lo, hi-1, w)
		store := partition(cand, lo, hi-1, pivot, w)
		var better float64
		for _, id := range cand[lo:store] {
			better += float64(ex[id])
		}
		switch {
		case acc+better >= target:
			hi = store
		case acc+better+float64(ex[cand[store]]) >= target:
			return cand[:store+1], acc + better + float64(ex[cand[store]])
		default:
			acc += better + float64(ex[cand[store]])
			lo = store + 1
		}
	}
	sortBest(cand[lo:hi], w)
	kept, mass := prefixMass(cand[lo:hi], ex, target-acc)
	return cand[:lo+len(kept)], acc + mass
}

// prefixMass returns the shortest prefix of sorted ids whose mass reaches target.
func prefixMass(ids []int32, ex []float32, target float64) ([]int32, float64) {
	var cum float64
	for i, id := range ids {
		cum += float64(ex[id])
		if cum >= target {
			return ids[:i+1], cum
		}
	}
	return ids, cum
}

// topLogprobs returns the TopLogprobs best tokens, best first, ties to the lower id.
func (s *Sampler) topLogprobs(lse float32) []Alt {
	w, idx := s.work, s.idx
	n := 0
	for i, v := range w {
		if v > float32(math.Inf(-1)) {
			idx[n] = int32(i)
			n++
		}
	}
	k := min(s.p.TopLogprobs, n)
	selectTop(idx[:n], k, w)
	s.top = s.top[:0]
	for _, id := range idx[:k] {
		s.top = append(s.top, Alt{ID: id, Logprob: w[id] - lse})
	}
	return s.top
}

// better orders tokens by logit, descending, then by id, ascending: a strict
// total order, so selections are deterministic.
func better(w []float32, a, b int32) bool {
	return w[a] > w[b] || (w[a] == w[b] && a < b)
}

// selectTop reorders ids so that ids[:k] are the k best, sorted best first.
// Small k uses a bounded heap (one pass, mostly one comparison per id);
// larger k uses quickselect. Neither sorts the whole slice.
func selectTop(ids []int32, k int, w []float32) {
	if k <= 0 {
		return
	}
	if k >= len(ids) {
		sortBest(ids, w)
		return
	}
	if k <= 128 {
		heapTop(ids, k, w)
	} else {
		quickselect(ids, k, w)
	}
	sortBest(ids[:k], w)
}

func sortBest(ids []int32, w []float32) {
	slices.SortFunc(ids, func(a, b int32) int {
		if better(w, a, b) {
			return -1
		}
		if better(w, b, a) {
			return 1
		}
		return 0
	})
}

// heapTop keeps a min-heap (worst at the root) of the k best in ids[:k].
func heapTop(ids []int32, k int, w []float32) {
	h := ids[:k]
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i, w)
	}
	for j := k; j < len(ids); j++ {
		if better(w, ids[j], h[0]) {
			h[0], ids[j] = ids[j], h[0]
			siftDown(h, 0, w)
		}
	}
}

func siftDown(h []int32, i int, w []float32) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		worst := l
		if r := l + 1; r < len(h) && better(w, h[l], h[r]) {
			worst = r
		}
		if !better(w, h[i], h[worst]) {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// quickselect partitions ids so that ids[:k] hold the k best (unordered).
// Median-of-three pivots with a depth limit; past it, the range is sorted.
func quickselect(ids []int32, k int, w []float32) {
	lo, hi := 0, len(ids)-1
	for depth := 0; lo < hi; depth++ {
		if depth > 64 {
			sortBest(ids[lo:hi+1], w)
			return
		}
		store := partition(ids, lo, hi, medianOfThree(ids, lo, hi, w), w)
		switch {
		case store == k-1 || store == k:
			return
		case store > k:
			hi = store - 1
		default:
			lo = store + 1
		}
	}
}

// medianOfThree orders ids[lo], ids[mid], ids[hi] and returns mid, the
// index of the middle one.
func medianOfThree(ids []int32, lo, hi int, w []float32) int {
	mid := lo + (hi-lo)/2
	if better(w, ids[mid], ids[lo]) {
		ids[mid], ids[lo] = ids[lo], ids[mid]
	}
	if better(w, ids[hi], ids[lo]) {
		ids[hi], ids[lo] = ids[lo], ids[hi]
	}
	if better(w, ids[hi], ids[mid]) {
		ids[hi], ids[mid] = ids[mid], ids[hi]
	}
	return mid
}

// partition moves the ids better than ids[p] (p in [lo, hi]) to the front of
// the range, puts that pivot right after them and returns its index.
func partition(ids []int32, lo, hi, p int, w []float32) int {
	pivot := ids[p]
	ids[p], ids[hi] = ids[hi], ids[p]
	store := lo
	for i := lo; i < hi; i++ {
		if better(w, ids[i], pivot) {
			ids[i], ids[store] = ids[store], ids[i]
			store++
		}
	}
	ids[store], ids[hi] = ids[hi], ids[store]
	return store
}

// sumExp is Σ exp(v - maxv) over w, with fastExp written out so the loop has no call.
func sumExp(w []float32, maxv float32) float64 {
	var sum float64
	for _, v := range w {
		x := v - maxv
		if x < -87 {
			continue
		}
		t := x * 1.4426950408889634
		n := float32(int32(t - 0.5)) // x <= 0, so truncation rounds to nearest
		f := (x - n*0.693145751953125) - n*1.428606765330187e-06
		p := 1 + f*(1+f*(0.5+f*(1.0/6+f*(1.0/24+f*(1.0/120+f*(1.0/720))))))
		sum += float64(p * math.Float32frombits(uint32(int32(n)+127)<<23))
	}
	return sum
}

// fastExp is exp(x) for float32 with a relative error below 2e-7 on the range
// that matters here (x <= 0 after subtracting the maximum). math.Exp on float64
// is several times slower and this runs over the whole vocabulary every token.
func fastExp(x float32) float32 {
	if x < -87 {
		return 0
	}
	if x > 88 {
		return float32(math.Inf(1))
	}
	t := x * 1.4426950408889634 // log2(e)
	var n float32               // t rounded to the nearest integer
	if t < 0 {
		n = float32(int32(t - 0.5))
	} else {
		n = float32(int32(t + 0.5))
	}
	f := (x - n*0.693145751953125) - n*1.428606765330187e-06 // x - n·ln2, split for precision
	// Taylor series of e^f on |f| <= ln2/2, degree 6.
	p := 1 + f*(1+f*(0.5+f*(1.0/6+f*(1.0/24+f*(1.0/120+f*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
