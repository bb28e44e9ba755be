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
	// first-use: a schema never seen before. Compiling it is not timed (see
	// BenchmarkCompile); creating the matcher and building every token table
	// during the document are, as for the first request with a new schema.
	firstUse := func(b *testing.B, schema, doc string) {
		toks := greedyTokenize(b, m, doc)
		dst := NewBitset(m.Size())
		b.ReportMetric(float64(m.Size()), "vocab")
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			g, err := compileSchema([]byte(schema))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
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
	}
	b.Run("schema/first-use", func(b *testing.B) { firstUse(b, benchSchema, benchDoc) })
	// Length-limited strings give every character position its own automaton
	// state; positions far from the limit share tables (see equivalence).
	b.Run("maxLength/first-use", func(b *testing.B) {
		firstUse(b, `{"type":"object","properties":{"name":{"type":"string","maxLength":200}},"required":["name"]}`,
			`{"name": "Ada Lovelace, Countess of Lovelace, born Augusta Ada Byron in London"}`)
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

func BenchmarkCompile(b *testing.B) {
	for _, c := range []struct{ name, schema string }{
		{"schema", benchSchema},
		{"maxLength200", `{"type":"string","maxLength":200}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := compileSchema([]byte(c.schema)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWorstState is the most expensive single mask: the first one in a
// state that admits almost every token (inside a string), with a new grammar,
// so the token table is built by a walk over the whole trie.
func BenchmarkWorstState(b *testing.B) {
	v := loadVocab(b)
	m, err := NewMasker(v.vocab, v.special, v.eos)
	if err != nil {
		b.Fatal(err)
	}
	dst := NewBitset(m.Size())
	quote := greedyTokenize(b, m, `"`)[0]
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		g := newGrammar("string", stringOf(0, -1))
		if err := g.Compile(); err != nil {
			b.Fatal(err)
		}
		mt, _ := m.NewMatcher(g)
		if err := mt.Accept(quote); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := mt.Mask(dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(dst.Count()), "allowed")
}
