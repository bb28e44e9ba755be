package bench

import (
	"runtime"
	"sync"
	"time"
)

// Triad measures memory bandwidth the way STREAM's triad does, a[i] = b[i] +
// s·c[i] over arrays far larger than any cache, split across threads
// goroutines; it returns the best of a few passes in GB/s (24 bytes moved per
// element, as STREAM counts them).
func Triad(threads int) float64 {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	n := triadElems
	a, b, c := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range b {
		b[i], c[i] = 1, 2
	}
	best := 0.0
	for pass := 0; pass < 5; pass++ {
		start := time.Now()
		var wg sync.WaitGroup
		for t := 0; t < threads; t++ {
			lo, hi := n*t/threads, n*(t+1)/threads
			wg.Add(1)
			go func() {
				defer wg.Done()
				triad(a[lo:hi], b[lo:hi], c[lo:hi], 3)
			}()
		}
		wg.Wait()
		if gbs := float64(24*n) / time.Since(start).Seconds() / 1e9; gbs > best {
			best = gbs
		}
	}
	return best
}

// triadElems is the length of each array: 128 MiB, beyond any cache (tests
// shrink it).
var triadElems = 1 << 24

func triad(a, b, c []float64, s float64) {
	b, c = b[:len(a)], c[:len(a)]
	for i := range a {
		a[i] = b[i] + s*c[i]
	}
}
