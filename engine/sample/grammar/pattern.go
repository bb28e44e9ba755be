package grammar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// compilePattern turns a JSON Schema pattern (an ECMA-262 regular expression,
// matched anywhere in the string unless anchored) into a node for the raw
// JSON string content. The subset: literals, ., classes with ranges and
// negation, \d \w \s and their negations, groups, alternation, and the
// quantifiers * + ? {n} {n,} {n,m}; ^ and $ only at the ends. Backreferences,
// lookaround and word boundaries are refused. Where a class admits non-ASCII
// characters, only a safe subset of them is generated (two-byte characters
// other than U+00A0, and CJK ideographs), so generation never produces a
// character the regex would reject.
func compilePattern(p string) (node, error) {
	r := &reParser{s: p}
	start := strings.HasPrefix(p, "^")
	if start {
		r.i = 1
	}
	n, err := r.alternation()
	if err != nil {
		return nil, err
	}
	end := false
	if r.i < len(r.s) && r.s[r.i] == '$' && r.i == len(r.s)-1 {
		end = true
		r.i++
	}
	if r.i != len(r.s) {
		return nil, fmt.Errorf("unsupported %q at offset %d", r.s[r.i], r.i)
	}
	anyText := rep{n: strChar, min: 0, max: -1}
	if !start {
		n = seq{anyText, n}
	}
	if !end {
		n = seq{n, anyText}
	}
	return n, nil
}

type reParser struct {
	s     string
	i     int
	depth int
}

func (r *reParser) peek() byte {
	if r.i < len(r.s) {
		return r.s[r.i]
	}
	return 0
}

