package chat

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// guard holds the budget of one render. Its callables are handed to the
// template under reserved names; instrument makes the template call them.
// A render runs on one goroutine, so no locking is needed.
type guard struct {
	lim   Limits
	steps int
	depth int
	out   int
}

func newGuard(lim Limits, topText int) *guard {
	return &guard{lim: lim, out: topText}
}

func (g *guard) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrLimit}, args...)...)
}

// step charges one loop iteration or call and the literal text of its body.
func (g *guard) step(cost int) error {
	g.steps++
	g.out += cost
	if g.steps > g.lim.MaxSteps {
		return g.errf("more than %d loop iterations and calls", g.lim.MaxSteps)
	}
	if g.out > g.lim.MaxOutput {
		return g.errf("output larger than %d bytes", g.lim.MaxOutput)
	}
	return nil
}

// callables returns the guard functions, keyed by the names instrument uses.
func (g *guard) callables() map[string]jinja.Value {
	fn := func(name string, f func(args []jinja.Value) (jinja.Value, error)) jinja.Value {
		return jinja.NewCallable(name, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			return f(args)
		})
	}
	empty := jinja.NewString("")
	return map[string]jinja.Value{
		reserved + "_step": fn("step", func(a []jinja.Value) (jinja.Value, error) {
			return empty, g.step(intArg(a, 0))
		}),
		reserved + "_rstep": fn("rstep", func(a []jinja.Value) (jinja.Value, error) {
			if d := intArg(a, 1); d > g.lim.MaxDepth {
				return empty, g.errf("recursive loop deeper than %d", g.lim.MaxDepth)
			}
			return empty, g.step(intArg(a, 0))
		}),
		reserved + "_enter": fn("enter", func(a []jinja.Value) (jinja.Value, error) {
			g.depth++
			if g.depth > g.lim.MaxDepth {
				return empty, g.errf("macro calls nested deeper than %d", g.lim.MaxDepth)
			}
			return empty, g.step(intArg(a, 0))
		}),
		reserved + "_leave": fn("leave", func([]jinja.Value) (jinja.Value, error) {
			g.depth--
			return empty, nil
		}),
		reserved + "_iter": fn("iter", g.iter),
		reserved + "_out": fn("out", func(a []jinja.Value) (jinja.Value, error) {
			v := arg(a, 0)
			n, err := g.size(v, g.lim.MaxOutput-g.out)
			if err != nil {
				return v, err
			}
			g.out += n
			return v, nil
		}),
		reserved + "_val": fn("val", func(a []jinja.Value) (jinja.Value, error) {
			v := arg(a, 0)
			_, err := g.size(v, g.lim.MaxOutput)
			return v, err
		}),
	}
}

// iter rejects an iterable longer than the remaining step budget before the
// library expands it into one value per item.
func (g *guard) iter(a []jinja.Value) (jinja.Value, error) {
	v := arg(a, 0)
	n := 0
	switch {
	case v.IsList():
		n = v.AsList().Len()
	case v.IsDict():
		n = v.AsDict().Len()
	case v.IsString():
		n = utf8.RuneCountInString(v.AsString())
	}
	if g.steps+n > g.lim.MaxSteps {
		return v, g.errf("loop over %d items exceeds the %d iterations left of %d", n, g.lim.MaxSteps-g.steps, g.lim.MaxSteps)
	}
	return v, nil
}

// size estimates the printed size of v, stopping once it passes limit, and
// fails for values larger than limit or nested deeper than MaxDepth (the
// library prints and compares nested values recursively).
func (g *guard) size(v jinja.Value, limit int) (int, error) {
	n, ok := printedSize(v, limit, g.lim.MaxDepth)
	if !ok {
		return n, g.errf("value larger than %d bytes or nested deeper than %d", limit, g.lim.MaxDepth)
	}
	return n, nil
}

func printedSize(v jinja.Value, limit, depth int) (int, bool) {
	if depth < 0 {
		return 0, false
	}
	n := 0
	switch {
	case v.IsString():
		n = len(v.AsString())
	case v.IsList():
		n = 2
		for _, it := range v.AsList().Items {
			m, ok := printedSize(it, limit-n, depth-1)
			if n += m + 2; !ok || n > limit {
				return n, false
			}
		}
	case v.IsDict():
		n = 2
		d := v.AsDict()
		for _, k := range d.Keys {
			item, _ := d.Get(k)
			m, ok := printedSize(item, limit-n, depth-1)
			if n += len(k) + m + 6; !ok || n > limit {
				return n, false
			}
		}
	default:
		n = 24 // numbers, booleans, none
	}
	return n, n <= limit
}

func arg(a []jinja.Value, i int) jinja.Value {
	if i < len(a) {
		return a[i]
	}
	return jinja.Undefined()
}

func intArg(a []jinja.Value, i int) int {
	v := arg(a, i)
	if v.IsInt() {
		return int(v.AsInt())
	}
	return 0
}

// globals are the sandboxed replacements for the library's range,
// raise_exception and strftime_now; user data shadows the library builtins.
func (g *guard) globals(now time.Time) map[string]jinja.Value {
	return map[string]jinja.Value{
		"range": jinja.NewCallable("range", g.rangeFn),
		"raise_exception": jinja.NewCallable("raise_exception", func(a []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			msg := ""
			if len(a) > 0 {
				msg = printString(a[0])
			}
			return jinja.Undefined(), &RaiseError{Message: msg}
		}),
		"strftime_now": jinja.NewCallable("strftime_now", func(a []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			format := "%Y-%m-%d"
			if len(a) > 0 && a[0].IsString() {
				format = a[0].AsString()
			}
			return jinja.NewString(strftime(now, format)), nil
		}),
	}
}

// rangeFn is Python's range, refusing more items than the step budget has
// left: the library's range allocates every item up front.
func (g *guard) rangeFn(a []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	for _, v := range a {
		if !v.IsInt() {
			return jinja.Undefined(), fmt.Errorf("range: arguments must be integers")
		}
	}
	var start, stop, step int64 = 0, 0, 1
	switch len(a) {
	case 1:
		stop = a[0].AsInt()
	case 2:
		start, stop = a[0].AsInt(), a[1].AsInt()
	case 3:
		start, stop, step = a[0].AsInt(), a[1].AsInt(), a[2].AsInt()
	default:
		return jinja.Undefined(), fmt.Errorf("range: expected 1 to 3 arguments, got %d", len(a))
	}
	if step == 0 {
		return jinja.Undefined(), fmt.Errorf("range: step must not be zero")
	}
	n := rangeLen(start, stop, step)
	if n > float64(g.lim.MaxSteps-g.steps) {
		return jinja.Undefined(), g.errf("range of %.0f items exceeds the %d iterations left of %d", n, g.lim.MaxSteps-g.steps, g.lim.MaxSteps)
	}
	items := make([]jinja.Value, 0, int(n))
	for i := start; len(items) < int(n); i += step {
		items = append(items, jinja.NewInt(i))
	}
	return jinja.NewList(items), nil
}

func rangeLen(start, stop, step int64) float64 {
	n := math.Ceil((float64(stop) - float64(start)) / float64(step))
	return max(n, 0)
}

// printString renders a value the way Jinja's print does.
func printString(v jinja.Value) string {
	switch {
	case v.IsString():
		return v.AsString()
	case v.IsUndefined():
		return ""
	}
	return v.String()
}

// RaiseError is returned when a template calls raise_exception, typically
// because the conversation does not fit the model's expected shape
// (alternating roles, unsupported system message). Callers map it to a
// client error.
type RaiseError struct{ Message string }

func (e *RaiseError) Error() string { return "chat template: " + e.Message }
