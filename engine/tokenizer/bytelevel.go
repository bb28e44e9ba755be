package tokenizer

// GPT-2's byte-level alphabet maps every byte to a printable rune so that
// BPE vocabularies never contain raw control bytes or spaces: printable
// Latin-1 bytes map to themselves and the rest to U+0100 upwards, in order.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelDecode returns the raw bytes a byte-level token stands for, and
// false when the token has a rune outside the alphabet (added tokens such as
// "<|im_start|>" are plain ASCII and do map; anything else is kept as UTF-8
// by the caller, as the reference decoder does).
func byteLevelDecode(tok string) ([]byte, bool) {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}
