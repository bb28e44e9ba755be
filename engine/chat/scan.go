package chat

import (
	"fmt"
	"strings"
	"unicode"
)

// tagKind identifies a scanned piece of template source.
type tagKind int

const (
	tagText tagKind = iota
	tagComment
	tagExpr
	tagStmt
)

// tag is one piece of template source. It mirrors the segmentation of
// github.com/ardanlabs/jinja (scan.go) exactly, so that rewriting the source
// tag by tag cannot change how the library splits it: same quote handling,
// same bracket depth rule for closers, same raw-block handling.
type tag struct {
	kind       tagKind
	start, end int // whole piece, delimiters included: src[start:end]
	body       int // start of the content (after "{%" and an optional -/+)
	bodyEnd    int // end of the content (before an optional -/+ and "%}")
}

// scanTags splits src into text, comment, expression and statement pieces.
func scanTags(src string) ([]tag, error) {
	var tags []tag
	i, textStart, raw := 0, 0, false
	for i < len(src) {
		if raw {
			if !strings.HasPrefix(src[i:], "{%") || !isEndRaw(src[i+2:]) {
				i++
				continue
			}
			raw = false
		}
		if src[i] != '{' || i+1 >= len(src) {
			i++
			continue
		}
		var kind tagKind
		var closer string
		switch src[i+1] {
		case '{':
			kind, closer = tagExpr, "}}"
		case '%':
			kind, closer = tagStmt, "%}"
		case '#':
			kind, closer = tagComment, "#}"
		default:
			i++
			continue
		}
		if i > textStart {
			tags = append(tags, tag{kind: tagText, start: textStart, end: i, body: textStart, bodyEnd: i})
		}
		t, err := scanOneTag(src, i, kind, closer)
		if err != nil {
			return nil, err
		}
		tags = append(tags, t)
		if kind == tagStmt && strings.TrimSpace(src[t.body:t.bodyEnd]) == "raw" {
			raw = true
		}
		i, textStart = t.end, t.end
	}
	if textStart < len(src) {
		tags = append(tags, tag{kind: tagText, start: textStart, end: len(src), body: textStart, bodyEnd: len(src)})
	}
	return tags, nil
}

// isEndRaw reports whether s (just after a "{%") holds an endraw tag.
func isEndRaw(s string) bool {
	end := strings.Index(s, "%}")
	return end >= 0 && strings.TrimSpace(strings.Trim(strings.TrimSpace(s[:end]), "-+")) == "endraw"
}

// scanOneTag scans the tag opening at src[open:].
func scanOneTag(src string, open int, kind tagKind, closer string) (tag, error) {
	i := open + 2
	if i < len(src) && (src[i] == '-' || src[i] == '+') {
		i++
	}
	t := tag{kind: kind, start: open, body: i}
	depth := 0
	for i < len(src) {
		ch := src[i]
		if kind != tagComment && (ch == '\'' || ch == '"') {
			i = skipQuoted(src, i)
			continue
		}
		if depth == 0 && (ch == '-' || ch == '+') && i+2 < len(src) && src[i+1] == closer[0] && src[i+2] == closer[1] {
			t.bodyEnd, t.end = i, i+3
			return t, nil
		}
		if depth == 0 && i+1 < len(src) && ch == closer[0] && src[i+1] == closer[1] {
			t.bodyEnd, t.end = i, i+2
			return t, nil
		}
		if kind != tagComment {
			switch ch {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth--
			}
		}
		i++
	}
	line := strings.Count(src[:open], "\n") + 1
	return tag{}, fmt.Errorf("unclosed tag at line %d", line)
}

// skipQuoted returns the index just past the string literal opening at i.
func skipQuoted(src string, i int) int {
	quote := src[i]
	i++
	for i < len(src) && src[i] != quote {
		if src[i] == '\\' && i+1 < len(src) {
			i++
		}
		i++
	}
	if i < len(src) {
		i++
	}
	return i
}

// keyword returns the first word of a statement body, as the library does.
func keyword(body string) string {
	body = strings.TrimSpace(body)
	for i, r := range body {
		if !unicode.IsLetter(r) && r != '_' {
			return body[:i]
		}
	}
	return body
}

// findKeyword finds kw in s outside brackets and string literals (the same
// rule the library uses to split "for x in y if z recursive").
func findKeyword(s, kw string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'' || ch == '"':
			i = skipQuoted(s, i) - 1
		case ch == '(' || ch == '[' || ch == '{':
			depth++
		case ch == ')' || ch == ']' || ch == '}':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], kw):
			before := i == 0 || !isIdent(s[i-1])
			after := i+len(kw) >= len(s) || !isIdent(s[i+len(kw)])
			if before && after {
				return i
			}
		}
	}
	return -1
}

func isIdent(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// bracketDepth returns the deepest bracket nesting in an expression, which
// bounds the recursion of the library's recursive-descent parser.
func bracketDepth(s string) int {
	depth, most := 0, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\'', '"':
			i = skipQuoted(s, i) - 1
		case '(', '[', '{':
			depth++
			most = max(most, depth)
		case ')', ']', '}':
			depth--
		}
	}
	return most
}
