package graph

import "math"

// rotary fills cos and sin, each (n, len(invFreq)) row-major, for positions
// start..start+n-1. Angles are computed in float64 on the host, which keeps
// rope scaling out of the graph and precise at long positions.
func rotary(invFreq []float64, start, n int, cos, sin []float32) {
	half := len(invFreq)
	for r := range n {
		pos := float64(start + r)
		for i, f := range invFreq {
			s, c := math.Sincos(pos * f)
			cos[r*half+i] = float32(c)
			sin[r*half+i] = float32(s)
		}
	}
}
