package grammar

import (
	"fmt"
	"math"
	"slices"
)

type prop struct {
	name     string
	schema   *value
	required bool
}

func (c *compiler) object(s *value, path string) (node, error) {
	var props []prop
	if ps, ok := s.get("properties"); ok {
		if ps.kind != 'o' {
			return nil, invalid(path, "properties must be an object")
		}
		for _, m := range ps.obj {
			if slices.ContainsFunc(props, func(p prop) bool { return p.name == m.key }) {
				return nil, invalid(path, "duplicate property %q", m.key)
			}
			props = append(props, prop{name: m.key, schema: m.val})
		}
	}
	if req, ok := s.get("required"); ok {
		if req.kind != 'a' {
			return nil, invalid(path, "required must be an array")
		}
		for _, r := range req.arr {
			if r.kind != 's' {
				return nil, invalid(path, "required must hold strings")
			}
			i := slices.IndexFunc(props, func(p prop) bool { return p.name == r.str })
			if i < 0 { // required but not described: additionalProperties decides
				extra, ok := s.get("additionalProperties")
				if !ok {
					extra = &value{kind: 'b', boolean: true}
				}
				props = append(props, prop{name: r.str, schema: extra})
				i = len(props) - 1
			}
			props[i].required = true
		}
	}
	var kvs []node
	var kept []prop
	for _, p := range props {
		if p.schema.kind == 'b' && !p.schema.boolean {
			if p.required {
				return nil, invalid(path, "required property %q has schema false", p.name)
			}
			continue // may never appear
		}
		r, err := c.schema(p.schema, path+"/properties/"+p.name)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, seq{lit(quote(p.name) + ":"), ws, call{r}})
		kept = append(kept, p)
	}
	extra, err := c.extraMember(s, props, path)
	if err != nil {
		return nil, err
	}
	return seq{lit("{"), members(kept, kvs, extra, 0, false), lit("}")}, nil
}

// members is the object body from property i on; started says whether a member
// has been written (so the next needs a comma). Properties come in schema
// order; optional ones may be skipped.
func members(props []prop, kvs []node, extra node, i int, started bool) node {
	sep := seq{}
	if started {
		sep = seq{lit(","), ws}
	}
	if i == len(props) {
		if extra == nil {
			return seq{}
		}
		more := rep{n: seq{lit(","), ws, extra}, min: 0, max: -1}
		if started {
			return more
		}
		return opt(seq{extra, more})
	}
	with := seq{sep, kvs[i], members(props, kvs, extra, i+1, true)}
	switch {
	case props[i].required:
		return with
	case started: // linear: the rest does not depend on whether this one is present
		return seq{opt(seq{sep, kvs[i]}), members(props, kvs, extra, i+1, true)}
	default:
		return alt{members(props, kvs, extra, i+1, false), with}
	}
}

// extraMember is one additional "key": value member, or nil if none are allowed.
// additionalProperties absent means none when properties are listed (output
// that omits them is still valid, and keeps generation on the schema) and any
// when the schema says nothing about properties.
func (c *compiler) extraMember(s *value, props []prop, path string) (node, error) {
	ap, ok := s.get("additionalProperties")
	if !ok {
		if len(props) > 0 {
			return nil, nil
		}
		ap = &value{kind: 'b', boolean: true}
	}
	if ap.kind == 'b' && !ap.boolean {
		return nil, nil
	}
	r, err := c.schema(ap, path+"/additionalProperties")
	if err != nil {
		return nil, err
	}
	key := node(call{c.str})
	if len(props) > 0 {
		names := make([]string, len(props))
		for i, p := range props {
			names[i] = p.name
		}
		key = keyNotIn(names)
	}
	return seq{key, lit(":"), ws, call{r}}, nil
}

// keyChars are the characters of generated additional property names.
var keyChars = bytesIn('a', 'z', 'A', 'Z', '0', '9', '_', '_', '-', '-')

// keyNotIn matches a quoted key of keyChars that is none of names, so an
// additional property never repeats a declared one (a duplicate key would
// escape the declared property's schema).
func keyNotIn(names []string) node {
	type tnode struct {
		kids map[byte]*tnode
		end  bool
	}
	root := &tnode{kids: map[byte]*tnode{}}
	allowed := byteSet(keyChars)
	for _, n := range names {
		t := root
		for i := 0; i < len(n); i++ {
			if !allowed.has(n[i]) {
				t = nil // a name outside keyChars can never be generated
				break
			}
			k, ok := t.kids[n[i]]
			if !ok {
				k = &tnode{kids: map[byte]*tnode{}}
				t.kids[n[i]] = k
			}
			t = k
		}
		if t != nil {
			t.end = true
		}
	}
	anyRest := rep{n: keyChars, min: 0, max: -1}
	var build func(t *tnode, depth int) node
	build = func(t *tnode, depth int) node {
		var alts alt
		if depth > 0 && !t.end {
			alts = append(alts, seq{})
		}
		others := byteSet(keyChars)
		kids := make([]byte, 0, len(t.kids))
		for b := range t.kids {
			kids = append(kids, b)
		}
		slices.Sort(kids) // deterministic automaton numbering
		for _, b := range kids {
			others[b>>6] &^= 1 << (b & 63)
			alts = append(alts, seq{lit{b}, build(t.kids[b], depth+1)})
		}
		alts = append(alts, seq{class(others), anyRest})
		return alts
	}
	return seq{lit(`"`), build(root, 0), lit(`"`)}
}

