//go:build goexperiment.simd && amd64

package kern

import "simd/archsimd"

// avx512Softcap is goSoftcap on 16 lanes.
func avx512Softcap(x []float32, c float32) {
	k, cv := archsimd.BroadcastFloat32x16(2/c), archsimd.BroadcastFloat32x16(c)
	two, sign := archsimd.BroadcastFloat32x16(2), archsimd.BroadcastUint32x16(signBit)
	j := 0
	for ; j+16 <= len(x); j += 16 {
		v := archsimd.LoadFloat32x16(x[j:])
		e := exp16(v.Abs().Mul(k))
		one := lf(&cOne)
		t := one.Sub(two.Div(e.Add(one))).Mul(cv)
		t.ToBits().Or(v.ToBits().And(sign)).BitsToFloat32().Store(x[j:])
	}
	goSoftcap(x[j:], c)
}
