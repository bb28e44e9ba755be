package hfref

import "math"

// Matryoshka is what nomic-embed-text-v1.5's model card does to a pooled
// sentence vector to shrink it to dims: F.layer_norm(embeddings,
// normalized_shape=(embeddings.shape[1],)) (no weight, no bias, eps 1e-5,
// the biased variance), embeddings[:, :dims], then F.normalize(p=2, dim=1)
// (the norm clamped at eps 1e-12).
func Matryoshka(v []float64, dims int) []float64 {
	var mean float64
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var variance float64
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	variance /= float64(len(v))
	out := make([]float64, dims)
	for i := range out {
		out[i] = (v[i] - mean) / math.Sqrt(variance+1e-5)
	}
	var n float64
	for _, x := range out {
		n += x * x
	}
	n = max(math.Sqrt(n), 1e-12)
	for i := range out {
		out[i] /= n
	}
	return out
}
