package cpu

import (
	"context"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The operations of towers that read each image at its own size (Qwen2-VL,
// Qwen2.5-VL): the image's grid, 2-D rotary angles given per row, attention
// within blocks of rows (windows), and the reorderings of rows between
// the processor's order and the windows'.

func (s *sequence) Grid() [3]int { return s.grid }

func (s *sequence) Rotate(x model.Value, headDim int, angles []float64) model.Value {
	xb := val(x)
	half := headDim / 2
	if headDim <= 0 || headDim%2 != 0 || xb.cols%headDim != 0 || len(angles) != xb.rows*half {
		panic(fmt.Sprintf("cpu: rotate (%d, %d) by heads of %d with %d angles", xb.rows, xb.cols, headDim, len(angles)))
	}
	for i := range xb.rows {
		row := xb.row(i)
		for j, a := range angles[i*half : (i+1)*half] {
			sin, cos := math.Sincos(a)
			c, sn := float32(cos), float32(sin)
			for h := 0; h < xb.cols; h += headDim {
				x1, x2 := row[h+j], row[h+j+half]
				row[h+j], row[h+j+half] = x1*c-x2*sn, x2*c+x1*sn
			}
		}
	}
	return xb
}

// BlockAttention runs SelfAttention on each block's rows: a window holds
// few rows (64 patches for Qwen2.5-VL's 112-pixel windows), so the blocks
// stay small products and nothing is spent on the scores of rows that do
// not see each other.
func (s *sequence) BlockAttention(q, k, v model.Value, a *model.Attention, bounds []int) model.Value {
	qb, kb, vb := val(q), val(k), val(v)
	if len(bounds) < 2 || bounds[0] != 0 || bounds[len(bounds)-1] != qb.rows || kb.rows != qb.rows || vb.rows != qb.rows {
		panic(fmt.Sprintf("cpu: block attention of %d rows in blocks %v", qb.rows, bounds))
	}
	out := s.ar.get(qb.rows, qb.cols)
	for i := 1; i < len(bounds); i++ {
		lo, n := bounds[i-1], bounds[i]-bounds[i-1]
		if n <= 0 {
			panic(fmt.Sprintf("cpu: block attention bounds %v do not increase", bounds))
		}
		o := val(s.SelfAttention(s.ar.view(qb, lo, n), s.ar.view(kb, lo, n), s.ar.view(vb, lo, n), a))
		copy(out.d[lo*out.cols:], o.d[:n*out.cols])
	}
	return out
}

func (s *sequence) Permute(x model.Value, order []int) model.Value {
	xb := val(x)
	if len(order) != xb.rows {
		panic(fmt.Sprintf("cpu: permute %d rows by %d", xb.rows, len(order)))
	}
	out := s.ar.get(xb.rows, xb.cols)
	for i, r := range order {
		if r < 0 || r >= xb.rows {
			panic(fmt.Sprintf("cpu: permute row %d of %d", r, xb.rows))
		}
		copy(out.row(i), xb.row(r))
	}
	return out
}

func (s *sequence) Group(x model.Value, n int) model.Value {
	xb := val(x)
	if n <= 0 || xb.rows%n != 0 {
		panic(fmt.Sprintf("cpu: group %d rows by %d", xb.rows, n))
	}
	out := s.ar.get(xb.rows/n, n*xb.cols)
	copy(out.d, xb.d)
	return out
}

// ImageGridEmbeds runs a tower of dynamic size on one image's patches.
func (s *sequence) ImageGridEmbeds(ctx context.Context, pixels []float32, grid [3]int) ([]float32, error) {
	if s.closed {
		return nil, ErrClosed
	}
	v, ok := s.r.def.(model.Vision)
	if !ok {
		return nil, ErrNoVision
	}
	spec := v.Image()
	if err := spec.CheckGrid(grid, len(pixels)); err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	s.grid = grid
	defer func() { s.grid = [3]int{} }()
	return s.tower(ctx, v, pixels, spec.GridTokens(grid))
}
