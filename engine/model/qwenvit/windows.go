package qwenvit

// Qwen2.5-VL's tower runs on the image's patches in the processor's order
// (frame, block row, block column, row in block, column in block), each
// merge×merge block of patches one "unit" the merger makes one embedding of.
// Windows are squares of window_size/merge/patch units (4: 112 pixels);
// get_window_index lists the units window by window (windows row by row,
// units in a window row by row, the last windows of a row or column cut by
// the image's edge), and the tower permutes its rows so that each window's
// patches are consecutive.

// windowing is get_window_index of one image: units, the window index
// (the unit at each place in window order), rows, the same for the rows
// (each unit's merge² patches in order), and bounds, cu_window_seqlens in
// rows with the empty windows' repeats dropped (unique_consecutive).
type windowing struct {
	units, rows, bounds []int
}

func (t *Tower) windows(g [3]int) windowing {
	m := t.c.Merge
	unit := m * m
	lh, lw := g[1]/m, g[2]/m
	var w windowing
	if t.c.Qwen2VL {
		// No windows: the rows stay in the processor's order.
		w.bounds = frames(g)
		for u := range g[0] * lh * lw {
			w.units = append(w.units, u)
		}
		for r := range g[0] * g[1] * g[2] {
			w.rows = append(w.rows, r)
		}
		return w
	}
	side := t.c.Window / t.c.Merge / t.c.Patch
	w.bounds = []int{0}
	for f := range g[0] {
		for wy := 0; wy < lh; wy += side {
			for wx := 0; wx < lw; wx += side {
				for y := wy; y < min(wy+side, lh); y++ {
					for x := wx; x < min(wx+side, lw); x++ {
						w.units = append(w.units, (f*lh+y)*lw+x)
					}
				}
				w.bounds = append(w.bounds, len(w.units)*unit)
			}
		}
	}
	w.rows = make([]int, 0, len(w.units)*unit)
	for _, u := range w.units {
		for i := range unit {
			w.rows = append(w.rows, u*unit+i)
		}
	}
	return w
}

// frames is cu_seqlens of an image: each frame's patches attend to each
// other in the blocks of fullatt_block_indexes. A window holds units of
// one frame only, so the frames stay consecutive in window order.
func frames(g [3]int) []int {
	b := []int{0}
	for f := range g[0] {
		b = append(b, (f+1)*g[1]*g[2])
	}
	return b
}

// angles is rot_pos_emb in window order: for the patch at each row of
// order, its row's angles, then its column's, of VisionRotaryEmbedding
// (headDim/2 angles a row).
func (t *Tower) angles(g [3]int, order []int) []float64 {
	m := t.c.Merge
	q := len(t.freqs)
	bw := g[2] / m // blocks in a row
	out := make([]float64, 0, len(order)*2*q)
	for _, r := range order {
		in := r % (m * m)
		blk := r / (m * m) % ((g[1] / m) * bw)
		y, x := blk/bw*m+in/m, blk%bw*m+in%m
		for _, f := range t.freqs {
			out = append(out, float64(y)*f)
		}
		for _, f := range t.freqs {
			out = append(out, float64(x)*f)
		}
	}
	return out
}
