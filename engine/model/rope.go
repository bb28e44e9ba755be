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
	case s.Type == "yarn":
		yarnScale(freqs, theta, dims, s)
	}
	return freqs
}

// yarnScale is transformers' _compute_yarn_parameters: frequencies that turn
// more than beta_fast times over the original context are kept, those that
// turn fewer than beta_slow times are slowed by factor, and a linear ramp
// over the dimensions between blends the two.
func yarnScale(freqs []float64, theta float64, dims int, s *RopeScaling) {
	orig := float64(s.OriginalMaxPositionEmbeddings)
	correction := func(rotations float64) float64 {
		return float64(dims) * math.Log(orig/(rotations*2*math.Pi)) / (2 * math.Log(theta))
	}
	low, high := correction(s.BetaFast), correction(s.BetaSlow)
	if s.Truncate {
		low, high = math.Floor(low), math.Ceil(high)
	}
	low, high = max(low, 0), min(high, float64(dims-1))
	if low == high {
		high += 0.001 // as transformers does, against a division by zero
	}
	for i, f := range freqs {
		ramp := min(max((float64(i)-low)/(high-low), 0), 1)
		extrapolation := 1 - ramp // the share kept at the original frequency
		freqs[i] = f/s.Factor*(1-extrapolation) + f*extrapolation
	}
}

// YarnAttentionFactor is the cos/sin multiplier yarn scaling asks for
// (Rope.Scale): attention_factor when given, else 0.1·ln(factor)+1, or the
// ratio of the two mscale forms when mscale and mscale_all_dim are set.
func YarnAttentionFactor(s *RopeScaling) float64 {
	if s.AttentionFactor != 0 {
		return s.AttentionFactor
	}
	mscale := func(scale, m float64) float64 {
		if scale <= 1 {
			return 1
		}
		return 0.1*m*math.Log(scale) + 1
	}
	if s.Mscale != 0 && s.MscaleAllDim != 0 {
		return mscale(s.Factor, s.Mscale) / mscale(s.Factor, s.MscaleAllDim)
	}
	return mscale(s.Factor, 1)
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
