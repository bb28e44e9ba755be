package engine

import (
	"encoding/json"
	"math"
	"strings"
)

// Matryoshka truncation (OpenAI's dimensions): the first dimensions of a
// vector trained for it are a smaller embedding of their own. Most models
// are cut and L2-normalised again, as OpenAI, Ollama and sentence-transformers'
// truncate_dim do. nomic-embed-text-v1.5 was trained otherwise: its model
// card (the sentence-transformers, transformers and transformers.js
// snippets alike) layer-normalises the pooled vector over its full width
// (F.layer_norm without weight or bias, eps 1e-5) before the cut, then
// L2-normalises the cut vector. Cutting its raw vector gives a different,
// worse embedding than the one its MTEB table measures.

// layerNormCutModels are the models whose card puts a layer norm before the
// Matryoshka cut, by their Hub name: the NomicBertModel checkpoints of
// nomic-embed-text v1 and v1.5 share their architecture and config keys, so
// only the name tells them apart.
var layerNormCutModels = []string{"nomic-embed-text-v1.5"}

// layerNormsBeforeCut reports a model of layerNormCutModels, named by its
// repository or folder (id, which also covers conversions such as
// mlx-community/nomic-embed-text-v1.5-8bit) or by config.json's
// _name_or_path, which transformers writes when it saves a checkpoint and
// conversions keep.
func layerNormsBeforeCut(id, arch string, raw []byte) bool {
	if arch != "NomicBertModel" {
		return false
	}
	var c struct {
		NameOrPath string `json:"_name_or_path"`
	}
	_ = json.Unmarshal(raw, &c) // config.json was parsed at load: it is JSON
	for _, name := range []string{id, c.NameOrPath} {
		name = strings.ToLower(name)
		for _, m := range layerNormCutModels {
			if strings.Contains(name, m) {
				return true
			}
		}
	}
	return false
}

// finish turns a pooled vector into the answer: cut to dims (0 or the full
// width: no cut) and normalised as the model wants. A full-width request
// is the same vector as one without dimensions, as OpenAI's is.
func (p *pooling) finish(v []float32, dims int) []float32 {
	if dims <= 0 || dims >= len(v) {
		if p.normalize {
			normalize(v)
		}
		return v
	}
	if p.layerNormCut {
		layerNorm(v)
		v = v[:dims]
		normalize(v) // the card's F.normalize, whatever the Normalize module says
		return v
	}
	v = v[:dims]
	if p.normalize {
		normalize(v)
	}
	return v
}

// layerNorm is F.layer_norm(v, (len(v),)) without weight or bias: v minus
// its mean over the square root of its biased variance plus 1e-5.
func layerNorm(v []float32) {
	var mean float64
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	var variance float64
	for _, x := range v {
		d := float64(x) - mean
		variance += d * d
	}
	variance /= float64(len(v))
	inv := 1 / math.Sqrt(variance+1e-5)
	for i, x := range v {
		v[i] = float32((float64(x) - mean) * inv)
	}
}
