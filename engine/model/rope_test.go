package model

import (
	"math"
	"testing"
)

func TestRopeFreqsPlain(t *testing.T) {
	c := &Config{HeadDim: 8, RopeTheta: 10000}
	got := RopeFreqs(c)
	want := []float64{1, 0.1, 0.01, 0.001} // 10000^(-2i/8)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("freq %d = %g, want %g", i, got[i], want[i])
		}
	}
	c.RopeScaling = &RopeScaling{Type: "linear", Factor: 4}
	if got := RopeFreqs(c); math.Abs(got[1]-0.025) > 1e-15 {
		t.Errorf("linear scaling: %v", got)
	}
}

// TestRopeFreqsLlama3 uses Llama 3.1's settings: wavelengths under 2048 positions
// keep their frequency, those over 8192 are slowed 8×, and the band between is
// interpolated so that the result is continuous and decreasing.
func TestRopeFreqsLlama3(t *testing.T) {
	c := &Config{HeadDim: 128, RopeTheta: 500000, RopeScaling: &RopeScaling{
		Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}}
	got := RopeFreqs(c)
	plain := RopeFreqs(&Config{HeadDim: 128, RopeTheta: 500000})
	var medium int
	for i := range got {
		wl := 2 * math.Pi / plain[i]
		switch {
		case wl < 2048:
			if got[i] != plain[i] {
				t.Errorf("freq %d (wavelength %.0f) changed", i, wl)
			}
		case wl > 8192:
			if math.Abs(got[i]-plain[i]/8) > 1e-18 {
				t.Errorf("freq %d (wavelength %.0f) = %g, want %g", i, wl, got[i], plain[i]/8)
			}
		default:
			medium++
			// smooth = 8192/wl - 1 in [0, 3] → scale between 1/8 and 1.
			smooth := (8192/wl - 1) / 3
			want := (1-smooth)*plain[i]/8 + smooth*plain[i]
			if math.Abs(got[i]-want) > 1e-15 {
				t.Errorf("freq %d = %g, want %g", i, got[i], want)
			}
		}
		if i > 0 && got[i] >= got[i-1] {
			t.Errorf("freqs not decreasing at %d", i)
		}
	}
	if medium == 0 {
		t.Error("no frequency in the interpolated band: the test checks nothing there")
	}
}

// TestYarn checks _compute_yarn_parameters' corner values for GPT-OSS's
// rope_scaling (factor 32, beta 32/1, original 4096, truncate false, head_dim
// 64, theta 150000): the attention factor 0.1·ln 32 + 1, the fastest pair
// kept, the slowest slowed by the factor, and a ramp between that falls.
func TestYarn(t *testing.T) {
	s := &RopeScaling{Type: "yarn", Factor: 32, BetaFast: 32, BetaSlow: 1, OriginalMaxPositionEmbeddings: 4096}
	if got, want := YarnAttentionFactor(s), 0.1*math.Log(32)+1; math.Abs(got-want) > 1e-12 {
		t.Errorf("attention factor %g, want %g", got, want)
	}
	plain := RopeFreqsFor(150000, 64, nil)
	yarn := RopeFreqsFor(150000, 64, s)
	if yarn[0] != plain[0] || math.Abs(yarn[31]-plain[31]/32) > 1e-15 {
		t.Errorf("ends %g, %g; want %g, %g", yarn[0], yarn[31], plain[0], plain[31]/32)
	}
	// The band: ln(4096/(2π·32))·64/(2 ln 150000) ≈ 8.09 to ln(4096/2π)·64/(2 ln 150000) ≈ 17.4.
	for i := range yarn {
		ratio := yarn[i] / plain[i]
		switch {
		case i <= 8 && math.Abs(ratio-1) > 1e-12:
			t.Errorf("pair %d scaled by %g before the band", i, ratio)
		case i >= 18 && math.Abs(ratio-1.0/32) > 1e-12:
			t.Errorf("pair %d scaled by %g after the band", i, ratio)
		case i > 8 && i < 18 && (ratio >= 1 || ratio <= 1.0/32):
			t.Errorf("pair %d scaled by %g inside the band", i, ratio)
		}
	}
}
