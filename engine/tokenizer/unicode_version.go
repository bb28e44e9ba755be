package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The tokenizers crate classifies and normalizes characters with tables
// older than Go's: its control, punctuation and nonspacing-mark sets and its
// NFC/NFD/NFKC/NFKD are those of Unicode 8.0, while the unicode package and
// x/text follow the current version. Characters encoded or recategorised
// since then would otherwise split, strip, decompose or compose
// differently, so these components test Go's tables and then undo the later
// changes listed here. The lists come from sweeping every code point
// through the reference (testdata/ref/unicodesweep.mjs); TestUnicodeSweep
// checks all of them against that sweep, so a Go release with new Unicode
// tables fails there, naming the code points to add.

// isBertControl is the crate's is_control: Cc, Cf and Co except the
// whitespace controls \t \n \r, which clean_text turns into spaces instead
// of deleting. Unassigned code points (U+0378, U+FFFF, U+10FFFF) are kept,
// as the crate keeps them: they reach WordPiece and become [UNK]. The crate's
// Cf table predates Unicode 9.0, so the format characters added since are kept
// too (newCf).
func isBertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.Is(unicode.Cf, r) {
		return !unicode.Is(newCf, r)
	}
	return unicode.In(r, unicode.Cc, unicode.Co)
}

// newCf: format characters (Cf) that Unicode added after the reference's tables.
var newCf = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0890, Hi: 0x0891, Stride: 1}, // Unicode 14
		{Lo: 0x08E2, Hi: 0x08E2, Stride: 1}, // Unicode 9
	},
	R32: []unicode.Range32{
		{Lo: 0x110CD, Hi: 0x110CD, Stride: 1}, // Unicode 11
		{Lo: 0x13430, Hi: 0x1343F, Stride: 1}, // Unicode 12 and 15
	},
}

// isBertMark is the crate's is_combining_mark, which StripAccents drops.
func isBertMark(r rune) bool {
	if r < 0x300 {
		return false
	}
	return (unicode.Is(unicode.Mn, r) && !unicode.Is(newMarks, r)) || unicode.Is(oldMarks, r)
}

// isUnicodePunct is the crate's is_punctuation for non-ASCII characters.
func isUnicodePunct(r rune) bool {
	return (unicode.IsPunct(r) && !unicode.Is(newPunct, r)) || unicode.Is(oldPunct, r)
}

// lowercase is Rust's char::to_lowercase applied to each character, as the
// crate's Lowercase does. strings.ToLower agrees on every code point but
// U+0130, whose full lowercase mapping is "i" and a combining dot above.
func lowercase(s string) string {
	if strings.ContainsRune(s, '\u0130') {
		s = strings.ReplaceAll(s, "\u0130", "i\u0307")
	}
	return strings.ToLower(s)
}

// nfKnown is form (NFC, NFD, NFKC or NFKD) as the reference has it: a
// character whose decomposition came after its tables stays whole (and, an
// unknown starter to it, composes with nothing), and a composite that came
// after them is not formed.
func nfKnown(form norm.Form, s string) string {
	compat := form == norm.NFKC || form == norm.NFKD
	compose := form == norm.NFC || form == norm.NFKC
	isNew := func(r rune) bool {
		return r >= 0x32FF && (unicode.Is(newDecomp, r) || compat && unicode.Is(newCompat, r))
	}
	// Every listed character and every first part of a listed composite is
	// at or above U+32FF, whose UTF-8 starts with a byte of 0xE3 or more.
	if !hasByteAtLeast(s, 0xE3) {
		return form.String(s)
	}
	var b strings.Builder
	for s != "" {
		split := strings.IndexFunc(s, isNew)
		seg := s
		if split >= 0 {
			seg = s[:split]
		}
		out := form.String(seg)
		if compose && strings.IndexFunc(out, isNewDecomp) >= 0 {
			out = decomposeNew(out)
		}
		b.WriteString(out)
		if split < 0 {
			break
		}
		_, n := utf8.DecodeRuneInString(s[split:])
		b.WriteString(s[split : split+n])
		s = s[split+n:]
	}
	return b.String()
}

