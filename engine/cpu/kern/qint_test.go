package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// i8Ref is the integer product in float64 from the prepared input: what every
// integer kernel must compute (up to float32 rounding), with Σ|terms| per row.
func i8Ref(m *Mat, in *qin) (y, mag []float64) {
	ng := m.Cols / m.GroupSize
	y, mag = make([]float64, m.Rows), make([]float64, m.Rows)
	for r := range m.Rows {
		for g := range ng {
			var s float64
			for c := g * m.GroupSize; c < (g+1)*m.GroupSize; c++ {
				s += float64(m.code(r, c)) * float64(xqAt(m, in, c))
			}
			sc, b := float64(m.Scales.At(r*ng+g)), float64(m.Biases.At(r*ng+g))
			term := sc * float64(in.qi.dx[g]) * s
			bias := b * float64(in.xsum[g])
			y[r] += term + bias
			mag[r] += math.Abs(term) + math.Abs(bias)
		}
	}
	return y, mag
}

// code is the quantized code of row r, column c.
func (m *Mat) code(r, c int) int {
	if m.DType == Q8 {
		return int(m.Q[r*m.Cols+c])
	}
	b := m.Q[(r*m.Cols+c)/2]
	if c%2 == 0 {
		return int(b & 15)
	}
	return int(b >> 4)
}

// xqAt is x's integer value at column c, wherever the layout puts it.
func xqAt(m *Mat, in *qin, c int) int {
	if m.DType == Q8 {
		return int(in.qi.xw[c])
	}
	b, o := c&^31, c&31
	return int(in.qi.xw[b+o/2+(o&1)*16])
}

// TestQintQuantize checks x's quantization: within half a step of x, never
// beyond ±qintMax, the largest value of each group exactly ±qintMax.
func TestQintQuantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, d := range []DType{Q8, Q4} {
		for _, gs := range []int{32, 64, 128} {
			m := randMat(rng, d, 1, 4*gs, gs, F16)
			x := randVec(rng, m.Cols)
			clear(x[gs : 2*gs]) // an all-zero group
			var in qin
			in.prepare(m, x)
			if !in.prepareInt(m) {
				t.Fatal("finite x refused")
			}
			for g := range m.Cols / gs {
				peak := 0
				for c := g * gs; c < (g+1)*gs; c++ {
					q := xqAt(m, &in, c)
					peak = max(peak, abs(q))
					if abs(q) > qintMax || math.Abs(float64(q)*float64(in.qi.dx[g])-float64(x[c])) > float64(in.qi.dx[g])/2*(1+1e-6) {
						t.Fatalf("%s g%d col %d: x %v → %d × %v", d, gs, c, x[c], q, in.qi.dx[g])
					}
				}
				if want := map[bool]int{true: 0, false: qintMax}[in.qi.dx[g] == 0]; peak != want {
					t.Fatalf("%s g%d group %d: largest |xq| %d, want %d", d, gs, g, peak, want)
				}
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestQintKernels: every kernel set's integer rows, and the plain-Go reference,
// compute the integer product of the prepared input; and the whole product is
// within x's rounding of the exact one.
func TestQintKernels(t *testing.T) {
	sets := map[string][2]func([]float32, *Mat, int, *qin){"go": {goRowsQ8i, goRowsQ4i}}
	for _, im := range impls() {
		if im.rowsQ8i != nil {
			sets[im.name] = [2]func([]float32, *Mat, int, *qin){im.rowsQ8i, im.rowsQ4i}
		}
	}
	for name, rows := range sets {
		for i, c := range matCases() {
			if c.d != Q8 && c.d != Q4 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", name, c), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(i), 8))
				m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
				x := randVec(rng, c.cols)
				var in qin
				in.prepare(m, x)
				if !in.prepareInt(m) {
					t.Fatal("finite x refused")
				}
				y := make([]float32, m.Rows)
				f := rows[0]
				if c.d == Q4 {
					f = rows[1]
				}
				// In two calls, as the workers split rows.
				half := m.Rows / 2
				f(y[:half], m, 0, &in)
				f(y[half:], m, half, &in)
				want, mag := i8Ref(m, &in)
				exact, _ := refMatVec(m, x)
				for r := range y {
					if !close32(y[r], want[r], mag[r]) {
						t.Fatalf("row %d: got %v, want %v (Σ|terms| %v)", r, y[r], want[r], mag[r])
					}
					// x's rounding moves each term s·q·x by at most s·q·dx/2.
					var bound float64
					ng := m.Cols / m.GroupSize
					for col := range m.Cols {
						g := col / m.GroupSize
						bound += math.Abs(float64(m.Scales.At(r*ng+g))*float64(m.code(r, col))) * float64(in.qi.dx[g]) / 2
					}
					if d := math.Abs(float64(y[r]) - exact[r]); d > bound*(1+1e-3)+1e-4*mag[r] {
						t.Fatalf("row %d: %v is %v from the exact %v, beyond x's rounding (%v)", r, y[r], d, exact[r], bound)
					}
				}
			})
		}
	}
}

// TestExecQint checks the routing: with SetIntInput the products take the integer
// kernels where the set has them (and the float ones where it does not), with
// several products in one step and on several threads.
func TestExecQint(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(3)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		if e.IntInput() != (active.rowsQ8i != nil) {
			t.Fatalf("IntInput() = %v with rowsQ8i set: %v", e.IntInput(), active.rowsQ8i != nil)
		}
		rng := rand.New(rand.NewPCG(9, 9))
		for _, d := range []DType{Q8, Q4} {
			a, b := randMat(rng, d, 300, 512, 64, F16), randMat(rng, d, 77, 512, 64, F16)
			x := randVec(rng, 512)
			ya, yb := make([]float32, a.Rows), make([]float32, b.Rows)
			e.MatVecs(x, Product{ya, a}, Product{yb, b})
			var in qin
			in.prepare(a, x)
			in.prepareInt(a)
			for _, p := range []struct {
				m *Mat
				y []float32
			}{{a, ya}, {b, yb}} {
				want, mag := i8Ref(p.m, &in)
				if !e.IntInput() {
					want, mag = refMatVec(p.m, x)
				}
				for r := range p.y {
					if !close32(p.y[r], want[r], mag[r]) {
						t.Fatalf("%s row %d: got %v, want %v", d, r, p.y[r], want[r])
					}
				}
			}
		}
	})
}

