package sample

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func seed(v int64) *int64 { return &v }

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"zero", Params{}, true},
		{"full", Params{Temperature: 2, TopK: 40, TopP: 1, MinP: 0.1, RepetitionPenalty: 1.3, FrequencyPenalty: -2, PresencePenalty: 2, TopLogprobs: 20}, true},
		{"temperature high", Params{Temperature: 2.01}, false},
		{"temperature negative", Params{Temperature: -0.1}, false},
		{"temperature nan", Params{Temperature: math.NaN()}, false},
		{"top_p above one", Params{TopP: 1.5}, false},
		{"top_p negative", Params{TopP: -0.5}, false},
		{"top_k negative", Params{TopK: -1}, false},
		{"min_p above one", Params{MinP: 1.1}, false},
		{"repetition negative", Params{RepetitionPenalty: -1}, false},
		{"frequency", Params{FrequencyPenalty: 2.5}, false},
		{"presence", Params{PresencePenalty: -2.5}, false},
		{"top_logprobs", Params{TopLogprobs: 21}, false},
		{"logit bias range", Params{LogitBias: map[int32]float32{1: 101}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("error %v does not wrap ErrInvalidParams", err)
			}
		})
	}
	if _, err := New(Params{LogitBias: map[int32]float32{10: 1}}, 10); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("bias outside vocabulary: got %v", err)
	}
	if _, err := New(Params{}, 0); err == nil {
		t.Fatal("empty vocabulary accepted")
	}
}

// refLogSoftmax is the float64 reference for logprobs.
func refLogSoftmax(l []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range l {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range l {
		s += math.Exp(float64(v) - m)
	}
	out := make([]float64, len(l))
	for i, v := range l {
		out[i] = float64(v) - m - math.Log(s)
	}
	return out
}

func TestGreedy(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		mask   Mask
		want   int32
	}{
		{"argmax", []float32{0, 3, 1, 2}, nil, 1},
		{"ties to lowest id", []float32{1, 5, 5, 5}, nil, 1},
		{"mask", []float32{0, 3, 1, 2}, Mask{0b1101}, 3},
		{"mask with ties", []float32{7, 7, 7, 1}, Mask{0b1110}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Params{TopLogprobs: 2}, len(tt.logits))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := s.Sample(tt.logits, nil, tt.mask)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ID != tt.want {
				t.Fatalf("got %d, want %d", tok.ID, tt.want)
			}
			if tok.Top[0].ID != tt.want {
				t.Fatalf("top alternative %d, want %d", tok.Top[0].ID, tt.want)
			}
		})
	}
}

func TestNoToken(t *testing.T) {
	s, _ := New(Params{}, 3)
	if _, err := s.Sample([]float32{1, 2, 3}, nil, Mask{0}); !errors.Is(err, ErrNoToken) {
		t.Fatalf("empty mask: got %v", err)
	}
	if _, err := s.Sample([]float32{1, float32(math.NaN()), 3}, nil, nil); err == nil {
		t.Fatal("NaN logit accepted")
	}
	if _, err := s.Sample([]float32{1, 2}, nil, nil); err == nil {
		t.Fatal("short logits accepted")
	}
	if _, err := s.Sample([]float32{1, 2, 3}, []int32{7}, nil); err == nil {
		t.Fatal("history outside vocabulary accepted")
	}
}

func TestLogprobs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 4)
	}
	// Temperature and truncation must not change the reported logprobs.
	s, err := New(Params{Temperature: 0.7, TopK: 5, TopP: 0.5, TopLogprobs: 20, Seed: seed(3)}, len(logits))
	if err != nil {
		t.Fatal(err)
	}
	ref := refLogSoftmax(logits)
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return -cmpF(logits[a], logits[b]) })
	for range 50 {
		tok, err := s.Sample(logits, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(tok.Logprob) - ref[tok.ID]); d > 1e-4 {
			t.Fatalf("logprob of %d = %v, want %v", tok.ID, tok.Logprob, ref[tok.ID])
		}
		if !slices.Contains(order[:5], int(tok.ID)) {
			t.Fatalf("token %d outside top-k", tok.ID)
		}
		for i, a := range tok.Top {
			if int(a.ID) != order[i] || math.Abs(float64(a.Logprob)-ref[a.ID]) > 1e-4 {
				t.Fatalf("top[%d] = %+v, want id %d logprob %v", i, a, order[i], ref[order[i]])
			}
		}
	}
}

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestDistribution(t *testing.T) {
	logits := []float32{1, 2, 0.5, -1, 1.5}
	const T = 0.8
	scaled := make([]float32, len(logits))
	for i, v := range logits {
		scaled[i] = v / T
	}
	want := refLogSoftmax(scaled)
	s, _ := New(Params{Temperature: T, Seed: seed(42)}, len(logits))
	const n = 60000
	counts := make([]int, len(logits))
	for range n {
		tok, _ := s.Sample(logits, nil, nil)
		counts[tok.ID]++
	}
	for i, c := range counts {
		p := math.Exp(want[i])
		sd := math.Sqrt(p * (1 - p) / n)
		if got := float64(c) / n; math.Abs(got-p) > 5*sd {
			t.Errorf("token %d: frequency %.4f, want %.4f ± %.4f", i, got, p, 5*sd)
		}
	}
}

