package engine

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// newCallID names a tool call the way OpenAI does ("call_" and random letters), so
// clients that match tool results to calls by id work unchanged.
func newCallID() string {
	var b [15]byte
	rand.Read(b[:])
	return "call_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
