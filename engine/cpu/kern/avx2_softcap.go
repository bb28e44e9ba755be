//go:build goexperiment.simd && amd64

package kern

import "simd/archsimd"

// avx2Softcap is goSoftcap on 8 lanes.
func avx2Softcap(x []float32, c float32) {
	k, cv := archsimd.BroadcastFloat32x8(2/c), archsimd.BroadcastFloat32x8(c)
	two, sign := archsimd.BroadcastFloat32x8(2), archsimd.BroadcastUint32x8(signBit)
	j := 0
	for ; j+8 <= len(x); j += 8 {
		v := archsimd.LoadFloat32x8(x[j:])
		e := exp8(v.Abs().Mul(k))
		one := lf8(&cOne)
		t := one.Sub(two.Div(e.Add(one))).Mul(cv)
		t.ToBits().Or(v.ToBits().And(sign)).BitsToFloat32().Store(x[j:])
	}
	goSoftcap(x[j:], c)
}