// A NaN or Inf in x reaches the output as with float x: the product falls back
// to the float kernels for that input.
func TestExecQintNonFinite(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(1)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(4, 4))
		for _, d := range []DType{Q8, Q4} {
			m := randMat(rng, d, 16, 128, 64, F16)
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				x := randVec(rng, 128)
				x[70] = bad
				y := make([]float32, 16)
				e.MatVec(y, m, x)
				for r, v := range y {
					if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
						t.Fatalf("%s with x[70]=%v: row %d is %v", d, bad, r, v)
					}
				}
				// The next finite input takes the integer kernels again.
				x[70] = 0.5
				e.MatVec(y, m, x)
				var in qin
				in.prepare(m, x)
				in.prepareInt(m)
				want, mag := i8Ref(m, &in)
				if !e.IntInput() {
					want, mag = refMatVec(m, x)
				}
				for r := range y {
					if !close32(y[r], want[r], mag[r]) {
						t.Fatalf("%s after a non-finite input, row %d: %v, want %v", d, r, y[r], want[r])
					}
				}
			}
		}
	})
}

// TestMixedScaleTypes: a checkpoint may store scales and biases in two types.
// Check gives both as float32 (the integer kernels read them in one type),
// and every product, lone and batched, float and integer input, equals the
// one from the same values stored in one type, bit for bit.
func TestMixedScaleTypes(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		rng := rand.New(rand.NewPCG(14, 14))
		for _, d := range []DType{Q8, Q4} {
			for _, sd := range []DType{F16, BF16} {
				one := randMat(rng, d, 36, 256, 64, sd)
				mixed := *one
				mixed.Biases = one.Biases.widened() // same values, float32
				if mixed.Biases.DType != F32 {
					t.Fatal("widened biases are not float32")
				}
				if err := mixed.Check(); err != nil {
					t.Fatal(err)
				}
				if mixed.Scales.DType != F32 || mixed.Biases.DType != F32 {
					t.Fatalf("%s/%s: Check left scales %s, biases %s", d, sd, mixed.Scales.DType, mixed.Biases.DType)
				}
				for _, intIn := range []bool{false, true} {
					e := NewExec(pool)
					e.SetIntInput(intIn)
					for _, n := range []int{1, 2, 4, 5, 8, 9} {
						x := randVec(rng, n*one.Cols)
						want, got := make([]float32, n*one.Rows), make([]float32, n*one.Rows)
						e.MatMul(want, one, x, n)
						e.MatMul(got, &mixed, x, n)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s %s scales, int input %v, n=%d: output %d is %v, %v with one type", d, sd, intIn, n, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}
