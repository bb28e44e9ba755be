package grammar

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"
)

var (
	maskerOnce sync.Once
	testMasker *Masker
	closerSets sync.Map // *Masker -> Bitset of tokens containing a closing character
)

func closersOf(m *Masker) Bitset {
	if c, ok := closerSets.Load(m); ok {
		return c.(Bitset)
	}
	c := NewBitset(m.Size())
	for id, b := range m.vocab {
		if (m.special == nil || !m.special[id]) && bytes.ContainsAny(b, `"]}`) {
			c.Set(int32(id))
		}
	}
	closerSets.Store(m, c)
	return c
}

func sharedMasker(t testing.TB) (*Masker, testVocab) {
	t.Helper()
	v := loadVocab(t)
	maskerOnce.Do(func() {
		m, err := NewMasker(v.vocab, v.special, v.eos)
		if err != nil {
			panic(err)
		}
		testMasker = m
	})
	return testMasker, v
}

// pick returns a random member of set, or -1 if it is empty.
func pick(r *rand.Rand, set Bitset) int32 {
	n := set.Count()
	if n == 0 {
		return -1
	}
	k := r.IntN(n)
	for w, word := range set {
		c := bits.OnesCount64(word)
		if k >= c {
			k -= c
			continue
		}
		for ; ; word &= word - 1 {
			if k == 0 {
				return int32(w*64 + bits.TrailingZeros64(word))
			}
			k--
		}
	}
	return -1
}

// randomWalk generates with random allowed tokens until EOS, leaning towards
// closing tokens and EOS as it goes so walks end. It returns the text and
// whether it finished within maxTokens.
func randomWalk(t *testing.T, m *Masker, eos int32, g *Grammar, r *rand.Rand, maxTokens int) ([]byte, bool) {
	t.Helper()
	mt, err := m.NewMatcher(g)
	if err != nil {
		t.Fatal(err)
	}
	mask := NewBitset(m.Size())
	tmp := NewBitset(m.Size())
	closers := closersOf(m)
	var out []byte
	for step := range maxTokens {
		if err := mt.Mask(mask); err != nil {
			t.Fatal(err)
		}
		if mask.Has(eos) != mt.Done() {
			t.Fatalf("EOS allowed=%v but Done=%v after %q", mask.Has(eos), mt.Done(), out)
		}
		if mask.Has(eos) && r.IntN(4) == 0 {
			return out, true
		}
		id := int32(-1)
		if r.Float64() < 0.3+float64(step)/float64(maxTokens) {
			for i := range tmp {
				tmp[i] = mask[i] & closers[i]
			}
			id = pick(r, tmp)
		}
		if id < 0 {
			id = pick(r, mask)
		}
		if id < 0 {
			t.Fatalf("mask is empty after %q", out)
		}
		if id == eos {
			return out, true
		}
		if err := mt.Accept(id); err != nil {
			t.Fatalf("accept %q after %q: %v", m.vocab[id], out, err)
		}
		out = append(out, m.vocab[id]...)
	}
	return out, false
}

var walkSchemas = []string{
	`{}`,
	`{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"},"maxItems":3}},"required":["name","age"]}`,
	`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"boolean"},"c":{"type":"null"},"d":{"type":["string","integer"]}}}`,
	`{"type":"object","properties":{"unit":{"enum":["celsius","fahrenheit"]},"city":{"type":"string","minLength":1,"maxLength":12}},"required":["city","unit"],"additionalProperties":false}`,
	`{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"when":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},"mail":{"type":"string","format":"email"}},"required":["id","when","day","mail"]}`,
	`{"type":"array","items":{"type":"object","properties":{"x":{"type":"integer","minimum":-5,"maximum":5}},"required":["x"]},"minItems":1,"maxItems":4}`,
	`{"anyOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number"}},"required":["kind","r"]},{"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"number"}},"required":["kind","side"]}]}`,
	`{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v","kids"]}},"$ref":"#/$defs/node"}`,
	`{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2,4}$"},"note":{"type":"string","pattern":"^(yes|no|maybe)!?$"}},"required":["code","note"]}`,
	`{"type":"object","properties":{"k":{"type":"integer"}},"additionalProperties":{"type":"boolean"}}`,
	`{"type":"object","additionalProperties":{"type":"array","items":{"type":"integer"}}}`,
	`{"oneOf":[{"type":"string","maxLength":5},{"type":"array","items":{"type":"null"}}]}`,
}

func TestMatcherAccept(t *testing.T) {
	vocab := [][]byte{[]byte(`{"a"`), []byte(`: `), []byte(`1`), []byte(`}`), []byte("<eos>"), []byte("<sys>"), {}, []byte(`x`)}
	special := []bool{false, false, false, false, true, true, false, false}
	m, err := NewMasker(vocab, special, 4)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := FromSchema([]byte(`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`))
	mt, _ := m.NewMatcher(g)
	mask := NewBitset(m.Size())
	steps := []struct {
		tok  int32
		want []int32 // allowed before accepting tok
	}{{0, []int32{0}}, {1, []int32{1}}, {2, []int32{2}}, {3, []int32{2, 3}}, {4, []int32{4}}}
	for _, s := range steps {
		if err := mt.Mask(mask); err != nil {
			t.Fatal(err)
		}
		for id := range int32(len(vocab)) {
			want := false
			for _, w := range s.want {
				want = want || w == id
			}
			if mask.Has(id) != want {
				t.Fatalf("before token %d: token %d allowed=%v, want %v", s.tok, id, mask.Has(id), want)
			}
		}
		if err := mt.Accept(s.tok); err != nil {
			t.Fatal(err)
		}
	}
	if !mt.Done() || !mt.Complete() {
		t.Fatal("not done after EOS")
	}
	if err := mt.Accept(2); err == nil {
		t.Fatal("token accepted after EOS")
	}
	mt2, _ := m.NewMatcher(g)
	for _, bad := range []int32{4, 5, 6, 7, 99} {
		if err := mt2.Accept(bad); err == nil {
			t.Fatalf("token %d accepted at the start", bad)
		}
	}
	if _, err := NewMasker(vocab, special[:2]); err == nil {
		t.Fatal("mismatched special flags accepted")
	}
	if err := mt2.Mask(make(Bitset, 0)); err == nil {
		t.Fatal("short bitset accepted")
	}

	// An EOS whose bytes are ordinary text is still only allowed at the end.
	m3, _ := NewMasker([][]byte{[]byte("1"), []byte("2")}, nil, 0)
	mt3, _ := m3.NewMatcher(Literal("2"))
	if err := mt3.Mask(mask); err != nil {
		t.Fatal(err)
	}
	if mask.Has(0) || !mask.Has(1) {
		t.Fatalf("at the start: eos allowed=%v, \"2\" allowed=%v", mask.Has(0), mask.Has(1))
	}
	if err := mt3.Accept(1); err != nil {
		t.Fatal(err)
	}
	if err := mt3.Mask(mask); err != nil || !mask.Has(0) || mask.Has(1) {
		t.Fatalf("at the end: eos allowed=%v, \"2\" allowed=%v (%v)", mask.Has(0), mask.Has(1), err)
	}
}
