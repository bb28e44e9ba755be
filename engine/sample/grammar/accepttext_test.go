package grammar

import (
	"errors"
	"testing"
)

// TestAcceptText feeds the part of a token that follows a lazy grammar's
// trigger: accepted text moves the matcher on, rejected text leaves it as it was.
func TestAcceptText(t *testing.T) {
	vocab := [][]byte{[]byte(`<call>`), []byte(`{"a": `), []byte(`1`), []byte(`}`), []byte("<eos>")}
	m, err := NewMasker(vocab, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	args, _ := FromSchema([]byte(`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`))
	g := Seq(Literal("<call>"), args)
	mt, err := m.NewMatcher(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := mt.AcceptText([]byte(`<call>x`)); !errors.Is(err, ErrRejected) {
		t.Fatalf("rejected text: %v", err)
	}
	if err := mt.AcceptText([]byte(`<call>{"a"`)); err != nil {
		t.Fatal(err)
	}
	mask := NewBitset(m.Size())
	if err := mt.Mask(mask); err != nil {
		t.Fatal(err)
	}
	if mask.Count() != 0 {
		// `{"a": ` no longer fits after `{"a"`; only ": " would, and no token is that.
		t.Fatalf("after the text, %d tokens allowed", mask.Count())
	}
	if err := mt.AcceptText([]byte(`: 1}`)); err != nil || !mt.Done() {
		t.Fatalf("complete call: %v, done %v", err, mt.Done())
	}
	if err := mt.Accept(4); err != nil {
		t.Fatal(err)
	}
	if err := mt.AcceptText([]byte(" ")); err == nil {
		t.Fatal("text accepted after EOS")
	}
}