// decomposeNew takes apart the composites the reference cannot form.
func decomposeNew(s string) string {
	var b strings.Builder
	for _, r := range s {
		if isNewDecomp(r) {
			b.WriteString(norm.NFD.String(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasByteAtLeast(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= c {
			return true
		}
	}
	return false
}

func isNewDecomp(r rune) bool { return r >= 0x105C9 && unicode.Is(newDecomp, r) }

// newPunct: punctuation (P*) that Unicode added after the reference's tables.
var newPunct = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x061D, Hi: 0x061D, Stride: 1},
		{Lo: 0x09FD, Hi: 0x09FD, Stride: 1},
		{Lo: 0x0A76, Hi: 0x0A76, Stride: 1},
		{Lo: 0x0C77, Hi: 0x0C77, Stride: 1},
		{Lo: 0x0C84, Hi: 0x0C84, Stride: 1},
		{Lo: 0x1B4E, Hi: 0x1B4F, Stride: 1},
		{Lo: 0x1B7D, Hi: 0x1B7F, Stride: 1},
		{Lo: 0x2E43, Hi: 0x2E4F, Stride: 1},
		{Lo: 0x2E52, Hi: 0x2E5D, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x10D6E, Hi: 0x10D6E, Stride: 1},
		{Lo: 0x10EAD, Hi: 0x10EAD, Stride: 1},
		{Lo: 0x10ED0, Hi: 0x10ED0, Stride: 1},
		{Lo: 0x10F55, Hi: 0x10F59, Stride: 1},
		{Lo: 0x10F86, Hi: 0x10F89, Stride: 1},
		{Lo: 0x113D4, Hi: 0x113D5, Stride: 1},
		{Lo: 0x113D7, Hi: 0x113D8, Stride: 1},
		{Lo: 0x1144B, Hi: 0x1144F, Stride: 1},
		{Lo: 0x1145A, Hi: 0x1145B, Stride: 1},
		{Lo: 0x1145D, Hi: 0x1145D, Stride: 1},
		{Lo: 0x11660, Hi: 0x1166C, Stride: 1},
		{Lo: 0x116B9, Hi: 0x116B9, Stride: 1},
		{Lo: 0x1183B, Hi: 0x1183B, Stride: 1},
		{Lo: 0x11944, Hi: 0x11946, Stride: 1},
		{Lo: 0x119E2, Hi: 0x119E2, Stride: 1},
		{Lo: 0x11A3F, Hi: 0x11A46, Stride: 1},
		{Lo: 0x11A9A, Hi: 0x11A9C, Stride: 1},
		{Lo: 0x11A9E, Hi: 0x11AA2, Stride: 1},
		{Lo: 0x11B00, Hi: 0x11B09, Stride: 1},
		{Lo: 0x11BE1, Hi: 0x11BE1, Stride: 1},
		{Lo: 0x11C41, Hi: 0x11C45, Stride: 1},
		{Lo: 0x11C70, Hi: 0x11C71, Stride: 1},
		{Lo: 0x11EF7, Hi: 0x11EF8, Stride: 1},
		{Lo: 0x11F43, Hi: 0x11F4F, Stride: 1},
		{Lo: 0x11FFF, Hi: 0x11FFF, Stride: 1},
		{Lo: 0x12FF1, Hi: 0x12FF2, Stride: 1},
		{Lo: 0x16D6D, Hi: 0x16D6F, Stride: 1},
		{Lo: 0x16E97, Hi: 0x16E9A, Stride: 1},
		{Lo: 0x16FE2, Hi: 0x16FE2, Stride: 1},
		{Lo: 0x1E5FF, Hi: 0x1E5FF, Stride: 1},
		{Lo: 0x1E95E, Hi: 0x1E95F, Stride: 1},
	},
}

// oldPunct: characters the reference still counts as punctuation (Po in its tables, since recategorised).
var oldPunct = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x166D, Hi: 0x166D, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x111C9, Hi: 0x111C9, Stride: 1},
	},
}

