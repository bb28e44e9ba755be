package model

import "fmt"

// Dims are the layer's output and input sizes, whether quantized or not.
func (l *Linear) Dims() (out, in int) {
	if len(l.Weight.Shape) != 2 {
		return 0, 0
	}
	out, in = l.Weight.Shape[0], l.Weight.Shape[1]
	if l.Bits > 0 {
		in = in * 32 / l.Bits
	}
	return out, in
}

// Row writes row r of the weight matrix into dst (len in), converted to float32
// and dequantized when the layer is quantized. It is the plain, slow path: the
// reference runner and tests use it; executors have their own kernels.
func (l *Linear) Row(r int, dst []float32) error {
	out, in := l.Dims()
	if r < 0 || r >= out || len(dst) != in {
		return fmt.Errorf("%s: row %d of %d into %d values (want %d)", l.Weight.Name, r, out, len(dst), in)
	}
	if l.Bits == 0 {
		return DecodeFloats(l.Weight.DType, l.Weight.Data, r*in, dst)
	}
	if l.MXFP4 {
		if l.Scales == nil {
			return fmt.Errorf("%s: mxfp4 without scales", l.Weight.Name)
		}
		rowBytes, groups := in/2, in/32
		return DequantizeMXFP4Row(l.Weight.Data[r*rowBytes:(r+1)*rowBytes], l.Scales.Data[r*groups:(r+1)*groups], dst)
	}
	if l.Scales == nil || l.Biases == nil {
		return fmt.Errorf("%s: quantized without scales and biases", l.Weight.Name)
	}
	groups := in / l.GroupSize
	scales := make([]float32, groups)
	biases := make([]float32, groups)
	if err := DecodeFloats(l.Scales.DType, l.Scales.Data, r*groups, scales); err != nil {
		return fmt.Errorf("%s: %w", l.Scales.Name, err)
	}
	if err := DecodeFloats(l.Biases.DType, l.Biases.Data, r*groups, biases); err != nil {
		return fmt.Errorf("%s: %w", l.Biases.Name, err)
	}
	rowBytes := in * l.Bits / 8
	return DequantizeRow(l.Weight.Data[r*rowBytes:(r+1)*rowBytes], l.Bits, l.GroupSize, scales, biases, dst)
}
