package cpu

import (
	"fmt"
	"unsafe"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// linear is a model.Linear ready for the kernels.
type linear struct {
	w    *kern.Mat
	bias []float32 // (out); nil when the layer has none
}

// loader converts model weights into kernel matrices, sharing the matrix of
// tied tensors and quantizing float matrices when asked to.
type loader struct {
	pool  *kern.Pool
	opts  Options
	mats  map[*byte]*kern.Mat // by the address of the stored weight data
	uses  map[*kern.Mat]int   // layers sharing each matrix (tied embeddings)
	bytes int64               // weight bytes the matrices read per token
}

func (ld *loader) linear(l *model.Linear) (linear, error) {
	m, err := ld.mat(l)
	if err != nil {
		return linear{}, fmt.Errorf("%s: %w", l.Weight.Name, err)
	}
	out := linear{w: m}
	if l.Bias != nil {
		if out.bias, err = l.Bias.Float32s(); err != nil {
			return linear{}, err
		}
		if len(out.bias) != m.Rows {
			return linear{}, fmt.Errorf("%s: %d bias values for %d outputs", l.Bias.Name, len(out.bias), m.Rows)
		}
	}
	return out, nil
}

func (ld *loader) mat(l *model.Linear) (*kern.Mat, error) {
	key := unsafe.SliceData(l.Weight.Data)
	if m, ok := ld.mats[key]; ok {
		ld.uses[m]++
		return m, nil
	}
	m, err := stored(l)
	if err != nil {
		return nil, err
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	if b := ld.opts.QuantizeBits; b > 0 && l.Bits == 0 && m.Cols%ld.opts.QuantizeGroup == 0 {
		sd := kern.F16
		if m.DType == kern.BF16 {
			sd = kern.BF16
		}
		if m, err = kern.Quantize(ld.pool, m, b, ld.opts.QuantizeGroup, sd); err != nil {
			return nil, err
		}
	}
	ld.mats[key] = m
	ld.uses[m] = 1
	ld.bytes += m.Bytes()
	return m, nil
}

// stored views the layer's tensors as a kernel matrix without copying, except
// for MLX widths the kernels do not read directly (2, 3, 5, 6 bits), whose
// codes are unpacked to one byte each: exact, and read by the 8-bit kernels.
func stored(l *model.Linear) (*kern.Mat, error) {
	out, in := l.Dims()
	m := &kern.Mat{Rows: out, Cols: in}
	if l.Bits == 0 {
		switch l.Weight.DType {
		case model.F32:
			m.DType, m.F32 = kern.F32, kern.AsF32(l.Weight.Data)
		case model.F16:
			m.DType, m.U16 = kern.F16, kern.AsU16(l.Weight.Data)
		case model.BF16:
			m.DType, m.U16 = kern.BF16, kern.AsU16(l.Weight.Data)
		default:
			return nil, fmt.Errorf("weight dtype %s is not supported", l.Weight.DType)
		}
		return m, nil
	}
	if l.MXFP4 {
		if l.Scales == nil {
			return nil, fmt.Errorf("mxfp4 layer without scales")
		}
		m.DType, m.Q, m.Exps, m.GroupSize = kern.MXFP4, l.Weight.Data, l.Scales.Data, l.GroupSize
		return m, nil
	}
	if l.Scales == nil || l.Biases == nil {
		return nil, fmt.Errorf("%d-bit layer without scales and biases", l.Bits)
	}
	sd, err := floatType(l.Scales.DType)
	if err != nil {
		return nil, err
	}
	bd, err := floatType(l.Biases.DType)
	if err != nil {
		return nil, err
	}
	m.GroupSize = l.GroupSize
	m.Scales, m.Biases = kern.FloatsOf(sd, l.Scales.Data), kern.FloatsOf(bd, l.Biases.Data)
	switch l.Bits {
	case 8:
		m.DType, m.Q = kern.Q8, l.Weight.Data
	case 4:
		m.DType, m.Q = kern.Q4, l.Weight.Data
	case 2, 3, 5, 6:
		m.DType, m.Q = kern.Q8, unpackCodes(l.Weight.Data, l.Bits, out*in)
	default:
		return nil, fmt.Errorf("%d-bit quantization is not supported", l.Bits)
	}
	return m, nil
}

func floatType(d model.DType) (kern.DType, error) {
	switch d {
	case model.F32:
		return kern.F32, nil
	case model.F16:
		return kern.F16, nil
	case model.BF16:
		return kern.BF16, nil
	}
	return 0, fmt.Errorf("scales/biases dtype %s is not supported", d)
}

// unpackCodes reads n codes of bits each from MLX's little-endian bit stream
// into one byte per code. Short input yields fewer bytes, which Mat.Check
// then reports.
func unpackCodes(data []byte, bits, n int) []byte {
	if len(data)*8 < n*bits {
		return nil
	}
	out := make([]byte, n)
	mask := uint32(1)<<bits - 1
	for j := range out {
		bit := j * bits
		v := uint32(data[bit/8])
		if bit/8+1 < len(data) {
			v |= uint32(data[bit/8+1]) << 8
		}
		out[j] = byte(v >> (bit % 8) & mask)
	}
	return out
}
