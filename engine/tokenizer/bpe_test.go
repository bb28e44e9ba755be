package tokenizer

import (
	"slices"
	"testing"
)

// naiveMerge is the textbook BPE loop: merge the lowest-ranked adjacent
// pair, leftmost first, until none is left. It is the reference for both
// merge paths.
func naiveMerge(b *bpeModel, ids []int32) []int32 {
	ids = slices.Clone(ids)
	for {
		best, bestRank := -1, int32(-1)
		var bestID int32
		for i := 0; i+1 < len(ids); i++ {
			if m, ok := b.merges[pairKey(ids[i], ids[i+1])]; ok && (best < 0 || m.rank < bestRank) {
				best, bestRank, bestID = i, m.rank, m.id
			}
		}
		if best < 0 {
			return ids
		}
		ids[best] = bestID
		ids = slices.Delete(ids, best+1, best+2)
	}
}

// fastMerges runs both merge paths (heap and linear scan) on word.
func fastMerges(b *bpeModel, word string) (initial, heap, small []int32) {
	sc := new(scratch)
	syms := b.initialSymbols(word, nil)
	for _, s := range syms {
		initial = append(initial, s.id)
	}
	small = b.mergeSmall(nil, slices.Clone(syms), sc)
	syms = b.mergeAll(syms, sc)
	for i := int32(0); i >= 0 && len(syms) > 0; i = syms[i].next {
		heap = append(heap, syms[i].id)
	}
	return initial, heap, small
}

func checkMerge(t testing.TB, b *bpeModel, word string) {
	t.Helper()
	initial, heap, small := fastMerges(b, word)
	want := naiveMerge(b, initial)
	if !slices.Equal(heap, want) || !slices.Equal(small, want) {
		t.Fatalf("merge %q: heap %v, scan %v, naive %v", word, heap, small, want)
	}
}

func TestSafeToChunk(t *testing.T) {
	tests := []struct {
		name   string
		merges mergesJSON
		ignore bool
		want   bool
	}{
		{"words", mergesJSON{{"▁", "t"}, {"▁t", "he"}}, false, true},
		{"space runs", mergesJSON{{"▁", "▁"}, {"▁▁", "▁▁"}}, false, true},
		{"across a word boundary", mergesJSON{{"a", "▁"}}, false, false},
		{"byte tokens", mergesJSON{{"<0x41>", "a"}}, false, false},
		{"ignore_merges", mergesJSON{{"▁", "t"}}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bpeModel{vocab: map[string]int32{"<unk>": 0}, unk: 0, ignoreMerges: tt.ignore}
			if got := b.safeToChunk(tt.merges); got != tt.want {
				t.Errorf("safeToChunk = %v, want %v", got, tt.want)
			}
		})
	}
}