func (r *reParser) alternation() (node, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxSchemaDepth {
		return nil, errors.New("nested too deeply")
	}
	var alts alt
	for {
		n, err := r.concat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
		if r.peek() != '|' {
			break
		}
		r.i++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (r *reParser) concat() (node, error) {
	var items seq
	for r.i < len(r.s) {
		c := r.s[r.i]
		if c == '|' || c == ')' || (c == '$' && r.i == len(r.s)-1) {
			break
		}
		atom, err := r.atom()
		if err != nil {
			return nil, err
		}
		if atom, err = r.quantifier(atom); err != nil {
			return nil, err
		}
		items = append(items, atom)
	}
	return items, nil
}

func (r *reParser) quantifier(atom node) (node, error) {
	lo, hi := 1, 1
	switch r.peek() {
	case '*':
		lo, hi = 0, -1
	case '+':
		lo, hi = 1, -1
	case '?':
		lo, hi = 0, 1
	case '{':
		end := strings.IndexByte(r.s[r.i:], '}')
		if end < 0 {
			return nil, errors.New("unclosed {")
		}
		body := r.s[r.i+1 : r.i+end]
		a, b, found := strings.Cut(body, ",")
		var err1, err2 error
		lo, err1 = strconv.Atoi(a)
		hi = lo
		if found {
			hi = -1
			if b != "" {
				hi, err2 = strconv.Atoi(b)
			}
		}
		if err1 != nil || err2 != nil || lo < 0 || (hi >= 0 && hi < lo) {
			return nil, fmt.Errorf("bad quantifier {%s}", body)
		}
		if lo > maxRepeat || hi > maxRepeat {
			return nil, fmt.Errorf("quantifier above %d", maxRepeat)
		}
		r.i += end
	default:
		return atom, nil
	}
	r.i++
	if r.peek() == '?' { // lazy: same language
		r.i++
	}
	return rep{n: atom, min: lo, max: hi}, nil
}

func (r *reParser) atom() (node, error) {
	c := r.s[r.i]
	switch c {
	case '(':
		r.i++
		if strings.HasPrefix(r.s[r.i:], "?:") {
			r.i += 2
		} else if strings.HasPrefix(r.s[r.i:], "?<") && !strings.HasPrefix(r.s[r.i:], "?<=") && !strings.HasPrefix(r.s[r.i:], "?<!") {
			end := strings.IndexByte(r.s[r.i:], '>')
			if end < 0 {
				return nil, errors.New("bad group name")
			}
			r.i += end + 1
		} else if r.peek() == '?' {
			return nil, errors.New("lookaround is not supported")
		}
		n, err := r.alternation()
		if err != nil {
			return nil, err
		}
		if r.peek() != ')' {
			return nil, errors.New("unclosed group")
		}
		r.i++
		return n, nil
	case '[':
		r.i++
		cs, err := r.class()
		if err != nil {
			return nil, err
		}
		return cs.node(), nil
	case '.':
		r.i++
		cs := charSet{nonASCII: true}
		cs.addRange(0, 127)
		cs.del('\n')
		cs.del('\r')
		return cs.node(), nil
	case '\\':
		r.i++
		cs, err := r.escape(false)
		if err != nil {
			return nil, err
		}
		return cs.node(), nil
	case '^', '$', ')', '*', '+', '?', '{', '}', '|', ']':
		return nil, fmt.Errorf("unsupported %q at offset %d", c, r.i)
	}
	ru, size := utf8.DecodeRuneInString(r.s[r.i:])
	r.i += size
	if ru < 128 {
		var cs charSet
		cs.add(byte(ru))
		return cs.node(), nil
	}
	return lit(string(ru)), nil
}

// class parses the inside of [...] after the '['.
func (r *reParser) class() (charSet, error) {
	var cs charSet
	negate := r.peek() == '^'
	if negate {
		r.i++
	}
	for {
		if r.i >= len(r.s) {
			return cs, errors.New("unclosed [")
		}
		c := r.s[r.i]
		if c == ']' {
			r.i++
			break
		}
		lo, single, err := r.classItem()
		if err != nil {
			return cs, err
		}
		if !single {
			cs.union(lo)
			continue
		}
		if r.peek() == '-' && r.i+1 < len(r.s) && r.s[r.i+1] != ']' {
			r.i++
			hi, hiSingle, err := r.classItem()
			if err != nil {
				return cs, err
			}
			a, b := lo.only(), hi.only()
			if !hiSingle || a < 0 || b < 0 || b < a {
				return cs, errors.New("bad range in class")
			}
			cs.addRange(byte(a), byte(b))
			continue
		}
		cs.union(lo)
	}
	if negate {
		if cs.nonASCII {
			return cs, errors.New("negated class with non-ASCII characters")
		}
		for w := range cs.ascii {
			cs.ascii[w] = ^cs.ascii[w]
		}
		cs.nonASCII = true
	}
	if cs == (charSet{}) {
		return cs, errors.New("empty class")
	}
	return cs, nil
}

// classItem reads one character or escape inside a class; single says it is
// one ASCII character (so it may start a range).
func (r *reParser) classItem() (charSet, bool, error) {
	var cs charSet
	c := r.s[r.i]
	if c == '\\' {
		r.i++
		cs, err := r.escape(true)
		return cs, cs.only() >= 0, err
	}
	if c >= 128 {
		return cs, false, errors.New("non-ASCII character in class")
	}
	r.i++
	cs.add(c)
	return cs, true, nil
}

// escape reads what follows a backslash.
func (r *reParser) escape(inClass bool) (charSet, error) {
	var cs charSet
	if r.i >= len(r.s) {
		return cs, errors.New("trailing backslash")
	}
	c := r.s[r.i]
	r.i++
	switch c {
	case 'd', 'D':
		cs.addRange('0', '9')
	case 'w', 'W':
		cs.addRange('a', 'z')
		cs.addRange('A', 'Z')
		cs.addRange('0', '9')
		cs.add('_')
	case 's', 'S':
		for _, b := range []byte(" \t\n\r\f\v") {
			cs.add(b)
		}
	case 'n':
		cs.add('\n')
	case 'r':
		cs.add('\r')
	case 't':
		cs.add('\t')
	case 'f':
		cs.add('\f')
	case 'v':
		cs.add('\v')
	case 'x', 'u':
		n := 2
		if c == 'u' {
			n = 4
		}
		if r.i+n > len(r.s) {
			return cs, errors.New("short escape")
		}
		v, err := strconv.ParseUint(r.s[r.i:r.i+n], 16, 32)
		if err != nil || v >= 128 {
			return cs, errors.New("only ASCII \\x and \\u escapes are supported")
		}
		r.i += n
		cs.add(byte(v))
	case 'b':
		if !inClass {
			return cs, errors.New("word boundaries are not supported")
		}
		cs.add('\b')
	default:
		if c >= '0' && c <= '9' || c == 'B' || c == 'k' || c == 'p' || c == 'P' || c == 'c' {
			return cs, fmt.Errorf("escape \\%c is not supported", c)
		}
		if c >= 128 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			return cs, fmt.Errorf("unknown escape \\%c", c)
		}
		cs.add(c)
	}
	if c == 'D' || c == 'W' || c == 'S' {
		if inClass {
			return cs, fmt.Errorf("\\%c inside a class is not supported", c)
		}
		for w := range cs.ascii {
			cs.ascii[w] = ^cs.ascii[w]
		}
		cs.nonASCII = true
	}
	return cs, nil
}

// charSet is a set of decoded characters: ASCII by bit, plus "some non-ASCII".
type charSet struct {
	ascii    [2]uint64
	nonASCII bool
}

func (c *charSet) add(b byte)      { c.ascii[b>>6] |= 1 << (b & 63) }
func (c *charSet) del(b byte)      { c.ascii[b>>6] &^= 1 << (b & 63) }
func (c *charSet) has(b byte) bool { return c.ascii[b>>6]&(1<<(b&63)) != 0 }
func (c *charSet) addRange(lo, hi byte) {
	for b := int(lo); b <= int(hi); b++ {
		c.add(byte(b))
	}
}
func (c *charSet) union(o charSet) {
	c.ascii[0] |= o.ascii[0]
	c.ascii[1] |= o.ascii[1]
	c.nonASCII = c.nonASCII || o.nonASCII
}

// only returns the single ASCII character in the set, or -1.
func (c *charSet) only() int {
	found := -1
	for b := range 128 {
		if c.has(byte(b)) {
			if found >= 0 {
				return -1
			}
			found = b
		}
	}
	if c.nonASCII {
		return -1
	}
	return found
}

// node encodes the set as JSON string content: quote and backslash escaped,
// control characters as escapes, everything else as UTF-8.
func (c charSet) node() node {
	var alts alt
	var raw byteSet
	short := map[byte]string{'\n': `\n`, '\r': `\r`, '\t': `\t`, '\b': `\b`, '\f': `\f`, '"': `\"`, '\\': `\\`}
	for b := range 128 {
		if !c.has(byte(b)) {
			continue
		}
		switch s, ok := short[byte(b)]; {
		case ok:
			alts = append(alts, lit(s))
		case b < 0x20:
			alts = append(alts, lit(fmt.Sprintf(`\u%04x`, b)))
		default:
			raw.add(byte(b))
		}
	}
	if raw != (byteSet{}) {
		alts = append(alts, class(raw))
	}
	if c.nonASCII {
		alts = append(alts,
			seq{lit{0xc2}, bytesIn(0x80, 0x9f, 0xa1, 0xbf)},
			seq{bytesIn(0xc3, 0xdf), cont},
			seq{bytesIn(0xe4, 0xe9), cont, cont})
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return alts
}
