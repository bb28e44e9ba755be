package main

import (
	"strings"
	"testing"
)

// A pass with a passed, a failed and a skipped test, a package that never
// finished (killed) and a line of build output before test2json started.
const sample = `# example.com/broken
{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Test":"TestNeedsModel","Output":"    x_test.go:9: resource missing: shared/models\n"}
{"Action":"output","Package":"a","Test":"TestNeedsModel","Output":"--- SKIP: TestNeedsModel (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestNeedsModel"}
{"Action":"output","Package":"a","Test":"TestBroken","Output":"    x_test.go:12: broken\n"}
{"Action":"fail","Package":"a","Test":"TestBroken"}
{"Action":"output","Package":"a","Output":"FAIL\ta\t0.1s\n"}
{"Action":"fail","Package":"a"}
{"Action":"start","Package":"b"}
{"Action":"pass","Package":"b","Test":"TestB"}
`

func TestTally(t *testing.T) {
	tl := newTally()
	var echo strings.Builder
	if err := read(strings.NewReader(sample), tl, &echo, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := echo.String(), "# example.com/broken\n    x_test.go:12: broken\nFAIL\ta\t0.1s\n"; got != want {
		t.Errorf("echoed %q, want %q: the build line, the failed test's output and the package line", got, want)
	}
	var out strings.Builder
	if tl.report(&out, true, false) {
		t.Error("a run with a failed test and an unfinished package reported ok")
	}
	for _, want := range []string{
		"FAILED  a TestBroken\n",
		"FAILED  b (never finished)\n",
		"SKIPPED a TestNeedsModel: x_test.go:9: resource missing: shared/models\n",
		"2 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSkipFailsWhenRequireAll(t *testing.T) {
	const run = `{"Action":"start","Package":"a"}
{"Action":"pass","Package":"a","Test":"TestOK"}
{"Action":"skip","Package":"a","Test":"TestNeedsModel"}
{"Action":"pass","Package":"a"}
`
	for _, requireAll := range []bool{false, true} {
		tl := newTally()
		if err := read(strings.NewReader(run), tl, nil, nil); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if ok := tl.report(&out, true, requireAll); ok == requireAll {
			t.Errorf("requireAll=%v: ok=%v with one skip\n%s", requireAll, ok, out.String())
		}
	}
}

func TestSlowest(t *testing.T) {
	const run = `{"Action":"start","Package":"github.com/mlx-manager/mlx-manager/app"}
{"Action":"pass","Package":"github.com/mlx-manager/mlx-manager/app","Test":"TestA","Elapsed":9}
{"Action":"pass","Package":"github.com/mlx-manager/mlx-manager/app","Elapsed":12.5}
{"Action":"fail","Package":"github.com/mlx-manager/mlx-manager/api","Elapsed":30}
{"Action":"pass","Package":"github.com/mlx-manager/mlx-manager/store","Elapsed":1}
{"Action":"skip","Package":"github.com/mlx-manager/mlx-manager/e2e"}
`
	tl := newTally()
	if err := read(strings.NewReader(run), tl, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := tl.slowest(2), "api 30.0s, app 12.5s"; got != want {
		t.Errorf("slowest(2) = %q, want %q: packages by their own time, not their tests'", got, want)
	}
	if got, want := tl.slowest(10), "api 30.0s, app 12.5s, store 1.0s"; got != want {
		t.Errorf("slowest(10) = %q, want %q: a package without a time is left out", got, want)
	}
	all := newTally()
	all.merge(tl)
	all.merge(tl)
	if got, want := all.slowest(1), "api 60.0s"; got != want || len(all.passed) != 2 {
		t.Errorf("merged twice: slowest %q (want %q), %d passed (want 2)", got, want, len(all.passed))
	}
}

func TestSpan(t *testing.T) {
	const run = `{"Time":"2026-12-06T07:09:15.4Z","Action":"start","Package":"a"}
{"Time":"2026-12-06T07:11:49.6Z","Action":"pass","Package":"b","Elapsed":1}
{"Time":"2026-12-06T07:09:20Z","Action":"pass","Package":"a","Elapsed":4.6}
{"Action":"pass","Package":"c","Elapsed":1}
`
	tl := newTally()
	if err := read(strings.NewReader(run), tl, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := tl.span(), "07:09:15 to 07:11:49 (2m34s)"; got != want {
		t.Errorf("span() = %q, want %q: from the earliest event to the latest, whatever their order", got, want)
	}
	if got := newTally().span(); got != "" {
		t.Errorf("span() of a log without times = %q, want \"\"", got)
	}
}
