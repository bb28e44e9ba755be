package model

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestDequantizeHandPacked checks the bit layout against codes packed by hand.
func TestDequantizeHandPacked(t *testing.T) {
	// 4 bits: value j is nibble j of the little-endian word, low nibble first.
	codes := binary.LittleEndian.AppendUint32(nil, 0x76543210)
	codes = binary.LittleEndian.AppendUint32(codes, 0xfedcba98)
	dst := make([]float32, 16)
	if err := DequantizeRow(codes, 4, 16, []float32{0.5}, []float32{-1}, dst); err != nil {
		t.Fatal(err)
	}
	for j, v := range dst {
		if want := 0.5*float32(j) - 1; v != want {
			t.Fatalf("4-bit value %d = %g, want %g", j, v, want)
		}
	}
	// 3 bits: 32 values 0..7 repeating, packed as one stream of 96 bits. Value 10
	// occupies bits 30..32 and straddles the first two words.
	var stream [12]byte
	for j := range 32 {
		for k := range 3 {
			if (j%8)>>k&1 == 1 {
				stream[(3*j+k)/8] |= 1 << ((3*j + k) % 8)
			}
		}
	}
	dst = make([]float32, 32)
	if err := DequantizeRow(stream[:], 3, 32, []float32{1}, []float32{0}, dst); err != nil {
		t.Fatal(err)
	}
	for j, v := range dst {
		if v != float32(j%8) {
			t.Fatalf("3-bit value %d = %g, want %d", j, v, j%8)
		}
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, bits := range []int{2, 3, 4, 5, 6, 8} {
		for _, group := range []int{32, 64, 128} {
			w := make([]float32, 256)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			codes, scales, biases, err := QuantizeRow(w, bits, group)
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != 256*bits/8 || len(scales) != 256/group {
				t.Fatalf("%d bits: %d code bytes, %d scales", bits, len(codes), len(scales))
			}
			got := make([]float32, 256)
			if err := DequantizeRow(codes, bits, group, scales, biases, got); err != nil {
				t.Fatal(err)
			}
			for i := range w {
				// Rounding to the nearest level errs by at most half a step.
				if d := got[i] - w[i]; d > scales[i/group]/2*1.0001 || -d > scales[i/group]/2*1.0001 {
					t.Fatalf("%d bits, group %d: w[%d] = %g came back as %g (step %g)", bits, group, i, w[i], got[i], scales[i/group])
				}
			}
		}
	}
}

func TestDequantizeRejects(t *testing.T) {
	dst := make([]float32, 64)
	cases := []struct {
		name  string
		codes []byte
		bits  int
		group int
		n     int
	}{
		{"short codes", make([]byte, 16), 4, 32, 2},
		{"bad group", make([]byte, 32), 4, 48, 2},
		{"few scales", make([]byte, 32), 4, 32, 1},
		{"9 bits", make([]byte, 128), 9, 32, 2},
	}
	for _, c := range cases {
		s := make([]float32, c.n)
		if err := DequantizeRow(c.codes, c.bits, c.group, s, s, dst); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
