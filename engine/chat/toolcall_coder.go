package chat

import (
	"bytes"
	"encoding/json"
	"strings"
)

// coderStage parses the Qwen3-Coder XML form:
//
//	<tool_call>
//	<function=name>
//	<parameter=key>
//	value
//	</parameter>
//	</function>
//	</tool_call>
//
// Each function is held back until </function> decides it; one cut short or
// with a malformed tag is content, from the marker on. Parameter values
// become a JSON object: a value that is valid JSON (number, bool, object)
// is kept as JSON unless the schema types it as a string, anything else
// becomes a string. Stray text between parameters is skipped.
type coderStage struct {
	mode      int                        // coderText, coderBlock, coderFunc
	skip      int                        // bytes of the held text before the block's body (the marker)
	afterCall bool                       // drop whitespace that only separates calls
	strs      map[string]map[string]bool // string-typed parameters by function
	fn        coderFunc
}

// coderFunc is the function being held back.
type coderFunc struct {
	state  int    // funcName, funcBody, funcValue
	pos    int    // bytes of the held text parsed
	name   string // the function
	param  string // the parameter whose value is being read
	value  int    // offset of that value
	from   int    // where the search for its end resumes
	params int
	args   strings.Builder // the arguments object so far, without "}"
}

const (
	coderText = iota
	coderBlock
	coderFunction
)

const (
	funcName = iota
	funcBody
	funcValue
)

const (
	coderFuncOpen   = "<function="
	coderFuncClose  = "</function>"
	coderParamOpen  = "<parameter="
	coderParamClose = "</parameter>"
)

func (c *coderStage) process(buf string, final bool, e *emitter) int {
	switch c.mode {
	case coderBlock:
		return c.processBlock(buf, final, e)
	case coderFunction:
		return c.processFunc(buf, final, e)
	}
	if c.afterCall {
		if n, wait := skipSeparator(buf, final); wait || n > 0 {
			return n
		}
		c.afterCall = false
	}
	n, found := markerAt(buf, hermesOpen, final, e)
	if !found {
		return n
	}
	c.mode, c.skip = coderBlock, len(hermesOpen)
	return n + c.processBlock(buf[n:], final, e)
}

// processBlock reads between functions: the first one after the marker
// (still held, c.skip > 0), further ones, or </tool_call>.
func (c *coderStage) processBlock(buf string, final bool, e *emitter) int {
	rest := strings.TrimLeft(buf[c.skip:], pyWhitespace)
	at := len(buf) - len(rest)
	switch {
	case strings.HasPrefix(rest, coderFuncOpen):
		c.mode, c.fn = coderFunction, coderFunc{pos: at + len(coderFuncOpen)}
		return c.processFunc(buf, final, e)
	case strings.HasPrefix(rest, hermesClose) && c.skip == 0:
		c.mode, c.afterCall = coderText, true
		return at + len(hermesClose)
	case !final && (strings.HasPrefix(coderFuncOpen, rest) || strings.HasPrefix(hermesClose, rest)):
		return 0
	case e.cut && (strings.HasPrefix(coderFuncOpen, rest) || strings.HasPrefix(hermesClose, rest)):
		e.unfinished(buf) // cut off inside a tag of the call: dropped
		c.mode = coderText
		return len(buf)
	}
	// Not a function: the marker is text; after a call, so is what follows.
	skip := c.skip // process may change c.skip
	e.add(EventContent, 0, buf[:skip])
	c.mode, c.afterCall = coderText, skip == 0
	return skip + c.process(buf[skip:], final, e)
}

