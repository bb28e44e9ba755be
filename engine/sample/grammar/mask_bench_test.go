package grammar

import (
	"testing"
)

// greedyTokenize splits text into the longest vocabulary tokens, a stand-in
// for a real tokenizer that is good enough to drive realistic mask states.
func greedyTokenize(tb testing.TB, m *Masker, text string) []int32 {
	tb.Helper()
	t := m.trie
	var out []int32
	for pos := 0; pos < len(text); {
		n, best, bestLen := int32(0), int32(-1), 0
		for i := pos; i < len(text); i++ {
			next := int32(-1)
			for e := t.first[n]; e < t.first[n+1]; e++ {
				if t.edgeByte[e] == text[i] {
					next = t.edgeNode[e]
					break
				}
			}
			if next < 0 {
				break
			}
			n = next
			if t.tokFirst[n] < t.tokFirst[n+1] {
				best, bestLen = t.toks[t.tokFirst[n]], i-pos+1
			}
		}
		if best < 0 {
			tb.Fatalf("no token for %q", text[pos:])
		}
		out = append(out, best)
		pos += bestLen
	}
	return out
}

const benchSchema = `{
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "email": {"type": "string", "format": "email"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}, "required": ["street", "city"]},
    "active": {"type": "boolean"}
  },
  "required": ["name", "age", "tags", "address", "active"]
}`

const benchDoc = `{"name": "Ada Lovelace, Countess of Lovelace", "age": 36, "email": "ada@example.org", "tags": ["mathematician", "writer", "analytical engine"], "address": {"street": "12 St James's Square", "city": "London"}, "active": false}`

func BenchmarkMask(b *testing.B) {
	v := loadVocab(b)
	m, err := NewMasker(v.vocab, v.special, v.eos)
	if err != nil {
		b.Fatal(err)
	}
	grammars := []struct {
		name string
		g    func() (*Grammar, error)
		doc  string
	}{
		{"json", func() (*Grammar, error) { return JSON(), nil }, benchDoc},
		{"schema", func() (*Grammar, error) { return FromSchema([]byte(benchSchema)) }, benchDoc},
	}
	b.Run("schema/first-use", func(b *testing.B) {
		// A schema never seen before: compile it and build every token table
		// during the document, as the first request with a new schema does.
		toks := greedyTokenize(b, m, benchDoc)
		dst := NewBitset(m.Size())
		for b.Loop() {
			g, err := compileSchema([]byte(benchSchema))
			if err != nil {
				b.Fatal(err)
			}
			mt, _ := m.NewMatcher(g)
			for _, id := range toks {
				if err := mt.Mask(dst); err != nil {
					b.Fatal(err)
				}
				if err := mt.Accept(id); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(toks))/1e6, "ms/token")
	})
	b.Run("maxLength/first-use", func(b *testing.B) {
		// Length-limited strings give every character position its own
		// automaton state, so each token needs a fresh table: the worst case.
		doc := `{"name": "Ada Lovelace, Countess of Lovelace, born Augusta Ada Byron in London"}`
		toks := greedyTokenize(b, m, doc)
		dst := NewBitset(m.Size())
		for b.Loop() {
			g, err := compileSchema([]byte(`{"type":"object","properties":{"name":{"type":"string","maxLength":200}},"required":["name"]}`))
			if err != nil {
				b.Fatal(err)
			}
			mt, _ := m.NewMatcher(g)
			for _, id := range toks {
				if err := mt.Mask(dst); err != nil {
					b.Fatal(err)
				}
				if err := mt.Accept(id); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(toks))/1e6, "ms/token")
	})
	for _, gc := range grammars {
		g, err := gc.g()
		if err != nil {
			b.Fatal(err)
		}
		toks := greedyTokenize(b, m, gc.doc)
		dst := NewBitset(m.Size())
		// generation: one fresh matcher per document, Mask+Accept per token,
		// so the cache only helps where states repeat inside the document.
		b.Run(gc.name+"/generation", func(b *testing.B) {
			b.ReportMetric(float64(m.Size()), "vocab")
			for b.Loop() {
				mt, err := m.NewMatcher(g)
				if err != nil {
					b.Fatal(err)
				}
				for _, id := range toks {
					if err := mt.Mask(dst); err != nil {
						b.Fatal(err)
					}
					if !dst.Has(id) {
						b.Fatalf("token %d %q masked out", id, m.vocab[id])
					}
					if err := mt.Accept(id); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(toks))/1e6, "ms/token")
		})
		// cold: the cache is cleared before every mask.
		b.Run(gc.name+"/cold", func(b *testing.B) {
			for b.Loop() {
				mt, _ := m.NewMatcher(g)
				for _, id := range toks {
					clear(mt.cache)
					if err := mt.Mask(dst); err != nil {
						b.Fatal(err)
					}
					if err := mt.Accept(id); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(toks))/1e6, "ms/token")
		})
	}
}
