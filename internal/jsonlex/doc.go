// Package jsonlex reads JSON's tokens from a byte slice in place, without
// allocating. It serves the request paths' one-pass readers (api/openai's
// fits, api/route's quickTop): each reads the bodies it can with certainty and
// hands anything else to encoding/json, whose answers and errors stay the
// only ones a client sees. A false from this package therefore means "take
// the careful path", never which fault there is.
//
// Who may import me: api/openai and api/route.
package jsonlex
