package route

import (
	"bytes"

	"github.com/mlx-manager/mlx-manager/api/translate"
	"github.com/mlx-manager/mlx-manager/internal/jsonlex"
)

// A pass-through OpenAI stream's usage chunk was decoded twice on the front
// daemon, by translate.UsageOf and by usageChunkOnly: two encoding/json
// passes, 5% of the front's CPU per relayed request (BenchmarkRouteFirstByte,
// pprof). quickUsage reads a plain chunk for both in one pass without
// allocating; anything it is unsure of goes the careful way, so every answer
// stays encoding/json's (FuzzQuickUsage).

// usageOf is translate.UsageOf and usageChunkOnly of one event's data.
func usageOf(data []byte) (u Usage, ok, chunkOnly bool) {
	if u, ok, chunkOnly, sure := quickUsage(data); sure {
		return u, ok, chunkOnly
	}
	u, ok = translate.UsageOf(data)
	return u, ok, ok && usageChunkOnly(data)
}

// quickUsage reads an OpenAI chunk it can read with certainty: one object
// whose member names hold no escapes, no member named as the decoders'
// fields but for case, none of them twice (nor both names of one count), no
// "message" (Anthropic's message_start), a usage that is null or an object
// whose counts are null or integers of at most 18 digits, choices null or an
// array. sure is false for
// anything else, valid or not.
func quickUsage(data []byte) (u Usage, ok, chunkOnly, sure bool) {
	s := jsonlex.Scanner{B: data, RefuseSurrogates: true}
	s.Space()
	var seenUsage, seenChoices bool
	choices := 0
	sure = s.Object(func(name []byte) bool {
		if bytes.IndexByte(name, '\\') >= 0 {
			return false
		}
		switch string(name) {
		case "usage":
			if seenUsage {
				return false
			}
			seenUsage = true
			if s.Literal("null") {
				return true
			}
			ok = true
			var seen [4]bool // prompt, input, completion, output
			return s.Object(func(name []byte) bool {
				var i int
				switch string(name) {
				case "prompt_tokens":
					i = 0
				case "input_tokens":
					i = 1
				case "completion_tokens":
					i = 2
				case "output_tokens":
					i = 3
				default:
					if bytes.IndexByte(name, '\\') >= 0 || foldsTo(name, "prompt_tokens", "input_tokens", "completion_tokens", "output_tokens") {
						return false
					}
					return s.Skip(2, maxQuickDepth)
				}
				// Both names of a count, or one twice: which wins is the decoder's to say.
				if seen[i] || seen[i^1] {
					return false
				}
				seen[i] = true
				if s.Literal("null") {
					return true // the count stays 0, as a nil *int leaves it
				}
				n, ok := quickInt(&s)
				if i < 2 {
					u.Input = n
				} else {
					u.Output = n
				}
				return ok
			})
		case "choices":
			if seenChoices {
				return false
			}
			seenChoices = true
			if s.Literal("null") {
				return true
			}
			return s.Array(func() bool { choices++; return s.Skip(2, maxQuickDepth) })
		}
		if foldsTo(name, "usage", "choices", "message") {
			return false
		}
		return s.Skip(1, maxQuickDepth)
	}) && s.End()
	if !sure {
		return Usage{}, false, false, false
	}
	return u, ok, ok && choices == 0, true
}

// foldsTo reports whether name is one of names but for ASCII case, or a name
// encoding/json might match to one otherwise (any byte past ASCII: it folds
// Unicode too).
func foldsTo(name []byte, names ...string) bool {
	for _, c := range name {
		if c >= 0x80 {
			return true
		}
	}
	for _, n := range names {
		if len(name) == len(n) && equalFoldASCII(name, n) {
			return true
		}
	}
	return false
}

// quickInt reads an integer of at most 18 digits, the most an int holds
// whatever its sign; false for anything else (fractions and exponents are the
// decoder's to refuse).
func quickInt(s *jsonlex.Scanner) (int, bool) {
	neg := s.Byte('-')
	start, n := s.I, 0
	for s.I < len(s.B) && '0' <= s.B[s.I] && s.B[s.I] <= '9' {
		n = n*10 + int(s.B[s.I]-'0')
		s.I++
	}
	digits := s.I - start
	if digits == 0 || digits > 18 || digits > 1 && s.B[start] == '0' {
		return 0, false
	}
	if c := s.Peek(); c == '.' || c == 'e' || c == 'E' {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}
