package reference

import (
	"context"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The operations of towers that read each image at its own size
// (Qwen2-VL, Qwen2.5-VL), as literally as their definitions in model.

func (o *ops) Grid() [3]int { return o.grid }

func (o *ops) Rotate(x model.Value, headDim int, angles []float64) model.Value {
	xm := val(x)
	half := headDim / 2
	if headDim <= 0 || headDim%2 != 0 || xm.cols%headDim != 0 || len(angles) != xm.rows*half {
		panic(fmt.Sprintf("reference: rotate (%d, %d) by heads of %d with %d angles", xm.rows, xm.cols, headDim, len(angles)))
	}
	out := newMat(xm.rows, xm.cols)
	for i := range xm.rows {
		in, row := xm.row(i), out.row(i)
		for h := 0; h < xm.cols; h += headDim {
			for j := range half {
				a := angles[i*half+j]
				x1, x2 := in[h+j], in[h+j+half]
				row[h+j] = x1*math.Cos(a) - x2*math.Sin(a)
				row[h+j+half] = x2*math.Cos(a) + x1*math.Sin(a)
			}
		}
	}
	return out
}

func (o *ops) BlockAttention(q, k, v model.Value, a *model.Attention, bounds []int) model.Value {
	qm, km, vm := val(q), val(k), val(v)
	if len(bounds) < 2 || bounds[0] != 0 || bounds[len(bounds)-1] != qm.rows || km.rows != qm.rows || vm.rows != qm.rows {
		panic(fmt.Sprintf("reference: block attention of %d rows in blocks %v", qm.rows, bounds))
	}
	out := newMat(qm.rows, qm.cols)
	for i := 1; i < len(bounds); i++ {
		lo, hi := bounds[i-1], bounds[i]
		if hi <= lo {
			panic(fmt.Sprintf("reference: block attention bounds %v do not increase", bounds))
		}
		rows := func(m *mat) *mat { return &mat{rows: hi - lo, cols: m.cols, d: m.d[lo*m.cols : hi*m.cols]} }
		b := val(o.SelfAttention(rows(qm), rows(km), rows(vm), a))
		copy(out.d[lo*out.cols:], b.d)
	}
	return out
}

func (o *ops) Permute(x model.Value, order []int) model.Value {
	xm := val(x)
	if len(order) != xm.rows {
		panic(fmt.Sprintf("reference: permute %d rows by %d", xm.rows, len(order)))
	}
	out := newMat(xm.rows, xm.cols)
	for i, r := range order {
		if r < 0 || r >= xm.rows {
			panic(fmt.Sprintf("reference: permute row %d of %d", r, xm.rows))
		}
		copy(out.row(i), xm.row(r))
	}
	return out
}

func (o *ops) Group(x model.Value, n int) model.Value {
	xm := val(x)
	if n <= 0 || xm.rows%n != 0 {
		panic(fmt.Sprintf("reference: group %d rows by %d", xm.rows, n))
	}
	out := newMat(xm.rows/n, n*xm.cols)
	copy(out.d, xm.d)
	return out
}

func (s *sequence) ImageGridEmbeds(ctx context.Context, pixels []float32, grid [3]int) ([]float32, error) {
	if s.closed {
		return nil, ErrClosed
	}
	v, ok := s.r.def.(model.Vision)
	if !ok {
		return nil, errNoVision
	}
	spec := v.Image()
	if err := spec.CheckGrid(grid, len(pixels)); err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	return s.tower(ctx, v, pixels, grid, spec.GridTokens(grid))
}
