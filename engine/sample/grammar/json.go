package grammar

import "sync"

// Building blocks for JSON text. Whitespace is bounded on purpose: a single
// optional space after ':' and ',' and nowhere else, so constrained generation
// cannot wander forever in blank space, and every output is compact JSON that
// encoding/json parses.

// ws is the only whitespace allowed between tokens.
var ws = opt(lit(" "))

// hex matches one hexadecimal digit.
var hex = bytesIn('0', '9', 'a', 'f', 'A', 'F')

// strChar matches one character inside a JSON string: a valid UTF-8 encoded
// code point other than '"', '\' and control characters, or an escape. \u
// escapes of UTF-16 surrogates are left out so each item is one code point,
// which keeps minLength and maxLength exact.
// The alternatives share their tails (the last continuation byte, the last
// two hex digits), so a counted string (maxLength) needs few automaton
// states per character position.
var strChar = alt{
	bytesIn(0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f),
	seq{alt{
		bytesIn(0xc2, 0xdf),
		seq{alt{
			seq{lit{0xe0}, bytesIn(0xa0, 0xbf)},
			seq{bytesIn(0xe1, 0xec, 0xee, 0xef), cont},
			seq{lit{0xed}, bytesIn(0x80, 0x9f)},
			seq{alt{
				seq{lit{0xf0}, bytesIn(0x90, 0xbf)},
				seq{bytesIn(0xf1, 0xf3), cont},
				seq{lit{0xf4}, bytesIn(0x80, 0x8f)},
			}, cont},
		}},
	}, cont},
	seq{lit(`\`), alt{
		bytesIn('"', '"', '\\', '\\', '/', '/', 'b', 'b', 'f', 'f', 'n', 'n', 'r', 'r', 't', 't'),
		seq{lit("u"), alt{
			seq{bytesIn('0', '9', 'a', 'c', 'e', 'f', 'A', 'C', 'E', 'F'), hex},
			seq{bytesIn('d', 'd', 'D', 'D'), bytesIn('0', '7')},
		}, hex, hex},
	}},
}

var cont = bytesIn(0x80, 0xbf)

// stringOf matches a JSON string of min to max characters (max < 0: no limit).
func stringOf(min, max int) node {
	return seq{lit(`"`), rep{n: strChar, min: min, max: max}, lit(`"`)}
}

// Digit counts are bounded so that every number fits a float64 (no 1e999)
// and generation cannot emit digits forever.
var (
	digit   = bytesIn('0', '9')
	intPart = seq{opt(lit("-")), alt{lit("0"), seq{bytesIn('1', '9'), rep{n: digit, min: 0, max: 15}}}}
	number  = seq{
		intPart,
		opt(seq{lit("."), rep{n: digit, min: 1, max: 16}}),
		opt(seq{bytesIn('e', 'e', 'E', 'E'), opt(bytesIn('+', '+', '-', '-')), rep{n: digit, min: 1, max: 2}}),
	}
)

// anyJSON builds the rules for an arbitrary JSON value and an arbitrary object.
func anyJSON() (value, object *rule) {
	value = &rule{name: "value"}
	object = &rule{name: "object"}
	array := &rule{name: "array"}
	str := &rule{name: "string", body: stringOf(0, -1)}
	member := seq{call{str}, lit(":"), ws, call{value}}
	object.body = seq{lit("{"), opt(seq{member, rep{n: seq{lit(","), ws, member}, min: 0, max: -1}}), lit("}")}
	array.body = seq{lit("["), opt(seq{call{value}, rep{n: seq{lit(","), ws, call{value}}, min: 0, max: -1}}), lit("]")}
	value.body = alt{call{object}, call{array}, call{str}, number, lit("true"), lit("false"), lit("null")}
	return value, object
}

var anyRules = sync.OnceValues(anyJSON)

var (
	jsonGrammar = sync.OnceValue(func() *Grammar {
		v, _ := anyRules()
		return &Grammar{root: v}
	})
	jsonObjectGrammar = sync.OnceValue(func() *Grammar {
		_, o := anyRules()
		return &Grammar{root: o}
	})
)

// JSON matches any JSON value (JSON mode without a schema). The grammar is
// shared and compiled once per process.
func JSON() *Grammar { return jsonGrammar() }

// JSONObject matches any JSON object (OpenAI's response_format json_object).
func JSONObject() *Grammar { return jsonObjectGrammar() }
