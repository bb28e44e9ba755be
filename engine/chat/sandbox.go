package chat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnsafeTemplate reports a template rejected at parse time because it
// could escape the render limits.
var ErrUnsafeTemplate = errors.New("unsafe chat template")

// ErrLimit reports a render stopped by one of the Limits.
var ErrLimit = errors.New("chat template limit exceeded")

// MaxTemplateSize bounds the template source. Real chat templates are a few
// kilobytes; the bound also caps the work the parser does on hostile input.
const MaxTemplateSize = 1 << 20

// maxExprDepth bounds bracket nesting inside one tag, which bounds the
// recursion of the library's recursive-descent expression parser.
const maxExprDepth = 64

// reserved prefixes the names of the guard callables injected into the
// template; a template that mentions it could reset its own budget.
const reserved = "__mlx"

// Limits bound one render. Templates come from downloaded models, so a
// render must end with an error instead of exhausting stack, CPU or memory.
type Limits struct {
	MaxSteps  int // loop iterations plus macro and caller calls
	MaxDepth  int // nesting of macro calls and recursive loops
	MaxOutput int // bytes of rendered text, also the largest value a template may build
}

// DefaultLimits are generous for every real chat template: a long
// conversation with dozens of tools takes a few thousand steps.
var DefaultLimits = Limits{MaxSteps: 1 << 20, MaxDepth: 200, MaxOutput: 32 << 20}

// body is an open loop, macro or call block while instrumenting.
type body struct {
	kind  string // "for", "macro" or "call"
	slot  int    // index of the guard tag in the output chunks
	rec   bool   // recursive for loop
	texts int    // literal text bytes directly inside the body
}

// instrument rewrites template source so that the library calls our guard
// callables: every loop iteration and macro call is counted, macro and
// recursive-loop depth is tracked, every printed value and assigned value is
// size-checked. Inserted tags use "{%+ ... +%}", which the library's
// whitespace handling skips over, so output is unchanged. It returns the
// rewritten source and the literal text outside any loop or macro.
func instrument(src string) (string, int, error) {
	if len(src) > MaxTemplateSize {
		return "", 0, fmt.Errorf("%w: template is %d bytes, limit %d", ErrUnsafeTemplate, len(src), MaxTemplateSize)
	}
	if strings.Contains(src, reserved) {
		return "", 0, fmt.Errorf("%w: template uses reserved name %s", ErrUnsafeTemplate, reserved)
	}
	tags, err := scanTags(src)
	if err != nil {
		return "", 0, err
	}
	var out []string
	var stack []*body
	top := 0
	for _, t := range tags {
		whole := src[t.start:t.end]
		switch t.kind {
		case tagText:
			if len(stack) > 0 {
				stack[len(stack)-1].texts += len(whole)
			} else {
				top += len(whole)
			}
			out = append(out, whole)
		case tagComment:
			out = append(out, whole)
		case tagExpr:
			e := src[t.body:t.bodyEnd]
			if bracketDepth(e) > maxExprDepth {
				return "", 0, fmt.Errorf("%w: expression nested deeper than %d", ErrUnsafeTemplate, maxExprDepth)
			}
			if strings.TrimSpace(e) != "" {
				whole = src[t.start:t.body] + " " + reserved + "_out((" + e + ")) " + src[t.bodyEnd:t.end]
			}
			out = append(out, whole)
		case tagStmt:
			out, stack, err = instrumentStmt(src, t, out, stack)
			if err != nil {
				return "", 0, err
			}
		}
	}
	if len(stack) > 0 {
		return "", 0, fmt.Errorf("unclosed %s block", stack[len(stack)-1].kind)
	}
	return strings.Join(out, ""), top, nil
}

// instrumentStmt rewrites one statement tag and maintains the block stack.
func instrumentStmt(src string, t tag, out []string, stack []*body) ([]string, []*body, error) {
	b := src[t.body:t.bodyEnd]
	if bracketDepth(b) > maxExprDepth {
		return nil, nil, fmt.Errorf("%w: statement nested deeper than %d", ErrUnsafeTemplate, maxExprDepth)
	}
	open, close := src[t.start:t.body], src[t.bodyEnd:t.end]
	switch kw := keyword(b); kw {
	case "set":
		out = append(out, open+rewriteSet(b)+close)
	case "for":
		nb, rec := rewriteFor(b)
		out = append(out, open+nb+close, "")
		stack = append(stack, &body{kind: "for", slot: len(out) - 1, rec: rec})
	case "macro", "call":
		if kw == "macro" && macroDefaultCalls(b) {
			return nil, nil, fmt.Errorf("%w: macro default values may not call functions", ErrUnsafeTemplate)
		}
		out = append(out, src[t.start:t.end], "")
		stack = append(stack, &body{kind: kw, slot: len(out) - 1})
	case "endfor", "endmacro", "endcall":
		kind := strings.TrimPrefix(kw, "end")
		if len(stack) == 0 || stack[len(stack)-1].kind != kind {
			return nil, nil, fmt.Errorf("unexpected %s", kw)
		}
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		cost := strconv.Itoa(top.texts)
		switch {
		case kind == "for" && top.rec:
			out[top.slot] = guardTag(reserved + "_rstep(" + cost + ", loop.depth)")
		case kind == "for":
			out[top.slot] = guardTag(reserved + "_step(" + cost + ")")
		default:
			out[top.slot] = guardTag(reserved + "_enter(" + cost + ")")
			out = append(out, guardTag(reserved+"_leave()"))
		}
		out = append(out, src[t.start:t.end])
	default:
		out = append(out, src[t.start:t.end])
	}
	return out, stack, nil
}

// guardTag is an inserted statement that calls a guard and prints nothing.
// The "+" markers keep the library's lstrip_blocks/trim_blocks from acting on
// it, and the library's explicit trims skip over statements to the nearest
// text, so surrounding whitespace renders exactly as without it.
func guardTag(call string) string {
	return "{%+ set " + reserved + "_g = " + call + " +%}"
}

// rewriteSet wraps the assigned value of "set x = v" in the value guard,
// splitting at the first "=" like the library does.
func rewriteSet(b string) string {
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(b), "set"))
	target, value, ok := strings.Cut(rest, "=")
	if !ok {
		return b // block set: its body is guarded tag by tag
	}
	return " set " + target + "= " + reserved + "_val((" + value + ")) "
}

// rewriteFor wraps the iterable of a for loop in the iteration guard, which
// rejects an oversized iterable before the library materialises it.
func rewriteFor(b string) (string, bool) {
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(b), "for"))
	in := findKeyword(rest, "in")
	if in < 0 {
		return b, false
	}
	vars, iter := rest[:in], rest[in+2:]
	tail := ""
	rec := false
	if i := findKeyword(iter, "recursive"); i >= 0 {
		iter, tail, rec = iter[:i], " recursive", true
	}
	if i := findKeyword(iter, "if"); i >= 0 {
		tail = " if " + iter[i+2:] + tail
		iter = iter[:i]
	}
	return " for " + vars + " in " + reserved + "_iter((" + iter + "))" + tail + " ", rec
}

// macroDefaultCalls reports whether a macro's parameter defaults contain a
// call. Defaults are evaluated before the macro body (where the depth guard
// sits), so "macro f(x=f())" would recurse unguarded. No real chat template
// calls anything in a default.
func macroDefaultCalls(b string) bool {
	_, params, ok := strings.Cut(b, "(")
	if !ok {
		return false
	}
	for i := 0; i < len(params); i++ {
		switch params[i] {
		case '\'', '"':
			i = skipQuoted(params, i) - 1
		case '(':
			return true
		}
	}
	return false
}
