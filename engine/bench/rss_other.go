//go:build !unix

package bench

func maxRSSMB() float64 { return 0 }
