//go:build !race

package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMatMul is arithmetic over every tile shape and kernel set; the pool's
// concurrency is TestMatMulLong's, which the race pass runs (this one took
// 23 s there).
func TestMatMul(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		for i, c := range matCases() {
			if c.rows > 100 {
				continue // TestMatVec has the big shapes; these cover the tiles
			}
			// 5, 9 and 40 take the packed path where a set has a
			// micro-kernel: a half panel, one partial panel, and
			// several panels with a half one last; 2 goes around it.
			for _, n := range []int{2, 5, 9, 40} {
				t.Run(fmt.Sprintf("%s/n%d", c, n), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(i), 2))
					m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
					checkMatMul(t, e, m, randVec(rng, n*c.cols), n)
				})
			}
		}
	})
}
