package grammar

import (
	"sync"
	"testing"
)

// TestPlain: the free-text mask holds the text tokens, multi-byte and
// invalid UTF-8 pieces included, and none of the control, EOS or empty
// tokens, whatever the bitset held before; concurrent first calls agree.
func TestPlain(t *testing.T) {
	vocab := [][]byte{[]byte("a"), []byte("<|end|>"), []byte("</s>"), nil, []byte(" hello"), {0xe2, 0x82}, []byte("<|call|>")}
	special := []bool{false, true, false, false, false, false, true}
	m, err := NewMasker(vocab, special, 2, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false, true, true, false}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			dst := NewBitset(m.Size())
			for i := range dst {
				dst[i] = ^uint64(0)
			}
			m.Plain(dst)
			for id, w := range want {
				if dst.Has(int32(id)) != w {
					t.Errorf("token %d %q: in the mask %v, want %v", id, vocab[id], !w, w)
				}
			}
			if n := dst.Count(); n != 3 {
				t.Errorf("%d tokens in the mask, want 3", n)
			}
		})
	}
	wg.Wait()
}