// newMarks: nonspacing marks (Mn) Unicode added after the reference's tables.
var newMarks = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x07FD, Hi: 0x07FD, Stride: 1},
		{Lo: 0x0897, Hi: 0x089F, Stride: 1},
		{Lo: 0x08CA, Hi: 0x08E1, Stride: 1},
		{Lo: 0x09FE, Hi: 0x09FE, Stride: 1},
		{Lo: 0x0AFA, Hi: 0x0AFF, Stride: 1},
		{Lo: 0x0B55, Hi: 0x0B55, Stride: 1},
		{Lo: 0x0C04, Hi: 0x0C04, Stride: 1},
		{Lo: 0x0C3C, Hi: 0x0C3C, Stride: 1},
		{Lo: 0x0D00, Hi: 0x0D00, Stride: 1},
		{Lo: 0x0D3B, Hi: 0x0D3C, Stride: 1},
		{Lo: 0x0D81, Hi: 0x0D81, Stride: 1},
		{Lo: 0x0EBA, Hi: 0x0EBA, Stride: 1},
		{Lo: 0x0ECE, Hi: 0x0ECE, Stride: 1},
		{Lo: 0x180F, Hi: 0x180F, Stride: 1},
		{Lo: 0x1885, Hi: 0x1886, Stride: 1},
		{Lo: 0x1ABF, Hi: 0x1ADD, Stride: 1},
		{Lo: 0x1AE0, Hi: 0x1AEB, Stride: 1},
		{Lo: 0x1DF6, Hi: 0x1DFB, Stride: 1},
		{Lo: 0xA82C, Hi: 0xA82C, Stride: 1},
		{Lo: 0xA8C5, Hi: 0xA8C5, Stride: 1},
		{Lo: 0xA8FF, Hi: 0xA8FF, Stride: 1},
		{Lo: 0xA9BD, Hi: 0xA9BD, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x10D24, Hi: 0x10D27, Stride: 1},
		{Lo: 0x10D69, Hi: 0x10D6D, Stride: 1},
		{Lo: 0x10EAB, Hi: 0x10EAC, Stride: 1},
		{Lo: 0x10EFA, Hi: 0x10EFF, Stride: 1},
		{Lo: 0x10F46, Hi: 0x10F50, Stride: 1},
		{Lo: 0x10F82, Hi: 0x10F85, Stride: 1},
		{Lo: 0x11070, Hi: 0x11070, Stride: 1},
		{Lo: 0x11073, Hi: 0x11074, Stride: 1},
		{Lo: 0x110C2, Hi: 0x110C2, Stride: 1},
		{Lo: 0x111C9, Hi: 0x111C9, Stride: 1},
		{Lo: 0x111CF, Hi: 0x111CF, Stride: 1},
		{Lo: 0x1123E, Hi: 0x1123E, Stride: 1},
		{Lo: 0x11241, Hi: 0x11241, Stride: 1},
		{Lo: 0x1133B, Hi: 0x1133B, Stride: 1},
		{Lo: 0x113BB, Hi: 0x113C0, Stride: 1},
		{Lo: 0x113CE, Hi: 0x113CE, Stride: 1},
		{Lo: 0x113D0, Hi: 0x113D0, Stride: 1},
		{Lo: 0x113D2, Hi: 0x113D2, Stride: 1},
		{Lo: 0x113E1, Hi: 0x113E2, Stride: 1},
		{Lo: 0x11438, Hi: 0x1143F, Stride: 1},
		{Lo: 0x11442, Hi: 0x11444, Stride: 1},
		{Lo: 0x11446, Hi: 0x11446, Stride: 1},
		{Lo: 0x1145E, Hi: 0x1145E, Stride: 1},
		{Lo: 0x1182F, Hi: 0x11837, Stride: 1},
		{Lo: 0x11839, Hi: 0x1183A, Stride: 1},
		{Lo: 0x1193B, Hi: 0x1193C, Stride: 1},
		{Lo: 0x1193E, Hi: 0x1193E, Stride: 1},
		{Lo: 0x11943, Hi: 0x11943, Stride: 1},
		{Lo: 0x119D4, Hi: 0x119D7, Stride: 1},
		{Lo: 0x119DA, Hi: 0x119DB, Stride: 1},
		{Lo: 0x119E0, Hi: 0x119E0, Stride: 1},
		{Lo: 0x11A01, Hi: 0x11A0A, Stride: 1},
		{Lo: 0x11A33, Hi: 0x11A38, Stride: 1},
		{Lo: 0x11A3B, Hi: 0x11A3E, Stride: 1},
		{Lo: 0x11A47, Hi: 0x11A47, Stride: 1},
		{Lo: 0x11A51, Hi: 0x11A56, Stride: 1},
		{Lo: 0x11A59, Hi: 0x11A5B, Stride: 1},
		{Lo: 0x11A8A, Hi: 0x11A96, Stride: 1},
		{Lo: 0x11A98, Hi: 0x11A99, Stride: 1},
		{Lo: 0x11B60, Hi: 0x11B60, Stride: 1},
		{Lo: 0x11B62, Hi: 0x11B64, Stride: 1},
		{Lo: 0x11B66, Hi: 0x11B66, Stride: 1},
		{Lo: 0x11C30, Hi: 0x11C36, Stride: 1},
		{Lo: 0x11C38, Hi: 0x11C3D, Stride: 1},
		{Lo: 0x11C3F, Hi: 0x11C3F, Stride: 1},
		{Lo: 0x11C92, Hi: 0x11CA7, Stride: 1},
		{Lo: 0x11CAA, Hi: 0x11CB0, Stride: 1},
		{Lo: 0x11CB2, Hi: 0x11CB3, Stride: 1},
		{Lo: 0x11CB5, Hi: 0x11CB6, Stride: 1},
		{Lo: 0x11D31, Hi: 0x11D36, Stride: 1},
		{Lo: 0x11D3A, Hi: 0x11D3A, Stride: 1},
		{Lo: 0x11D3C, Hi: 0x11D3D, Stride: 1},
		{Lo: 0x11D3F, Hi: 0x11D45, Stride: 1},
		{Lo: 0x11D47, Hi: 0x11D47, Stride: 1},
		{Lo: 0x11D90, Hi: 0x11D91, Stride: 1},
		{Lo: 0x11D95, Hi: 0x11D95, Stride: 1},
		{Lo: 0x11D97, Hi: 0x11D97, Stride: 1},
		{Lo: 0x11EF3, Hi: 0x11EF4, Stride: 1},
		{Lo: 0x11F00, Hi: 0x11F01, Stride: 1},
		{Lo: 0x11F36, Hi: 0x11F3A, Stride: 1},
		{Lo: 0x11F40, Hi: 0x11F40, Stride: 1},
		{Lo: 0x11F42, Hi: 0x11F42, Stride: 1},
		{Lo: 0x11F5A, Hi: 0x11F5A, Stride: 1},
		{Lo: 0x13440, Hi: 0x13440, Stride: 1},
		{Lo: 0x13447, Hi: 0x13455, Stride: 1},
		{Lo: 0x1611E, Hi: 0x16129, Stride: 1},
		{Lo: 0x1612D, Hi: 0x1612F, Stride: 1},
		{Lo: 0x16F4F, Hi: 0x16F4F, Stride: 1},
		{Lo: 0x16FE4, Hi: 0x16FE4, Stride: 1},
		{Lo: 0x1CF00, Hi: 0x1CF2D, Stride: 1},
		{Lo: 0x1CF30, Hi: 0x1CF46, Stride: 1},
		{Lo: 0x1E000, Hi: 0x1E006, Stride: 1},
		{Lo: 0x1E008, Hi: 0x1E018, Stride: 1},
		{Lo: 0x1E01B, Hi: 0x1E021, Stride: 1},
		{Lo: 0x1E023, Hi: 0x1E024, Stride: 1},
		{Lo: 0x1E026, Hi: 0x1E02A, Stride: 1},
		{Lo: 0x1E08F, Hi: 0x1E08F, Stride: 1},
		{Lo: 0x1E130, Hi: 0x1E136, Stride: 1},
		{Lo: 0x1E2AE, Hi: 0x1E2AE, Stride: 1},
		{Lo: 0x1E2EC, Hi: 0x1E2EF, Stride: 1},
		{Lo: 0x1E4EC, Hi: 0x1E4EF, Stride: 1},
		{Lo: 0x1E5EE, Hi: 0x1E5EF, Stride: 1},
		{Lo: 0x1E6E3, Hi: 0x1E6E3, Stride: 1},
		{Lo: 0x1E6E6, Hi: 0x1E6E6, Stride: 1},
		{Lo: 0x1E6EE, Hi: 0x1E6EF, Stride: 1},
		{Lo: 0x1E6F5, Hi: 0x1E6F5, Stride: 1},
		{Lo: 0x1E944, Hi: 0x1E94A, Stride: 1},
	},
}

