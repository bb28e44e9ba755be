// Package grammar constrains generation to a formal language over bytes: JSON
// mode, JSON Schema (response_format json_schema, tool arguments) and the
// fixed text around tool calls.
//
// # Grammars
//
// A Grammar is a set of rules, each a regular expression over bytes that may
// call other rules (a recursive transition network, i.e. a pushdown
// automaton). Literal, Seq, Choice and Repeat compose grammars; JSON and
// JSONObject match any JSON value or object; FromSchema compiles a JSON Schema.
// A caller builds a tool-call grammar such as
//
//	Seq(Literal("<tool_call>\n"), Choice(call1, call2), Literal("\n</tool_call>"))
//
// where each call is Seq(Literal(`{"name": "f", "arguments": `), args, Literal("}")).
// Whether free text or a tool call comes first is the caller's decision.
// TextWithout matches bare UTF-8 text that avoids some stop strings (the
// parameter values of Qwen3-Coder's XML calls). Matcher.AcceptText feeds
// bytes that are not a whole token: a grammar applied lazily, from a call
// marker the model wrote in the middle of a token, starts with them.
//
// Each rule compiles (once per Grammar, on first use) to a deterministic
// automaton over byte classes; calls to other rules are symbols of that
// automaton. A Parser state is a small set of stacks of return states; frames
// are interned, so a state is hashable and comparable. Parser answers whether
// bytes continue the input and whether the input is complete.
//
// # JSON Schema subset
//
// Supported: type (single or list; inferred from the keywords when absent),
// properties (generated in the schema's order, which is kept while decoding),
// required (always generated), additionalProperties (false, true or a schema;
// when absent and properties are listed, no extra properties are generated,
// which is still valid output), enum, const, items, minItems, maxItems,
// anyOf, oneOf (as anyOf: exclusivity is not enforced), allOf with one
// schema, $ref to any local JSON pointer ("#", "#/$defs/x", "#/definitions/x";
// recursion allowed, left recursion refused), minLength, maxLength, pattern
// (an ECMA-262 subset: classes, groups, alternation, quantifiers, anchors at
// the ends), format date, time, date-time, uuid and email, and minimum,
// maximum, exclusiveMinimum, exclusiveMaximum on integers. Annotations
// (title, description, default, examples, ...) and unknown keywords are
// ignored, as JSON Schema prescribes. Keywords that constrain values in ways
// not listed here (multipleOf, not, if/then/else, patternProperties,
// uniqueItems true, bounds on non-integer numbers, formats other than the
// above, ...) fail with an error wrapping ErrUnsupported that names them.
//
// Generated JSON is compact: a single optional space after ':' and ',' is the
// only whitespace, so generation cannot wander in blank space. Numbers have at
// most 16 digits before and after the point and a two-digit exponent, so every
// number fits a float64. Strings are valid UTF-8 and never contain \u escapes
// of surrogates, so each character counts once toward minLength and maxLength.
// Additional property names are drawn from [A-Za-z0-9_-] and never repeat a
// declared property. Dates never name a day their month lacks (February stops
// at 28).
//
// # Token masks
//
// NewMasker builds a byte trie of a vocabulary once per model. A Matcher
// (one per generation) fills a Bitset with the tokens whose bytes continue
// the output, plus the EOS tokens exactly when the output is complete.
// Validity mostly does not depend on the parser stack: from an automaton
// state, tokens that stay inside its rule through states that neither call
// nor may end the rule are valid whatever lies below. For each state such
// tokens are found once per (grammar, vocabulary) by a trie walk with plain
// table lookups, and the trie nodes where a path calls or returns are kept
// as a frontier; a mask is then the union of these tables for the current
// threads plus a short walk from each frontier node with the real stack.
// Whole masks are also cached per parser state. Compiled schemas are kept in
// a small cache, so a schema sent again reuses its automaton and tables.
//
// States that no token of the vocabulary can tell apart share one table:
// before the first mask, the automaton's states are grouped by a Moore
// refinement bounded by the longest token, which matters for counted
// repetitions (maxLength gives each character position its own state, but
// positions more than a token away from the limit behave alike).
//
// The cost that remains is the first mask in a state class that admits most
// tokens, as inside a string: one walk over most of the trie (a few
// milliseconds for 150k tokens), once per grammar and vocabulary.
//
// Who may import me: the engine's packages.
// I import only the standard library.
package grammar
