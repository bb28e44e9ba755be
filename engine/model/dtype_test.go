package model

import (
	"math"
	"testing"
)

// TestF16RoundTrip checks every half: widening is exact and narrowing gives it back.
func TestF16RoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			if back := F32ToF16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("%#04x → %g → %#04x", h, f, back)
		}
	}
}

func TestF16Values(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, // 65520 rounds up to Inf
		{float32(math.Pow(2, -24)), 0x0001}, {float32(math.Pow(2, -25)), 0x0000}, // tie to even: 0
		{float32(3 * math.Pow(2, -25)), 0x0002}, // 1.5 ulp rounds to even 2
		{1 + float32(math.Pow(2, -11)), 0x3c00}, // tie between 1 and 1+2^-10: even is 1
		{1 + 3*float32(math.Pow(2, -11)), 0x3c02},
		{float32(math.Inf(-1)), 0xfc00},
	}
	for _, c := range cases {
		if got := F32ToF16(c.f); got != c.want {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3f80}, {-1, 0xbf80}, {3.140625, 0x4049},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81},
	}
	for _, c := range cases {
		if got := F32ToBF16(c.f); got != c.want {
			t.Errorf("F32ToBF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
		if back := BF16ToF32(c.want); F32ToBF16(back) != c.want {
			t.Errorf("BF16 %#04x does not round-trip", c.want)
		}
	}
	if !math.IsNaN(float64(BF16ToF32(F32ToBF16(float32(math.NaN()))))) {
		t.Error("NaN lost")
	}
}

func TestDecodeFloats(t *testing.T) {
	want := []float32{1, -0.5, 3.25, 1e-3}
	for _, dt := range []DType{F32, F16, BF16} {
		b, err := EncodeFloats(dt, want)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 2)
		if err := DecodeFloats(dt, b, 1, got); err != nil {
			t.Fatal(err)
		}
		if got[0] != -0.5 || got[1] != 3.25 {
			t.Errorf("%s: %v", dt, got)
		}
		if err := DecodeFloats(dt, b, 3, got); err == nil {
			t.Errorf("%s: read past the end", dt)
		}
	}
	if err := DecodeFloats(U32, make([]byte, 8), 0, make([]float32, 2)); err == nil {
		t.Error("U32 decoded as float")
	}
}
