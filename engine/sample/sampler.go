package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrNoToken is returned when the mask, the logits or the filters leave no token
// that can be sampled (for example a grammar mask that allows nothing).
var ErrNoToken = errors.New("no token can be sampled")

// Mask is a set of allowed token ids, one bit per id (bit id%64 of word id/64).
// A nil Mask allows every token. grammar.Bitset converts to it directly.
type Mask []uint64

// Allowed reports whether id is in the set; a nil Mask allows everything.
func (m Mask) Allowed(id int32) bool {
	if m == nil {
		return true
	}
	w := int(id) >> 6
	return w < len(m) && m[w]&(1<<(uint(id)&63)) != 0
}

// Alt is one alternative token with its log-probability.
type Alt struct {
	ID      int32
	Logprob float32
}

// Token is a sampled token. Logprob and Top come from the distribution described
// in the package documentation. Top aliases a buffer owned by the Sampler: it is
// valid until the next call to Sample, so copy it to keep it.
type Token struct {
	ID      int32
	Logprob float32
	Top     []Alt
}

// Sampler draws tokens for one generation. It is not safe for concurrent use:
// it owns its random source and reuses its buffers on every call.
type Sampler struct {
	p      Params
	vocab  int
	rng    *rand.Rand
	repPen float32
	topP   float64

	work    []float32 // (vocab) processed logits
	ex      []float32 // (vocab) exp((work-max)/T) for candidates only
	idx     []int32   // (vocab) candidate ids
	counts  []int32   // (vocab) occurrences in history; all zero between calls
	marks   []uint32  // (vocab) epoch stamps for "penalised once" bookkeeping
	epoch   uint32
	touched []int32 // ids whose counts are non-zero during a call
	prompt  []int32 // distinct prompt ids, for the repetition penalty only
	top     []Alt
}

// New returns a Sampler for a vocabulary of the given size after validating p.
func New(p Params, vocab int) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := p.validateVocab(vocab); err != nil {
		return nil, err
	}
	seed := rand.Uint64()
	if p.Seed != nil {
		seed = uint64(*p.Seed)
	}
	s := &Sampler{
		p:      p,
		vocab:  vocab,
		rng:    rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		repPen: float32(p.RepetitionPenalty),
		topP:   p.TopP,
		work:   make([]float32, vocab),
		ex:     make([]float32, vocab),
		idx:    make([]int32, vocab),
		counts: make([]int32, vocab),
		marks:  make([]uint32, vocab),
		top:    make([]Alt, 0, p.TopLogprobs),
	}
	if s.repPen == 0 {
		s.repPen = 1
	}
	if s.topP == 0 {
		s.topP = 1
	}
	return s, nil
}

// SetPrompt records the prompt tokens so that the repetition penalty covers them
// too, as Hugging Face applies it over the whole input. Frequency and presence
// penalties only ever look at the history passed to Sample.
func (s *Sampler) SetPrompt(prompt []int32) error {
	s.prompt = s.prompt[:0]
	s.nextEpoch()
	for _, id := range prompt {
		if id < 0 || int(id) >= s.vocab {
			return fmt.Errorf("prompt token %d outside vocabulary of %d", id, s.vocab)
		}
		if s.marks[id] != s.epoch {
			s.marks[id] = s.epoch
			s.prompt = append(s.prompt, id)
		}
	}
	return nil
}

// Sample picks the next token from logits (one per vocabulary entry). history is
// the tokens generated so far in this request (the penalties look at it) and mask
// restricts the choice (nil allows all).
func (s *Sampler) Sample(logits []float32, history []int32, mask Mask) (Token, error) {
	if len(logits) != s.vocab {
		return Token{}, fmt.Errorf("sample: got %d logits for a vocabulary of %d", len(logits), s.vocab)
	}
	if mask != nil && len(mask) < (s.vocab+63)/64 {
		return Token{}, fmt.Errorf("sample: mask of %d words is too short for %d tokens", len(mask), s.vocab)
	}
	if err := s.prepare(logits, history, mask); err != nil {
		return Token{}, fmt.Errorf("sample: %w", err)
	}
	maxv, id, lse, err := s.logSumExp()
	if err != nil {
		return Token{}, fmt.Errorf("sample: %w", err)
	}
	if s.p.Temperature != 0 {
		id = s.draw(maxv)
	}
	tok := Token{ID: id, Logprob: s.work[id] - lse}
	if s.p.TopLogprobs > 0 {
		tok.Top = s.topLogprobs(lse)
	}
	return tok, nil
}

// prepare fills work with the masked, biased and penalised logits.
func (s *Sampler) prepare(logits []float32, history []int32, mask Mask) error {
	w := s.work
	copy(w, logits)
	if mask != nil {
		applyMask(w, mask)
	}
	for id, b := range s.p.LogitBias {
		w[id] += b
	}
	return s.penalise(history)
}

func applyMask(w []float32, mask Mask) {
	ninf := float32(math.Inf(-1))
	for wi := 0; wi*64 < len(w); wi++ {
		bits := mask[wi]
		if bits == ^uint64(0) {
			continue
		}
		end := min(wi*64+64, len(w))
		for i := wi * 64; i < end; i++ {
			if bits&(1<<(uint(i)&63)) == 0 {
				w[i] = ninf
			}
		}
	}
}

func (s *Sampler) penalise(history []int32) error {
	rep := s.repPen != 1
	freq, pres := float32(s.p.FrequencyPenalty), float32(s.p.PresencePenalty)
	if !rep && freq == 0 && pres == 0 {
		for _, id := range history {
			if id < 0 || int(id) >= s.vocab {
				return fmt.Errorf("history token %d outside vocabulary of %d", id, s.vocab)
			}
		}
		return nil
	}
	s.touched = s.touched[:0]
	defer func() {
		for _, id := range s.touched {
			s.counts[id] = 0
		}
	}()
	for _, id := range history {
		if id < 0 || int(id) >= s.vocab {
			return fmt.Errorf("history token %d outside vocabulary of %d", id, s.vocab)
		}
		if s.counts[id] == 0 {
			s.touched = append(s.touched, id)
		}
		s.counts[id]++
	}
	w := s.work
	if rep {
		s.nextEpoch()
		for _, ids := range [2][]int32{s.prompt, s.touched} {
			for _, id := range ids {
				if s.marks[id] == s.epoch {
					continue
				}
				s.marks[id] = s.epoch
				if w[id] > 0 {
					w[id] /= s.repPen
				} else {
					w[id] *= s.repPen
				}
			}
		}
	}
	for _, id := range s.touched {
		w[id] -= float32(s.counts[id])*freq + pres
	}
	return nil
}

func (s *Sampler) nextEpoch() {
	s.epoch++
	if s.epoch == 0 { // wrapped: old stamps could collide
		clear(s.marks)
		s.epoch = 1
	}
}

// logSumExp returns the maximum logit, its lowest id (the greedy choice) and
// log Σ exp(work) over all tokens.
func (s *Sampler) logSumExp() (maxv float32, best int32, lse float32, err error) {
	w := s.work
	maxv = float32(math.Inf(-1))
	for i, v := range w {
		if v > maxv {
			maxv, best = v, int32(i)
		} else if v != v {
			return 0, 0, 0, fmt.Errorf("logit for token %d is NaN", i)
		}
	}
	if math.IsInf(float64(maxv), -1) {
		return 0, 0, 0, ErrNoToken
	}
	if math.IsInf(float64(maxv), 1) {
		return 0, 0, 0, errors.New("logits contain +Inf")
	}
	return maxv, best, maxv + float32(math.Log(sumExp(w, maxv))), nil
}
