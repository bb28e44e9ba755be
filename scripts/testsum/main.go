// Command testsum reads `go test -json` and keeps the human-readable output
// going while it records every result, so make test can end with one line of
// totals and refuse a CI run that skipped anything.
//
// Stream mode (one per go test pass):
//
//	go test -json ./... | go run ./scripts/testsum -log .testlog/race.json
//
// prints the tests' output, appends the JSON to the log and exits 1 if a test
// or package failed or a package never finished (a crash or a kill).
//
// Summary mode (once, at the end):
//
//	go run ./scripts/testsum -summary .testlog/*.json
//
// prints when each log's pass ran and its slowest packages (where make
// test's time goes: the passes run two at a time), then
// "N passed, N failed, N skipped" over all the logs, lists the failed and
// skipped tests, and exits 1 on a failure, or on a skip when
// MLX_MANAGER_REQUIRE_ALL=1 (CI must have every resource).
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// event is the part of test2json's output that testsum reads.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64   // seconds, on a test's or package's pass or fail
	Time    time.Time // when test2json saw the event
}

// tally is the outcome of every test and package seen.
type tally struct {
	passed, failed, skipped []string // "package Test"
	failedPkgs              []string
	pkgSeconds              map[string]float64  // a finished package's wall time
	open                    map[string]bool     // packages started and not finished
	output                  map[string][]string // output of each running test
	why                     map[string]string   // a skipped test's last line of output
	first, last             time.Time           // the earliest and latest event
}

func newTally() *tally {
	return &tally{open: map[string]bool{}, output: map[string][]string{}, why: map[string]string{}, pkgSeconds: map[string]float64{}}
}

// add records e and returns the output to show now: like go test without -v,
// a test's output only when it fails, and every package-level line.
func (t *tally) add(e event) string {
	name := e.Package + " " + e.Test
	if !e.Time.IsZero() {
		if t.first.IsZero() || e.Time.Before(t.first) {
			t.first = e.Time
		}
		if e.Time.After(t.last) {
			t.last = e.Time
		}
	}
	if e.Action == "output" {
		if e.Test == "" {
			return e.Output
		}
		t.output[name] = append(t.output[name], e.Output)
		return ""
	}
	out := t.output[name]
	delete(t.output, name)
	switch {
	case e.Action == "start":
		t.open[e.Package] = true
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		delete(t.open, e.Package)
		t.pkgSeconds[e.Package] += e.Elapsed
		if e.Action == "fail" {
			t.failedPkgs = append(t.failedPkgs, e.Package)
		}
	case e.Test != "" && e.Action == "pass":
		t.passed = append(t.passed, name)
	case e.Test != "" && e.Action == "fail":
		t.failed = append(t.failed, name)
		return strings.Join(out, "")
	case e.Test != "" && e.Action == "skip":
		t.skipped = append(t.skipped, name)
		for _, l := range slices.Backward(out) {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--- SKIP") {
				t.why[name] = l
				break
			}
		}
	}
	return ""
}

// read feeds every event of r to t. Lines that are not JSON (a build error
// before test2json started) are written to echo as they are; with echo set,
// the output go test shows without -v is too.
func read(r io.Reader, t *tally, echo io.Writer, log io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			if echo != nil {
				fmt.Fprintf(echo, "%s\n", line)
			}
			continue
		}
		if log != nil {
			if _, err := fmt.Fprintf(log, "%s\n", line); err != nil {
				return fmt.Errorf("write log: %w", err)
			}
		}
		if show := t.add(e); echo != nil && show != "" {
			if _, err := io.WriteString(echo, show); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read go test -json: %w", err)
	}
	return nil
}

