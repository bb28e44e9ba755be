package hfref_test

import (
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
)

// TestQwenWindowIndex checks the oracle's get_window_index against windows
// worked out by hand. 6×10 patches merged 2×2 are 3×5 blocks, numbered row
// by row:
//
//	 0  1  2  3  4
//	 5  6  7  8  9
//	10 11 12 13 14
//
// Windows of 16 pixels over patches of 4 are 2×2 blocks: (0 1 5 6), (2 3 7
// 8), (4 9), (10 11), (12 13), (14), each block 4 patches. A 4×4 grid is one
// window; the padding adds three empty ones, whose repeated bounds
// unique_consecutive drops.
func TestQwenWindowIndex(t *testing.T) {
	for _, c := range []struct {
		grid      [3]int
		index, cu []int
	}{
		{[3]int{1, 6, 10}, []int{0, 1, 5, 6, 2, 3, 7, 8, 4, 9, 10, 11, 12, 13, 14}, []int{0, 16, 32, 40, 48, 56, 60}},
		{[3]int{1, 4, 4}, []int{0, 1, 2, 3}, []int{0, 16}},
		{[3]int{2, 2, 6}, []int{0, 1, 2, 3, 4, 5}, []int{0, 8, 12, 20, 24}},
	} {
		index, cu := hfref.QwenWindowIndex(c.grid, 16, 2, 4)
		if !slices.Equal(index, c.index) || !slices.Equal(cu, c.cu) {
			t.Errorf("grid %v: window index %v, cu %v; want %v, %v", c.grid, index, cu, c.index, c.cu)
		}
	}
}

// TestQwenPositions checks rot_pos_emb's positions for 4×4 patches: the
// processor's order visits each 2×2 block row by row, the blocks row by
// row.
func TestQwenPositions(t *testing.T) {
	got := hfref.QwenPositions([3]int{1, 4, 4}, 2)
	want := [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3},
		{2, 0}, {2, 1}, {3, 0}, {3, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 3}}
	if !slices.Equal(got, want) {
		t.Errorf("positions %v, want %v", got, want)
	}
}
