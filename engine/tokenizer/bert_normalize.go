package tokenizer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// bertNormalizer mirrors the tokenizers crate's BertNormalizer: the steps
// run in its order (clean, pad CJK, strip accents, lowercase) because
// stripping after lowercasing would give different text for letters whose
// lowercase form decomposes differently.
func bertNormalizer(c *componentJSON) normalizer {
	clean, cjk, lower := c.CleanText, c.HandleChineseChars, c.Lowercase
	strip := lower // HF: strip_accents unset follows lowercase
	if c.StripAccents != nil {
		strip = *c.StripAccents
	}
	return func(s string) string {
		if clean || cjk {
			var b strings.Builder
			b.Grow(len(s))
			for _, r := range s {
				switch {
				case clean && (r == 0 || r == unicode.ReplacementChar || isBertControl(r)):
				case clean && isBertSpace(r):
					b.WriteByte(' ')
				case cjk && isCJK(r):
					b.WriteByte(' ')
					b.WriteRune(r)
					b.WriteByte(' ')
				default:
					b.WriteRune(r)
				}
			}
			s = b.String()
		}
		if strip {
			s = stripAccents(s)
		}
		if lower {
			s = lowercase(s)
		}
		return s
	}
}

// stripAccents is HF's StripAccents: drop nonspacing marks after NFD.
// Callers that want composed output put an NFC step after it, as HF does.
func stripAccents(s string) string {
	return strings.Map(func(r rune) rune {
		if isBertMark(r) {
			return -1
		}
		return r
	}, nfKnown(norm.NFD, s))
}

// isBertSpace is Rust's char::is_whitespace (the White_Space property),
// which is what the tokenizers crate tests; \t \n \r are in it.
func isBertSpace(r rune) bool { return unicode.Is(unicode.White_Space, r) }

// isCJK is the crate's is_chinese_char: the CJK Unified Ideographs blocks
// BERT's vocabulary splits into single characters.
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}