// oldMarks: characters the reference still strips as nonspacing marks (Mn in its tables, Mc now).
var oldMarks = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x1734, Hi: 0x1734, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1171E, Hi: 0x1171E, Stride: 1},
	},
}

// newDecomp: characters whose canonical decomposition came after the reference's tables; its NFD leaves them whole.
var newDecomp = &unicode.RangeTable{
	R32: []unicode.Range32{
		{Lo: 0x105C9, Hi: 0x105C9, Stride: 1},
		{Lo: 0x105E4, Hi: 0x105E4, Stride: 1},
		{Lo: 0x11383, Hi: 0x11383, Stride: 1},
		{Lo: 0x11385, Hi: 0x11385, Stride: 1},
		{Lo: 0x1138E, Hi: 0x1138E, Stride: 1},
		{Lo: 0x11391, Hi: 0x11391, Stride: 1},
		{Lo: 0x113C5, Hi: 0x113C5, Stride: 1},
		{Lo: 0x113C7, Hi: 0x113C8, Stride: 1},
		{Lo: 0x11938, Hi: 0x11938, Stride: 1},
		{Lo: 0x16121, Hi: 0x16128, Stride: 1},
		{Lo: 0x16D68, Hi: 0x16D6A, Stride: 1},
	},
}

// newCompat: characters whose compatibility decomposition (NFKD) came after
// the reference's tables; its NFKD and NFKC leave them whole.
var newCompat = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x32FF, Hi: 0x32FF, Stride: 1},
		{Lo: 0xA7F1, Hi: 0xA7F4, Stride: 1},
		{Lo: 0xAB69, Hi: 0xAB69, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x10781, Hi: 0x10785, Stride: 1},
		{Lo: 0x10787, Hi: 0x107B0, Stride: 1},
		{Lo: 0x107B2, Hi: 0x107BA, Stride: 1},
		{Lo: 0x1CCD6, Hi: 0x1CCF9, Stride: 1},
		{Lo: 0x1E030, Hi: 0x1E06D, Stride: 1},
		{Lo: 0x1F16C, Hi: 0x1F16C, Stride: 1},
		{Lo: 0x1FBF0, Hi: 0x1FBF9, Stride: 1},
	},
}
