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
