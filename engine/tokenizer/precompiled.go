package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// precompiledMap is SentencePiece's compiled normalization rules (the
// "precompiled_charsmap" of a Precompiled normalizer): a darts-clone double
// array trie over UTF-8 byte strings whose values are offsets into a pool
// of NUL-terminated replacements. Layout: u32 little-endian trie size in
// bytes, the trie's u32 units, then the pool.
type precompiledMap struct {
	units []uint32
	pool  string
	ascii [utf8.RuneSelf]asciiRule // the rule of each ASCII character alone
}

type asciiRule struct {
	rep string
	ok  bool
}

func parsePrecompiled(b64 string) (*precompiledMap, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("precompiled_charsmap: %w", err)
	}
	if len(raw) < 4 {
		return nil, fmt.Errorf("precompiled_charsmap: %d bytes, too short", len(raw))
	}
	size := binary.LittleEndian.Uint32(raw)
	if size%4 != 0 || uint64(size) > uint64(len(raw)-4) || size == 0 {
		return nil, fmt.Errorf("precompiled_charsmap: trie size %d does not fit %d bytes", size, len(raw))
	}
	m := &precompiledMap{units: make([]uint32, size/4), pool: string(raw[4+size:])}
	for i := range m.units {
		m.units[i] = binary.LittleEndian.Uint32(raw[4+4*i:])
	}
	if !utf8.ValidString(m.pool) {
		return nil, fmt.Errorf("precompiled_charsmap: replacement pool is not UTF-8")
	}
	for c := range m.ascii {
		m.ascii[c].rep, m.ascii[c].ok = m.transform(string(rune(c)))
	}
	return m, nil
}

// darts-clone unit fields.
func unitHasLeaf(u uint32) bool  { return u>>8&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return u >> 10 << ((u & (1 << 9)) >> 6) }

// firstPrefix returns the value of the shortest key that is a prefix of s.
// The shortest, not the longest: the Rust reference takes the first result
// of its common-prefix search, and its ids are what we must match. Indexes
// are checked because the table comes from an untrusted file.
func (m *precompiledMap) firstPrefix(s string) (uint32, bool) {
	node := unitOffset(m.units[0])
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return 0, false
		}
		node ^= uint32(c)
		if int(node) >= len(m.units) {
			return 0, false
		}
		u := m.units[node]
		if unitLabel(u) != uint32(c) {
			return 0, false
		}
		node ^= unitOffset(u)
		if unitHasLeaf(u) {
			if int(node) >= len(m.units) {
				return 0, false
			}
			return unitValue(m.units[node]), true
		}
	}
	return 0, false
}

// transform returns the replacement of chunk, which replaces all of chunk
// even when the rule matched only a prefix of it (as in the reference).
func (m *precompiledMap) transform(chunk string) (string, bool) {
	v, ok := m.firstPrefix(chunk)
	if !ok || int(v) > len(m.pool) {
		return "", false
	}
	rest := m.pool[v:]
	if k := strings.IndexByte(rest, 0); k >= 0 {
		rest = rest[:k]
	}
	// An offset into the middle of a character only comes from a corrupt
	// file (the reference would panic slicing there); ignore such a rule.
	if !utf8.ValidString(rest) {
		return "", false
	}
	return rest, true
}

// normalize applies the rules the way tokenizers' Precompiled normalizer
// does: a grapheme cluster shorter than 6 bytes is looked up whole, and
// otherwise (or when it has no rule) each of its characters is. An ASCII
// character followed by another (bar CR LF) is a cluster of its own, so it
// skips the segmentation and uses its precomputed rule.
func (m *precompiledMap) normalize(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf && (c != '\r' || s[i+1] != '\n')) {
			if r := m.ascii[c]; r.ok {
				sb.WriteString(r.rep)
			} else {
				sb.WriteByte(c)
			}
			i++
			continue
		}
		// A cluster starts here and follows ASCII or another cluster, so no
		// segmentation state carries over.
		g, _, _, _ := uniseg.FirstGraphemeClusterInString(s[i:], -1)
		i += len(g)
		m.writeCluster(&sb, g)
	}
	return sb.String()
}

func (m *precompiledMap) writeCluster(sb *strings.Builder, g string) {
	if len(g) < 6 {
		if rep, ok := m.transform(g); ok {
			sb.WriteString(rep)
			return
		}
	}
	for i := 0; i < len(g); {
		_, w := utf8.DecodeRuneInString(g[i:])
		c := g[i : i+w]
		i += w
		if rep, ok := m.transform(c); ok {
			sb.WriteString(rep)
		} else {
			sb.WriteString(c)
		}
	}
}

// nmt is tokenizers' Nmt normalizer: drop ASCII control characters and
// turn the other characters SentencePiece treats as blanks into spaces.
func nmt(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x01 && r <= 0x08, r == 0x0B, r >= 0x0E && r <= 0x1F, r == 0x7F, r == 0x8F, r == 0x9F:
			return -1
		case r == 0x09, r == 0x0A, r == 0x0C, r == 0x0D, r == 0x1680, r >= 0x200B && r <= 0x200F,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
			return ' '
		}
		return r
	}, s)
}
