//go:build goexperiment.simd

package kern

import "simd/archsimd"

// neonSoftcap is goSoftcap on 4 lanes.
func neonSoftcap(x []float32, c float32) {
	k, cv := archsimd.BroadcastFloat32x4(2/c), archsimd.BroadcastFloat32x4(c)
	two, sign := archsimd.BroadcastFloat32x4(2), archsimd.BroadcastUint32x4(signBit)
	j := 0
	for ; j+4 <= len(x); j += 4 {
		v := archsimd.LoadFloat32x4(x[j:])
		e := exp4(v.Abs().Mul(k))
		one := lf4(&nOne)
		t := one.Sub(two.Div(e.Add(one))).Mul(cv)
		t.ToBits().Or(v.ToBits().And(sign)).BitsToFloat32().Store(x[j:])
	}
	goSoftcap(x[j:], c)
}