func (c *compiler) array(s *value, path string) (node, error) {
	var item node = call{c.anyValue}
	if it, ok := s.get("items"); ok {
		if it.kind == 'a' {
			return nil, unsupported(path, `keyword "items" as an array (tuple form)`)
		}
		if it.kind == 'b' && !it.boolean {
			item = nil
		} else {
			r, err := c.schema(it, path+"/items")
			if err != nil {
				return nil, err
			}
			item = call{r}
		}
	}
	lo, hi, err := countRange(s, "minItems", "maxItems", path)
	if err != nil {
		return nil, err
	}
	if item == nil {
		hi = 0
	}
	if lo > hi && hi >= 0 {
		return nil, invalid(path, "minItems above maxItems")
	}
	more := seq{lit(","), ws, item}
	switch {
	case hi == 0:
		return lit("[]"), nil
	case lo == 0:
		return seq{lit("["), opt(seq{item, rep{n: more, min: 0, max: dec(hi)}}), lit("]")}, nil
	}
	return seq{lit("["), item, rep{n: more, min: lo - 1, max: dec(hi)}, lit("]")}, nil
}

// countRange reads a pair of non-negative integer keywords; hi is -1 when absent.
func countRange(s *value, minKw, maxKw, path string) (lo, hi int, err error) {
	get := func(kw string, def int) (int, error) {
		v, ok := s.get(kw)
		if !ok {
			return def, nil
		}
		n, err := v.num.Int64()
		if v.kind != 'n' || err != nil || n < 0 {
			return 0, invalid(path, "%s must be a non-negative integer", kw)
		}
		if n > maxRepeat {
			return 0, unsupported(path, fmt.Sprintf("keyword %q above %d", kw, maxRepeat))
		}
		return int(n), nil
	}
	if lo, err = get(minKw, 0); err != nil {
		return 0, 0, err
	}
	if hi, err = get(maxKw, -1); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}

func (c *compiler) string(s *value, path string) (node, error) {
	lo, hi, err := countRange(s, "minLength", "maxLength", path)
	if err != nil {
		return nil, err
	}
	if lo > hi && hi >= 0 {
		return nil, invalid(path, "minLength above maxLength")
	}
	f, hasFormat := s.get("format")
	p, hasPattern := s.get("pattern")
	lengths := lo > 0 || hi >= 0
	switch {
	case hasFormat && (hasPattern || lengths):
		return nil, unsupported(path, `keyword "format" combined with pattern or length limits`)
	case hasPattern && lengths:
		return nil, unsupported(path, `keyword "pattern" combined with length limits`)
	case hasFormat:
		if f.kind != 's' {
			return nil, invalid(path, "format must be a string")
		}
		n, ok := formats[f.str]
		if !ok {
			return nil, unsupported(path, fmt.Sprintf("format %q", f.str))
		}
		return seq{lit(`"`), n, lit(`"`)}, nil
	case hasPattern:
		if p.kind != 's' {
			return nil, invalid(path, "pattern must be a string")
		}
		n, err := compilePattern(p.str)
		if err != nil {
			return nil, unsupported(path, fmt.Sprintf("pattern %q: %v", p.str, err))
		}
		return seq{lit(`"`), n, lit(`"`)}, nil
	case lengths:
		return stringOf(lo, hi), nil
	}
	return call{c.str}, nil
}

// maxInt bounds generated integers: 16 digits, within float64's exact range.
const maxInt = 1e16 - 1

func (c *compiler) number(s *value, t, path string) (node, error) {
	bound := func(kw string) (float64, bool, error) {
		v, ok := s.get(kw)
		if !ok {
			return 0, false, nil
		}
		f, err := v.num.Float64()
		if v.kind != 'n' || err != nil {
			return 0, false, invalid(path, "%s must be a number", kw)
		}
		return f, true, nil
	}
	lo, hi := -maxInt, maxInt
	limited := false
	for _, b := range []struct {
		kw        string
		lower     bool
		exclusive bool
	}{{"minimum", true, false}, {"exclusiveMinimum", true, true}, {"maximum", false, false}, {"exclusiveMaximum", false, true}} {
		f, ok, err := bound(b.kw)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if t != "integer" {
			return nil, unsupported(path, fmt.Sprintf("keyword %q on non-integer numbers", b.kw))
		}
		limited = true
		if b.lower {
			v := math.Ceil(f)
			if b.exclusive && v == f {
				v++
			}
			lo = max(lo, v)
		} else {
			v := math.Floor(f)
			if b.exclusive && v == f {
				v--
			}
			hi = min(hi, v)
		}
	}
	switch {
	case t == "number":
		return number, nil
	case !limited:
		return intPart, nil
	case lo > hi:
		return nil, invalid(path, "no integer between the bounds")
	}
	return intRange(int64(lo), int64(hi)), nil
}