func TestTruncation(t *testing.T) {
	// probs ∝ exp(logits): 0.5, 0.25, 0.125, 0.0625, 0.0625 for these logits.
	ln := func(p float64) float32 { return float32(math.Log(p)) }
	logits := []float32{ln(0.0625), ln(0.25), ln(0.5), ln(0.0625), ln(0.125)}
	tests := []struct {
		name    string
		p       Params
		allowed []int32
	}{
		{"top_k 2", Params{TopK: 2}, []int32{2, 1}},
		{"top_p 0.7", Params{TopP: 0.7}, []int32{2, 1}},
		{"top_p 0.8", Params{TopP: 0.8}, []int32{2, 1, 4}},
		{"min_p 0.3", Params{MinP: 0.3}, []int32{2, 1}},
		{"min_p 0.2", Params{MinP: 0.2}, []int32{2, 1, 4}},
		{"top_k then top_p", Params{TopK: 3, TopP: 0.6}, []int32{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Temperature = 1
			tt.p.Seed = seed(9)
			s, err := New(tt.p, len(logits))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int32]bool{}
			for range 2000 {
				tok, err := s.Sample(logits, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(tt.allowed, tok.ID) {
					t.Fatalf("sampled %d, allowed %v", tok.ID, tt.allowed)
				}
				seen[tok.ID] = true
			}
			if len(seen) != len(tt.allowed) {
				t.Fatalf("saw %v, want every one of %v", seen, tt.allowed)
			}
		})
	}
}

func TestSeedReproducible(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, 5000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	run := func(sd *int64) []int32 {
		s, err := New(Params{Temperature: 1, TopP: 0.95, Seed: sd}, len(logits))
		if err != nil {
			t.Fatal(err)
		}
		var out []int32
		for range 100 {
			tok, err := s.Sample(logits, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tok.ID)
		}
		return out
	}
	a, b, c := run(seed(7)), run(seed(7)), run(seed(8))
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different tokens")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same 100 tokens")
	}
	if slices.Equal(run(nil), run(nil)) {
		t.Fatal("unseeded samplers gave the same 100 tokens")
	}
}

func TestPenaltiesAndBias(t *testing.T) {
	logits := []float32{2, -1, 1, 0.5}
	tests := []struct {
		name    string
		p       Params
		prompt  []int32
		history []int32
		want    []float32 // processed logits
	}{
		{"repetition", Params{RepetitionPenalty: 2}, nil, []int32{0, 1, 1}, []float32{1, -2, 1, 0.5}},
		{"repetition over prompt", Params{RepetitionPenalty: 2}, []int32{2, 2}, []int32{0}, []float32{1, -1, 0.5, 0.5}},
		{"frequency", Params{FrequencyPenalty: 0.5}, nil, []int32{2, 2, 3}, []float32{2, -1, 0, 0}},
		{"presence", Params{PresencePenalty: 1}, []int32{0}, []int32{2, 2, 3}, []float32{2, -1, 0, -0.5}},
		{"bias", Params{LogitBias: map[int32]float32{1: 5, 0: -100}}, nil, nil, []float32{-98, 4, 1, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.TopLogprobs = 4
			s, err := New(tt.p, len(logits))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetPrompt(tt.prompt); err != nil {
				t.Fatal(err)
			}
			tok, err := s.Sample(logits, tt.history, nil)
			if err != nil {
				t.Fatal(err)
			}
			ref := refLogSoftmax(tt.want)
			for _, a := range tok.Top {
				if math.Abs(float64(a.Logprob)-ref[a.ID]) > 1e-4 {
					t.Fatalf("token %d logprob %v, want %v", a.ID, a.Logprob, ref[a.ID])
				}
			}
			// The penalty state is cleared: the same call gives the same answer.
			tok2, _ := s.Sample(logits, tt.history, nil)
			if tok2.ID != tok.ID || tok2.Logprob != tok.Logprob {
				t.Fatalf("second call differs: %+v vs %+v", tok2, tok)
			}
		})
	}
}

