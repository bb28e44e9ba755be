package kern

import "math"

// Constants of the float32 exp used by softmax (Cephes expf): range reduction
// x = n·ln2 + r with ln2 split in two for precision, then a degree-6
// polynomial for e^r. About 2 ulp over the range; the SIMD versions use the
// same constants and order of operations.
const (
	expHi    = 88.0              // keeps n ≤ 127 so 2^n stays finite
	expLo    = -87.3365447505531 // below this e^x is a float32 subnormal: flushed to 0
	log2e    = 1.44269504088896341
	ln2Hi    = 0.693359375
	ln2Lo    = -2.12194440e-4
	expC1    = 1.9875691500e-4
	expC2    = 1.3981999507e-3
	expC3    = 8.3334519073e-3
	expC4    = 4.1665795894e-2
	expC5    = 1.6666665459e-1
	expC6    = 5.0000001201e-1
	roundMag = 12582912 // 1.5·2^23: adding and subtracting it rounds to an integer
)

// Exp is the float32 exponential the kernels use (softmax, SiLU).
func Exp(x float32) float32 {
	if x < expLo {
		return 0
	}
	if x > expHi {
		x = expHi
	}
	n := (x*log2e + roundMag) - roundMag
	r := x - n*ln2Hi
	r -= n * ln2Lo
	p := float32(expC1)
	p = p*r + expC2
	p = p*r + expC3
	p = p*r + expC4
	p = p*r + expC5
	p = p*r + expC6
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func goAxpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

func goScale(y []float32, a float32) {
	for i := range y {
		y[i] *= a
	}
}

func goExpSum(x []float32, max float32) float32 {
	var s float32
	for i, v := range x {
		e := Exp(v - max)
		x[i] = e
		s += e
	}
	return s
}

func goSumSq(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * x[i]
		s1 += x[i+1] * x[i+1]
		s2 += x[i+2] * x[i+2]
		s3 += x[i+3] * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func goMulInto(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = a[i] * b[i]
	}
}

func goDotF16(a []float32, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += a[i] * F16ToF32(b[i])
		s1 += a[i+1] * F16ToF32(b[i+1])
	}
	if i < len(a) {
		s0 += a[i] * F16ToF32(b[i])
	}
	return s0 + s1
}

func goAxpyF16(y []float32, a float32, x []uint16) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * F16ToF32(x[i])
	}
}

func goSiLUMul(a, b []float32) {
	b = b[:len(a)]
	for i, v := range a {
		a[i] = v / (1 + Exp(-v)) * b[i]
	}
}

func goDotBF16(a []float32, b []uint16) float32 {
	b = b[:len(a)]
	var s float32
	for i, v := range a {
		s += v * BF16ToF32(b[i])
	}
	return s
}
