package model

import "fmt"

// Multimodal rotary positions (M-RoPE), Qwen2-VL's and Qwen2.5-VL's: a token's
// rotary position has three components (temporal, height, width) and is not
// its index in the sequence. A text token's three components are equal, one
// more than the largest component before it; an image's embeddings, a grid
// of t×h×w, take (s, s+row, s+col) from the position s its first one would
// have had as text (transformers' get_rope_index; an image is one temporal
// step, so its temporal component stays s), and the text after the image
// resumes one past its largest component, s + max(h, w). So positions run
// behind the cache index after an image: a sequence keeps the difference
// (its rope delta) for the tokens that follow, decoded or batched.
//
// A prompt without images is positioned exactly as plain RoPE positions it.

// MRoPE is implemented by the Definitions whose rotary positions follow
// their images as above. An executor asks once, at load; for the others a
// token's position is its index.
type MRoPE interface {
	MRoPE() bool
}

// UsesMRoPE reports whether d positions its tokens with M-RoPE.
func UsesMRoPE(d Definition) bool {
	m, ok := d.(MRoPE)
	return ok && m.MRoPE()
}

// MRoPEPositions fills pos (one row per token of a run) with the M-RoPE
// positions of the run whose first token, were it text, would be at
// position first, with spans its images (At relative to the run, in order,
// Grid set, hidden values per embedding). It returns the position of the
// text token after the run and, for each span, that of the text token
// after it.
func MRoPEPositions(pos [][3]int, first int, spans []ImageSpan, hidden int) (next int, after []int, err error) {
	next = first
	i := 0
	for k, sp := range spans {
		t, h, w := sp.Grid[0], sp.Grid[1], sp.Grid[2]
		n := len(sp.Embeds) / hidden
		switch {
		case t != 1:
			// Videos take a temporal step per frame pair, spaced by
			// tokens_per_second (Qwen2.5-VL): not images.
			return 0, nil, fmt.Errorf("image %d: temporal grid %d, want 1", k, t)
		case h <= 0 || w <= 0 || t*h*w != n:
			return 0, nil, fmt.Errorf("image %d: grid %dx%dx%d for %d embeddings", k, t, h, w, n)
		case sp.At < i || sp.At+n > len(pos):
			return 0, nil, fmt.Errorf("image %d at %d..%d outside the run of %d or before %d", k, sp.At, sp.At+n, len(pos), i)
		}
		for ; i < sp.At; i++ {
			pos[i] = [3]int{next, next, next}
			next++
		}
		for r := range n {
			pos[i+r] = [3]int{next, next + r/w%h, next + r%w}
		}
		i += n
		next += max(h, w)
		after = append(after, next)
	}
	for ; i < len(pos); i++ {
		pos[i] = [3]int{next, next, next}
		next++
	}
	return next, after, nil
}

// MRoPEPairs returns, for each rotated pair of r (Dims/2), which component
// of a three-dimensional position rotates it: apply_multimodal_rotary_pos_emb
// cuts cos and sin, both halves of the head alike, into runs of Sections.
func MRoPEPairs(r *Rope) ([]uint8, error) {
	half := r.Dims / 2
	out := make([]uint8, 0, half)
	for k, n := range r.Sections {
		if n < 0 || k > 2 {
			return nil, fmt.Errorf("mrope_section %v: want three counts", r.Sections)
		}
		for range n {
			out = append(out, uint8(k))
		}
	}
	if len(out) != half {
		return nil, fmt.Errorf("mrope_section %v sums to %d, want %d rotated pairs", r.Sections, len(out), half)
	}
	return out, nil
}
