package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var knownPatterns = map[string]string{
	"gpt2":   patternGPT2,
	"llama3": patternLlama3,
	"qwen2":  patternQwen2,
}

// splitTexts are inputs that exercise every alternative of the patterns.
var splitTexts = []string{
	"", " ", "  ", "a", "Hello world", "I'm you'RE they'Ve it's 'S 'x '",
	"abc123456def 7 89 0", "a  b   c\t\td", "x\n\ny\r\n\r\nz", "  \n  \n\t\n ",
	"end   ", "   start", "!!! ??? ...", " !a", " !!\n\nb", "\t!x",
	"日本語のテキスト、東京。", "emoji 👨‍👩‍👧 x", "٣٤٥ ½ ⅓ ①", "nbsp\u00a0x\u3000y\u2028z",
	"func main() {\n\tfmt.Println(\"hi\")\n}\n", "a'b''c'''d", "\u0085x\u000by\u000cz",
	"'ll 'LL 'lL 'd'D", "don’t", "mixed \t \n whitespace \r\n\t end",
}

func compareSplit(t testing.TB, fast, ref matcher, s string) {
	t.Helper()
	got, want := findAll(fast, s), findAll(ref, s)
	if !slices.Equal(got, want) {
		t.Fatalf("split %q:\n fast %v\n  ref %v", s, pieces(s, got), pieces(s, want))
	}
}

func pieces(s string, spans []span) []string {
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = s[sp.start:sp.end]
	}
	return out
}

// randomText draws runes from a small alphabet that covers every class the
// split patterns distinguish.
func randomText(rng *rand.Rand, n int) string {
	alphabet := []rune("aZé日'sStTrReEvVmMlLdD0١½ \t\n\r\u00a0\u3000!.,-😀\u200d\u0301_")
	var sb strings.Builder
	for range rng.IntN(n) + 1 {
		sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return sb.String()
}

func FuzzSplit(f *testing.F) {
	for _, s := range splitTexts {
		f.Add(s)
	}
	type pair struct{ fast, ref matcher }
	var pairs []pair
	for _, p := range []string{patternGPT2, patternLlama3, patternQwen2} {
		fast, _ := newMatcher(p)
		ref, err := compileRegexMatcher(p)
		if err != nil {
			f.Fatal(err)
		}
		pairs = append(pairs, pair{fast, ref})
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		for _, p := range pairs {
			compareSplit(t, p.fast, p.ref, s)
		}
	})
}

func TestSplitBehaviors(t *testing.T) {
	tests := []struct {
		behavior behavior
		invert   bool
		want     []string
	}{
		// Each "-" is its own match; only contiguous joins neighbours.
		{isolated, false, []string{"a", "-", "b", "-", "-", "c"}},
		{removed, false, []string{"a", "b", "c"}},
		{mergedWithPrevious, false, []string{"a-", "b-", "-", "c"}},
		{mergedWithNext, false, []string{"a", "-b", "-", "-c"}},
		{contiguous, false, []string{"a", "-", "b", "--", "c"}},
		{removed, true, []string{"-", "-", "-"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%v", tt.behavior, tt.invert), func(t *testing.T) {
			step := &splitStep{m: literalMatcher{lit: "-"}, behavior: tt.behavior, invert: tt.invert}
			var got []string
			step.split("a-b--c", false, func(p string, _ bool) { got = append(got, p) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
