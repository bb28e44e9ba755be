package engine

import (
	"fmt"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Defaults of the prefix cache's bounds (PrefixConfig's zero values).
const (
	DefaultPrefixSeqs  = 8       // kept sequences per model
	DefaultPrefixBytes = 2 << 30 // their KV bytes, where the executor reports them
)

// PrefixConfig bounds the sequences a model keeps for prefix reuse.
type PrefixConfig struct {
	Seqs  int   // 0: DefaultPrefixSeqs; negative: keep none
	Bytes int64 // 0: DefaultPrefixBytes; negative: no byte bound
}

// kvSizer is implemented by sequences that know what their KV cache holds in
// memory (the CPU executor's growing cache); others are bounded by count only.
type kvSizer interface{ KVBytes() int64 }

// cachedSeq is a finished request's sequence kept with its KV cache, so a later
// request that starts with the same tokens (the next turn of a chat, which
// resends the whole conversation, or another request with the same system
// prompt) only computes what is new, as llama-server's slots and vLLM's prefix
// cache do.
type cachedSeq struct {
	seq    model.Sequence
	window int
	tokens []int32 // what the KV cache holds, in order
}

// prefixCache is a model's kept sequences, most recently used first. A
// sequence in use by a request is not in it: each is used by one request at
// a time.
type prefixCache struct {
	cfg PrefixConfig // set before the model serves, then only read

	mu      sync.Mutex // guards what follows
	kept    []*cachedSeq
	lookups uint64 // requests that asked
	hits    uint64 // of which reused a kept sequence
	cached  uint64 // prompt tokens not computed again
}

// PrefixStats are a model's prefix-cache figures.
type PrefixStats struct {
	Kept         int    // sequences kept
	KVBytes      int64  // their KV memory; 0 when the executor does not report it
	Lookups      uint64 // requests that looked for a prefix
	Hits         uint64 // requests that reused one
	CachedTokens uint64 // prompt tokens reused instead of computed
}

func (p *prefixCache) stats() PrefixStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PrefixStats{Kept: len(p.kept), Lookups: p.lookups, Hits: p.hits, CachedTokens: p.cached}
	for _, c := range p.kept {
		st.KVBytes += kvBytes(c.seq)
	}
	return st
}

func kvBytes(s model.Sequence) int64 {
	if k, ok := s.(kvSizer); ok {
		return k.KVBytes()
	}
	return 0
}

// take removes and returns the kept sequence to serve prompt with, and how many
// of its tokens it already holds: the one sharing the longest prefix. A kept
// conversation is not cut down to a prefix shorter than half of it (another
// conversation sharing only a system prompt, say): that would lose more than it
// saves, so the request starts a sequence of its own and the conversation
// stays for its next turn. At least one prompt token is always left to compute,
// since the logits of the last one are needed.
func (p *prefixCache) take(window int, prompt []int32) (*cachedSeq, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lookups++
	best, n := -1, 0
	for i, c := range p.kept {
		if c.window != window {
			continue
		}
		k := min(commonPrefix(c.tokens, prompt), len(prompt)-1)
		if k > n && 2*k >= len(c.tokens) {
			best, n = i, k
		}
	}
	if best < 0 {
		return nil, 0
	}
	c := p.kept[best]
	p.kept = append(p.kept[:best:best], p.kept[best+1:]...)
	p.hits++
	p.cached += uint64(n)
	return c, n
}

// put keeps c as the most recently used and returns the sequences that fall
// out of the bounds, for the caller to close.
func (p *prefixCache) put(c *cachedSeq) []*cachedSeq {
	p.mu.Lock()
	defer p.mu.Unlock()
	seqs, bytes := p.cfg.Seqs, p.cfg.Bytes
	if seqs == 0 {
		seqs = DefaultPrefixSeqs
	}
	if bytes == 0 {
		bytes = DefaultPrefixBytes
	}
	p.kept = append([]*cachedSeq{c}, p.kept...)
	var total int64
	for i, k := range p.kept {
		total += kvBytes(k.seq)
		if i >= seqs || (bytes > 0 && total > bytes) {
			out := p.kept[i:]
			p.kept = p.kept[:i:i]
			return out
		}
	}
	return nil
}

// drain empties the cache, for the caller to close the sequences.
func (p *prefixCache) drain() []*cachedSeq {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.kept
	p.kept = nil
	return out
}

// sequenceFor returns a sequence whose cache holds a prefix of prompt, and how
// many of prompt's tokens it already holds.
func (l *loaded) sequenceFor(window int, prompt []int32) (model.Sequence, int, error) {
	if c, n := l.prefix.take(window, prompt); c != nil {
		if err := c.seq.Truncate(n); err == nil {
			return c.seq, n, nil
		}
		c.seq.Close()
	}
	seq, err := l.runner.NewSequence(window)
	if err != nil {
		return nil, 0, fmt.Errorf("new sequence: %w", err)
	}
	return seq, 0, nil
}

// keep stores seq for later requests, closing what the cache's bounds evict.
// tokens is what seq's cache holds; a failed or cancelled request passes ok
// false and its sequence is closed, since its cache may be partial.
func (l *loaded) keep(seq model.Sequence, window int, tokens []int32, ok bool) {
	if !ok || len(tokens) != seq.Len() || l.prefix.cfg.Seqs < 0 {
		seq.Close()
		return
	}
	for _, c := range l.prefix.put(&cachedSeq{seq: seq, window: window, tokens: tokens}) {
		c.seq.Close()
	}
}

// dropCache closes the kept sequences (before the runner closes).
func (l *loaded) dropCache() {
	for _, c := range l.prefix.drain() {
		c.seq.Close()
	}
}

func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
