package graph

import "math"

// rotary fills cos and sin, each (n, 2*len(invFreq)) row-major, for
// positions start..start+n-1, in the layout rope expects: cos is [c, c] and
// sin is [-s, s] for the row's angles. Angles are computed in float64 on the
// host, which keeps rope scaling out of the graph and precise at long positions.
func rotary(invFreq []float64, start, n int, cos, sin []float32) {
	half := len(invFreq)
	for r := range n {
		pos := float64(start + r)
		row := r * 2 * half
		for i, f := range invFreq {
			s, c := math.Sincos(pos * f)
			cos[row+i], cos[row+half+i] = float32(c), float32(c)
			sin[row+i], sin[row+half+i] = float32(-s), float32(s)
		}
	}
}
