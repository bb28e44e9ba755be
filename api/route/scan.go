package route

import (
	"bytes"

	"github.com/mlx-manager/mlx-manager/internal/jsonlex"
)

// A routed request's body is read twice on the front daemon: for its model
// (which backend) and for the members the router rewrites. jsontext's decoder
// and encoding/json took a dozen allocations and two passes of their own for
// that on every request (issue #24). quickTop reads a plain body in one pass
// without allocating; anything it is unsure of goes the careful way.

// quickTop is decodeTop for a body it can read with certainty: one JSON object
// whose member names hold no escapes, with no \u escape of a surrogate, no
// deeper than maxQuickDepth. ok is false for anything else, valid or not:
// decodeTop then reads it and says what is wrong. foldModel reports a
// top-level name that is "model" but for case ("Model"), which encoding/json
// would read as the model.
func quickTop(body []byte) (f topFields, foldModel, ok bool) {
	s := jsonlex.Scanner{B: body, RefuseSurrogates: true}
	s.Space()
	f.open = int64(s.I) + 1 // after the '{' Object reads
	f.empty = true
	ok = s.Object(func(name []byte) bool {
		if bytes.IndexByte(name, '\\') >= 0 {
			return false
		}
		start := s.I
		if !s.Skip(0, maxQuickDepth) {
			return false
		}
		f.empty = false
		if field := f.member(string(name)); field == nil {
			foldModel = foldModel || len(name) == len("model") && equalFoldASCII(name, "model")
		} else {
			if field.found() {
				f.repeated = true
			}
			*field = span{start: int64(start), end: int64(s.I)}
		}
		return true
	}) && s.End()
	if !ok {
		return topFields{}, false, false
	}
	return f, foldModel, true
}

// quickModel is ModelOf for a body quickTop reads whose model, if any, is a
// plain string: ASCII without escapes, as encoding/json would give it back.
func quickModel(body []byte) (model string, ok bool) {
	f, foldModel, ok := quickTop(body)
	if !ok || foldModel || f.repeated {
		return "", false
	}
	if !f.model.found() {
		return "", true
	}
	v := body[f.model.start:f.model.end]
	if v[0] != '"' {
		return "", true // null or not a string: encoding/json leaves the field empty
	}
	v = v[1 : len(v)-1]
	for _, c := range v {
		if c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	return string(v), true
}

// equalFoldASCII reports whether b is lower but for ASCII case: no other
// letter folds to one of "model"'s in encoding/json's name matching.
func equalFoldASCII(b []byte, lower string) bool {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// maxQuickDepth bounds quickTop's nesting; deeper bodies take the decoder.
const maxQuickDepth = 512
