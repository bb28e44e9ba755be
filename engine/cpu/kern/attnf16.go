package kern

// Attention over a half KV cache, a block of positions per call: the
// kernel sets' attnScoresF16 and attnValuesF16 (nil: these loops over
// decode's dotF16 and axpyF16).

// goAttnScoresF16 sets s[p] = q·k[p·stride:] over len(q) values.
func goAttnScoresF16(s, q []float32, k []uint16, stride int) {
	for p := range s {
		s[p] = active.dotF16(q, k[p*stride:p*stride+len(q)])
	}
}

// goAttnValuesF16 adds Σ_p w[p]·v[p·stride:] (len(out) values per row) to out.
func goAttnValuesF16(out, w []float32, v []uint16, stride int) {
	for p, wp := range w {
		active.axpyF16(out, wp, v[p*stride:p*stride+len(out)])
	}
}

func attnScoresF16(s, q []float32, k []uint16, stride int) {
	if active.attnScoresF16 != nil {
		active.attnScoresF16(s, q, k, stride)
		return
	}
	goAttnScoresF16(s, q, k, stride)
}

func attnValuesF16(out, w []float32, v []uint16, stride int) {
	if active.attnValuesF16 != nil {
		active.attnValuesF16(out, w, v, stride)
		return
	}
	goAttnValuesF16(out, w, v, stride)
}
