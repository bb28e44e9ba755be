package chat

// maxCallSize bounds how much text after a tool-call marker is held back
// while it is still a well-formed but unfinished JSON value. Malformed text
// is released at its first wrong byte, so only JSON this long is affected:
// it is passed on as content rather than held to the end of the output.
const maxCallSize = 256 << 10

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// maxDepth is encoding/json's nesting limit, so that what the scanner
// accepts is exactly what json.Valid accepts.
const maxDepth = 10000

// scanResult says where a jsonScan stands.
type scanResult int

const (
	scanMore scanResult = iota // a proper prefix of a value so far
	scanDone                   // the value is complete: see end
	scanBad                    // not a value: pos is the first wrong byte
	scanCut                    // (heldValue only) the output ended inside the value
)

type scanState uint8

const (
	stTop     scanState = iota // leading whitespace, then '{' (or '[')
	stObjOpen                  // after '{': a key or '}'
	stKey                      // after ',' in an object: a key
	stColon                    // after a key
	stValue                    // a value
	stArrOpen                  // after '[': a value or ']'
	stAfter                    // after a value: ',' or the closing bracket
	stStr                      // inside a string
	stEsc                      // after a backslash
	stHex                      // inside \uXXXX
	stLit                      // inside true, false or null
	stNeg                      // after '-'
	stZero                     // a number's leading 0
	stInt                      // integer digits
	stDot                      // after the decimal point
	stFrac                     // fraction digits
	stExp                      // after 'e'
	stExpSign                  // after the exponent's sign
	stExpDig                   // exponent digits
)

// jsonScan checks, byte by byte, that held-back text is a JSON object (or,
// with arrays, an array) with RFC 8259 syntax. A malformed call is found at
// its first wrong byte, a complete one at its closing bracket, and both
// depend only on the text, never on how it arrived. feed resumes where the
// last call stopped, so a held call costs linear time however finely it is
// fed. The zero value scans an object after optional whitespace.
type jsonScan struct {
	arrays bool // accept a top-level array too
	pos    int  // bytes scanned
	start  int  // offset of the top-level value
	end    int  // offset just past it once complete
	state  scanState
	done   scanResult
	key    bool   // the string being scanned is an object key
	lit    string // the rest of a literal
	hex    int    // \u digits still expected
	stack  []byte // open '{' and '['
}

// feed scans the text (which extends what earlier calls saw) up to
// maxCallSize bytes; an unfinished value that long is scanBad there.
func (j *jsonScan) feed(s string) scanResult {
	lim := min(len(s), maxCallSize)
	for j.done == scanMore && j.pos < lim {
		j.step(s[j.pos])
		if j.done != scanBad {
			j.pos++
		}
	}
	if j.done == scanMore && j.pos >= maxCallSize {
		j.done = scanBad
	}
	return j.done
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// step consumes one byte; a byte that ends a number is looked at again in
// the state after the number.
func (j *jsonScan) step(c byte) {
	switch j.state {
	case stStr:
		switch {
		case c == '"':
			j.state = stAfter
			if j.key {
				j.state = stColon
			}
		case c == '\\':
			j.state = stEsc
		case c < 0x20:
			j.done = scanBad
		}
	case stEsc:
		switch c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j.state = stStr
		case 'u':
			j.state, j.hex = stHex, 4
		default:
			j.done = scanBad
		}
	case stHex:
		if !isHex(c) {
			j.done = scanBad
			return
		}
		if j.hex--; j.hex == 0 {
			j.state = stStr
		}
	case stLit:
		if c != j.lit[0] {
			j.done = scanBad
			return
		}
		if j.lit = j.lit[1:]; j.lit == "" {
			j.state = stAfter
		}
	case stNeg, stZero, stInt, stDot, stFrac, stExp, stExpSign, stExpDig:
		if !j.number(c) {
			j.state = stAfter
			j.step(c)
		}
	default:
		j.structure(c)
	}
}

// structure handles the states between tokens.
func (j *jsonScan) structure(c byte) {
	if isJSONSpace(c) {
		return
	}
	switch j.state {
	case stTop:
		if c == '{' || c == '[' && j.arrays {
			j.start = j.pos
			j.open(c)
			return
		}
	case stObjOpen, stKey:
		if c == '"' {
			j.state, j.key = stStr, true
			return
		}
		if c == '}' && j.state == stObjOpen {
			j.close()
			return
		}
	case stColon:
		if c == ':' {
			j.state = stValue
			return
		}
	case stArrOpen:
		if c == ']' {
			j.close()
			return
		}
		j.value(c)
		return
	case stValue:
		j.value(c)
		return
	case stAfter:
		top := j.stack[len(j.stack)-1]
		switch {
		case c == ',' && top == '{':
			j.state = stKey
			return
		case c == ',':
			j.state = stValue
			return
		case c == '}' && top == '{' || c == ']' && top == '[':
			j.close()
			return
		}
	}
	j.done = scanBad
}

// value starts the value whose first byte is c.
func (j *jsonScan) value(c byte) {
	switch {
	case c == '{' || c == '[':
		j.open(c)
	case c == '"':
		j.state, j.key = stStr, false
	case c == '-':
		j.state = stNeg
	case c == '0':
		j.state = stZero
	case c >= '1' && c <= '9':
		j.state = stInt
	case c == 't':
		j.state, j.lit = stLit, "rue"
	case c == 'f':
		j.state, j.lit = stLit, "alse"
	case c == 'n':
		j.state, j.lit = stLit, "ull"
	default:
		j.done = scanBad
	}
}

func (j *jsonScan) open(c byte) {
	if len(j.stack) == maxDepth {
		j.done = scanBad
		return
	}
	j.stack = append(j.stack, c)
	j.state = stObjOpen
	if c == '[' {
		j.state = stArrOpen
	}
}

func (j *jsonScan) close() {
	j.stack = j.stack[:len(j.stack)-1]
	j.state = stAfter
	if len(j.stack) == 0 {
		j.done, j.end = scanDone, j.pos+1
	}
}

// number advances a number; false means c is not part of it. A number
// cut short (after '-', '.', 'e' or a sign) makes the text invalid.
func (j *jsonScan) number(c byte) bool {
	digit := c >= '0' && c <= '9'
	switch j.state {
	case stNeg:
		switch {
		case c == '0':
			j.state = stZero
		case digit:
			j.state = stInt
		default:
			j.done = scanBad
		}
		return true
	case stZero, stInt, stFrac:
		switch {
		case digit && j.state != stZero:
		case c == '.' && j.state != stFrac:
			j.state = stDot
		case c == 'e' || c == 'E':
			j.state = stExp
		default:
			return false
		}
		return true
	case stDot:
		j.state = stFrac
	case stExp:
		if c == '+' || c == '-' {
			j.state = stExpSign
			return true
		}
		j.state = stExpDig
	case stExpSign:
		j.state = stExpDig
	case stExpDig:
		return digit
	}
	if !digit {
		j.done = scanBad
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
