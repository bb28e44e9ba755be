package model

import "math"

// RopeFreqs returns the rotary inverse frequencies, one per rotated pair
// (HeadDim/2 of them): theta^(-2i/HeadDim), rescaled as rope_scaling says.
// Position p rotates the pair (x[i], x[i+HeadDim/2]) by angle p*freqs[i]
// (HF's rotate_half convention):
//
//	x'[i]           = x[i]*cos - x[i+d/2]*sin
//	x'[i+d/2]       = x[i+d/2]*cos + x[i]*sin
func RopeFreqs(c *Config) []float64 { return RopeFreqsFor(c.RopeTheta, c.HeadDim, c.RopeScaling) }

// RopeFreqsFor is RopeFreqs for dims rotated features per head (partial
// rotary rotates fewer than head_dim), base theta and scaling s (nil: none).
// longrope is the family's to apply: its factors depend on the sequence
// length (see Rope.LongFreqs), so it leaves the frequencies as they are.
func RopeFreqsFor(theta float64, dims int, s *RopeScaling) []float64 {
	freqs := make([]float64, dims/2)
	for i := range freqs {
		freqs[i] = 1 / math.Pow(theta, float64(2*i)/float64(dims))
	}
	switch {
	case s == nil:
	case s.Type == "linear":
		for i := range freqs {
			freqs[i] /= s.Factor
		}
	case s.Type == "llama3":
		llama3Scale(freqs, s)
	}
	return freqs
}

// llama3Scale is transformers' _compute_llama3_parameters: long wavelengths are
// slowed by factor, short ones kept, and the band between is interpolated.
func llama3Scale(freqs []float64, s *RopeScaling) {
	old := float64(s.OriginalMaxPositionEmbeddings)
	lowWavelen := old / s.LowFreqFactor
	highWavelen := old / s.HighFreqFactor
	for i, f := range freqs {
		wavelen := 2 * math.Pi / f
		switch {
		case wavelen < highWavelen:
			// high frequency: unchanged
		case wavelen > lowWavelen:
			freqs[i] = f / s.Factor
		default:
			smooth := (old/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
			freqs[i] = (1-smooth)*f/s.Factor + smooth*f
		}
	}
}