func TestSelectTop(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 7, 300, 5000} {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(r.IntN(50)) // many ties
		}
		ref := make([]int32, n)
		for i := range ref {
			ref[i] = int32(i)
		}
		sortBest(ref, w)
		for _, k := range []int{1, 3, 128, 129, 1000, n} {
			if k > n {
				continue
			}
			ids := make([]int32, n)
			for i := range ids {
				ids[i] = int32(i)
			}
			r.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			selectTop(ids, k, w)
			if !slices.Equal(ids[:k], ref[:k]) {
				t.Fatalf("n=%d k=%d: selection differs from sort", n, k)
			}
		}
	}
}

func TestNucleusLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, flat := range []bool{false, true} {
		n := 20000
		logits := make([]float32, n)
		for i := range logits {
			if flat {
				logits[i] = float32(r.Float64() * 0.01)
			} else {
				logits[i] = float32(r.NormFloat64() * 3)
			}
		}
		s, _ := New(Params{Temperature: 1, TopP: 0.9}, n)
		copy(s.work, logits)
		cand := s.idx[:n]
		var z float64
		for i := range cand {
			cand[i] = int32(i)
			s.ex[i] = float32(math.Exp(float64(logits[i]) - 20))
			z += float64(s.ex[i])
		}
		got, _ := s.nucleus(cand, 0, z)
		ref := make([]int32, n)
		for i := range ref {
			ref[i] = int32(i)
		}
		sortBest(ref, logits)
		var cum float64
		want := 0
		for want < n {
			cum += float64(s.ex[ref[want]])
			want++
			if cum >= 0.9*z {
				break
			}
		}
		got = slices.Clone(got)
		slices.Sort(got)
		wantSet := slices.Clone(ref[:want])
		slices.Sort(wantSet)
		if !slices.Equal(got, wantSet) {
			t.Fatalf("flat=%v: nucleus of %d tokens, want %d", flat, len(got), want)
		}
	}
}

func TestFastExp(t *testing.T) {
	for x := float32(-87); x <= 0; x += 0.0137 {
		want := math.Exp(float64(x))
		if got := float64(fastExp(x)); math.Abs(got-want) > 3e-7*want {
			t.Fatalf("fastExp(%v) = %v, want %v", x, got, want)
		}
	}
	if fastExp(-100) != 0 {
		t.Fatal("fastExp underflow not zero")
	}
}

func TestNoAllocs(t *testing.T) {
	const n = 32000
	r := rand.New(rand.NewPCG(1, 1))
	logits := make([]float32, n)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	mask := make(Mask, (n+63)/64)
	for i := range mask {
		mask[i] = 0xF0F0F0F0F0F0F0F0
	}
	history := []int32{1, 5, 5, 9, 400}
	s, _ := New(Params{Temperature: 0.9, TopK: 300, TopP: 0.9, MinP: 0.01, RepetitionPenalty: 1.1, FrequencyPenalty: 0.3, TopLogprobs: 5, Seed: seed(1)}, n)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := s.Sample(logits, history, mask); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Sample", allocs)
	}
}

func benchLogits(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	logits := make([]float32, n)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	return logits
}

func BenchmarkSample(b *testing.B) {
	const vocab = 151936
	logits := benchLogits(vocab)
	history := make([]int32, 500)
	for i := range history {
		history[i] = int32(i * 37 % vocab)
	}
	cases := []struct {
		name string
		p    Params
	}{
		{"greedy", Params{}},
		{"temperature", Params{Temperature: 0.8}},
		{"top_k40", Params{Temperature: 0.8, TopK: 40}},
		{"top_p0.9", Params{Temperature: 0.8, TopP: 0.9}},
		{"all+logprobs", Params{Temperature: 0.7, TopK: 50, TopP: 0.95, MinP: 0.05, RepetitionPenalty: 1.1, PresencePenalty: 0.5, TopLogprobs: 20}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.p.Seed = seed(1)
			s, err := New(c.p, vocab)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sample(logits, history, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