// processFunc advances the held function; within maxCallSize it is decided
// by </function>, a malformed tag or the end of the output.
func (c *coderStage) processFunc(buf string, final bool, e *emitter) int {
	s := buf[:min(len(buf), maxCallSize)]
	res := scanMore
	for res == scanMore {
		before := c.fn.pos
		res = c.fn.step(s, c.strs)
		if res == scanMore && c.fn.pos == before {
			break
		}
	}
	end := c.fn.pos
	switch {
	case res == scanDone:
		e.add(EventToolCallArgs, e.start(c.fn.name), c.fn.args.String()+"}")
		c.mode, c.skip = coderBlock, 0
		return end
	case res == scanMore && len(s) < maxCallSize:
		if !final {
			return 0
		}
		e.unfinished(buf)
		c.mode, c.afterCall = coderText, false
		return len(buf)
	case res == scanMore:
		end = maxCallSize
	}
	e.add(EventContent, 0, buf[:end])
	c.mode, c.afterCall = coderText, false
	return end
}

// step parses what it can at f.pos in s, the held text: scanMore with pos
// unchanged means it needs more text; scanBad leaves pos at the wrong byte.
func (f *coderFunc) step(s string, strs map[string]map[string]bool) scanResult {
	switch f.state {
	case funcName:
		name, n, res := tagName(s[f.pos:])
		if res != scanDone {
			f.pos += n
			return res
		}
		f.name, f.state, f.pos = name, funcBody, f.pos+n
		f.args.WriteString("{")
		return scanMore
	case funcValue:
		end, skip := valueEnd(s, f.from)
		if end < 0 {
			f.from = max(f.value, len(s)-len(coderParamClose)+1)
			return scanMore
		}
		if f.params++; f.params > 1 {
			f.args.WriteString(", ")
		}
		f.args.WriteString(quoteJSON(f.param) + ": " + paramJSON(s[f.value:end], strs[f.name][f.param]))
		f.state, f.pos = funcBody, end+skip
		return scanMore
	}
	return f.body(s)
}

// body reads between parameters: the next one, </function> or stray text.
func (f *coderFunc) body(s string) scanResult {
	rest := strings.TrimLeft(s[f.pos:], pyWhitespace)
	at := len(s) - len(rest)
	switch {
	case strings.HasPrefix(rest, coderFuncClose):
		f.pos = at + len(coderFuncClose)
		return scanDone
	case strings.HasPrefix(rest, coderParamOpen):
		at += len(coderParamOpen)
		name, n, res := tagName(s[at:])
		if res == scanMore {
			return res
		}
		f.pos = at + n
		if res == scanDone {
			f.param, f.state = name, funcValue
			f.value, f.from = f.pos, f.pos
			return scanMore
		}
		return res
	case rest == "" || strings.HasPrefix(coderFuncClose, rest) || strings.HasPrefix(coderParamOpen, rest):
		return scanMore
	}
	if i := strings.IndexByte(rest[1:], '<'); i >= 0 {
		f.pos = at + 1 + i // skip stray text inside the function
	}
	return scanMore
}

// tagName reads "name>" at the start of s: n is the length read, or the
// offset of the byte that makes it malformed (none, or '<' or a newline
// before the '>').
func tagName(s string) (string, int, scanResult) {
	i := strings.IndexAny(s, "<>\n")
	switch {
	case i < 0:
		return "", 0, scanMore
	case s[i] != '>' || i == 0:
		return "", i, scanBad
	}
	return s[:i], i + 1, scanDone
}

// valueEnd finds the end of a parameter value in s, searching from from:
// the first </parameter>, <parameter= or </function>. skip is the length
// of a </parameter> that belongs to the value; -1 when none has arrived.
func valueEnd(s string, from int) (end, skip int) {
	end = -1
	for _, stop := range []string{coderParamClose, coderParamOpen, coderFuncClose} {
		if k := strings.Index(s[from:], stop); k >= 0 && (end < 0 || from+k < end) {
			end, skip = from+k, 0
			if stop == coderParamClose {
				skip = len(stop)
			}
		}
	}
	return end, skip
}

// paramJSON converts an XML parameter value to JSON; text is a parameter
// the schema types as a string.
func paramJSON(v string, text bool) string {
	v = strings.TrimPrefix(v, "\n")
	v = strings.TrimSuffix(v, "\n")
	if t := strings.TrimSpace(v); !text && t != "" && !strings.HasPrefix(t, `"`) && json.Valid([]byte(t)) {
		return t
	}
	return quoteJSON(v)
}

func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
