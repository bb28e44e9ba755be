package tokenizer

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece of input text before pre-tokenization.
type normalizer func(string) string

func buildNormalizer(c *componentJSON, depth int) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, fmt.Errorf("normalizers nested deeper than %d", maxNesting)
	}
	switch c.Type {
	case "Sequence":
		var steps []normalizer
		for i, raw := range c.Normalizers {
			sub, err := parseComponent(raw)
			if err != nil {
				return nil, fmt.Errorf("normalizer %d: %w", i, err)
			}
			n, err := buildNormalizer(sub, depth+1)
			if err != nil {
				return nil, fmt.Errorf("normalizer %d: %w", i, err)
			}
			if n != nil {
				steps = append(steps, n)
			}
		}
		return chainNormalizers(steps), nil
	case "NFC":
		return func(s string) string { return nfKnown(norm.NFC, s) }, nil
	case "NFD":
		return func(s string) string { return nfKnown(norm.NFD, s) }, nil
	case "NFKC":
		return func(s string) string { return nfKnown(norm.NFKC, s) }, nil
	case "NFKD":
		return func(s string) string { return nfKnown(norm.NFKD, s) }, nil
	case "Lowercase":
		return lowercase, nil
	case "Prepend":
		p := c.Prepend
		return func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}, nil
	case "Replace":
		return buildReplace(c.Pattern, c.Content)
	case "Strip":
		left, right := c.StripLeft, c.StripRight
		return func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}, nil
	case "BertNormalizer":
		return bertNormalizer(c), nil
	case "StripAccents":
		return stripAccents, nil
	case "Precompiled":
		if c.PrecompiledCharsmap == "" {
			return nil, nil // files without SentencePiece rules carry an empty map
		}
		m, err := parsePrecompiled(c.PrecompiledCharsmap)
		if err != nil {
			return nil, err
		}
		return m.normalize, nil
	case "Nmt":
		return nmt, nil
	default:
		return nil, fmt.Errorf("%w: normalizer %q", ErrUnsupported, c.Type)
	}
}

func chainNormalizers(steps []normalizer) normalizer {
	switch len(steps) {
	case 0:
		return nil
	case 1:
		return steps[0]
	}
	return func(s string) string {
		for _, n := range steps {
			s = n(s)
		}
		return s
	}
}

// buildReplace handles the Replace normalizer and pre-tokenizer: a literal
// or a regular expression (with the references' look-around semantics).
func buildReplace(p *patternJSON, content string) (normalizer, error) {
	switch {
	case p == nil:
		return nil, fmt.Errorf("replace without a pattern")
	case p.String != nil:
		old := *p.String
		if old == "" {
			return func(s string) string { return s }, nil
		}
		return func(s string) string { return strings.ReplaceAll(s, old, content) }, nil
	case p.Regex != nil:
		re, err := regexp2.Compile(*p.Regex, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf("replace pattern %q: %w", *p.Regex, err)
		}
		re.MatchTimeout = regexTimeout
		// The content is literal text: no $1 expansion.
		lit := func(regexp2.Match) string { return content }
		return func(s string) string {
			out, err := re.ReplaceFunc(s, lit, -1, -1)
			if err != nil {
				return s
			}
			return out
		}, nil
	default:
		return nil, fmt.Errorf("replace pattern has neither String nor Regex")
	}
}