// slowest is one line naming the n packages that ran longest, "" when none
// reported a time.
func (t *tally) slowest(n int) string {
	pkgs := slices.Collect(maps.Keys(t.pkgSeconds))
	slices.SortFunc(pkgs, func(a, b string) int {
		if c := cmp.Compare(t.pkgSeconds[b], t.pkgSeconds[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, p := range pkgs[:min(n, len(pkgs))] {
		if t.pkgSeconds[p] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1fs", strings.TrimPrefix(p, module+"/"), t.pkgSeconds[p]))
		}
	}
	return strings.Join(parts, ", ")
}

// span says when the pass ran, from its first event to its last, in UTC,
// and how long that was; "" when no event had a time.
func (t *tally) span() string {
	if t.first.IsZero() {
		return ""
	}
	return fmt.Sprintf("%s to %s (%s)", t.first.UTC().Format(time.TimeOnly), t.last.UTC().Format(time.TimeOnly), t.last.Sub(t.first).Round(time.Second))
}

// module is trimmed from package names in the timing line.
const module = "github.com/mlx-manager/mlx-manager"

// report prints the failures and skips, then the totals line, and says whether
// the run is a failure.
func (t *tally) report(w io.Writer, totals, requireAll bool) (ok bool) {
	ok = true
	for _, n := range t.failed {
		fmt.Fprintf(w, "FAILED  %s\n", n)
	}
	for _, p := range t.failedPkgs {
		if !slices.ContainsFunc(t.failed, func(n string) bool { return strings.HasPrefix(n, p+" ") }) {
			fmt.Fprintf(w, "FAILED  %s (package: build, timeout or crash)\n", p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(t.open)) {
		fmt.Fprintf(w, "FAILED  %s (never finished)\n", p)
	}
	if len(t.failed)+len(t.failedPkgs)+len(t.open) > 0 {
		ok = false
	}
	if totals {
		for _, n := range t.skipped {
			fmt.Fprintf(w, "SKIPPED %s: %s\n", n, t.why[n])
		}
		fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", len(t.passed), len(t.failed), len(t.skipped))
		if requireAll && len(t.skipped) > 0 {
			fmt.Fprintf(w, "MLX_MANAGER_REQUIRE_ALL=1: %d tests skipped; CI must run every test\n", len(t.skipped))
			ok = false
		}
	}
	return ok
}

// merge adds o's results to t.
func (t *tally) merge(o *tally) {
	t.passed = append(t.passed, o.passed...)
	t.failed = append(t.failed, o.failed...)
	t.skipped = append(t.skipped, o.skipped...)
	t.failedPkgs = append(t.failedPkgs, o.failedPkgs...)
	maps.Copy(t.open, o.open)
	maps.Copy(t.why, o.why)
	for p, sec := range o.pkgSeconds {
		t.pkgSeconds[p] += sec
	}
}

func main() {
	logPath := flag.String("log", "", "stream mode: append the JSON events to this file")
	summary := flag.Bool("summary", false, "summary mode: total the JSON logs named as arguments")
	flag.Parse()
	if err := run(*logPath, *summary, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
}

var errFailed = errors.New("tests failed")

func run(logPath string, summary bool, files []string) error {
	t := newTally()
	if summary {
		if len(files) == 0 {
			return errors.New("-summary needs the JSON logs to total")
		}
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			one := newTally()
			err = read(f, one, nil, nil)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			var parts []string
			if span := one.span(); span != "" {
				parts = append(parts, span)
			}
			if line := one.slowest(5); line != "" {
				parts = append(parts, "slowest packages: "+line)
			}
			if len(parts) > 0 {
				fmt.Printf("%s: %s\n", filepath.Base(name), strings.Join(parts, ", "))
			}
			t.merge(one)
		}
		if !t.report(os.Stdout, true, os.Getenv("MLX_MANAGER_REQUIRE_ALL") == "1") {
			return errFailed
		}
		return nil
	}
	var log io.Writer
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		log = f
		err = read(os.Stdin, t, os.Stdout, log)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", logPath, cerr)
		}
		if err != nil {
			return err
		}
	} else if err := read(os.Stdin, t, os.Stdout, nil); err != nil {
		return err
	}
	if !t.report(os.Stdout, false, false) {
		return errFailed
	}
	return nil
}
