package tokenizer

// StreamDecoder turns generated ids into text as they arrive. The text it
// emits, concatenated and followed by Flush, equals Decode of the generated
// ids after the prefix minus Decode of the prefix (the usual way to stream
// detokenization), so the leading space of a continuation comes out right.
// It never emits half a UTF-8 character: bytes of an unfinished character
// wait for the next token. Each call costs O(bytes of that token).
//
// A StreamDecoder is not safe for concurrent use.
type StreamDecoder struct {
	t           *Tokenizer
	skipSpecial bool
	st          decodeState
	pending     []byte // start of an unfinished character
	out         []byte
}

// NewStreamDecoder starts a stream after prefix (the prompt), whose text is
// not emitted. With skipSpecial, special tokens produce no text.
func (t *Tokenizer) NewStreamDecoder(prefix []int32, skipSpecial bool) *StreamDecoder {
	d := &StreamDecoder{t: t, skipSpecial: skipSpecial}
	var buf []byte
	for _, id := range prefix {
		buf = t.appendToken(buf[:0], id, skipSpecial, &d.st)
		d.pending = append(d.pending, buf...)
		d.pending = d.pending[len(d.pending)-incompleteTail(d.pending):]
	}
	// A prompt that ends inside a character lets the first new token finish
	// it; anything else of the prompt is already known text.
	return d
}

// Next returns the text that id adds; it may be empty.
func (d *StreamDecoder) Next(id int32) string {
	d.pending = d.t.appendToken(d.pending, id, d.skipSpecial, &d.st)
	keep := incompleteTail(d.pending)
	ready := d.pending[:len(d.pending)-keep]
	if len(ready) == 0 {
		return ""
	}
	d.out = appendLossy(d.out[:0], ready)
	n := copy(d.pending, d.pending[len(ready):])
	d.pending = d.pending[:n]
	return string(d.out)
}

// Flush returns the bytes still held back (an unfinished character at the
// end of generation) as replacement characters, and resets that buffer.
func (d *StreamDecoder) Flush() string {
	if len(d.pending) == 0 {
		return ""
	}
	s := string(appendLossy(nil, d.pending))
	d.pending = d.pending[:0]
	return s
}
