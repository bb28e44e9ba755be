package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errUsage marks a mistake in the command line: exit code 2, as flag and the
// go tool use, so scripts can tell "you called me wrong" from "it failed".
var errUsage = errors.New("usage")

// reportedUsage is a usage error the flag package has already printed, with the
// command's flags: Main only sets the exit code.
type reportedUsage struct{ err error }

func (e reportedUsage) Error() string   { return e.err.Error() }
func (e reportedUsage) Unwrap() []error { return []error{errUsage, e.err} }

// parseFlags is fs.Parse with the exit-code convention and a "did you mean"
// for a mistyped flag.
func parseFlags(fs *flag.FlagSet, args []string) error {
	return flagError(fs, fs.Parse(args))
}

// flagError turns what fs.Parse returned into a usage error.
func flagError(fs *flag.FlagSet, err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := closest(strings.TrimLeft(name, "-"), names); s != "" {
			fmt.Fprintf(fs.Output(), "did you mean --%s?\n", s)
		}
	}
	return reportedUsage{err}
}

// exitCode prints err the way the user should see it and returns the process
// exit code: 0 ok, 1 failure, 2 usage.
func exitCode(name string, err error, stderr io.Writer) int {
	var reported reportedUsage
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &reported):
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "mlx-manager %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "mlx-manager %s: %v\n", name, err)
		return 1
	}
}

// closest is the candidate nearest to s by edit distance, or "" when none is
// near enough to be a typo (at most a third of the word, and 1 for short ones).
func closest(s string, candidates []string) string {
	best, bestD := "", len(s)/3+1
	for _, c := range candidates {
		if strings.HasPrefix(c, s) && len(s) >= 3 {
			return c
		}
		if d := editDistance(s, c); d <= bestD && (best == "" || d < editDistance(s, best)) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance counting an adjacent swap as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j]: distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: mlx-manager [command] [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.usage)
	}
	b.WriteString("\nWithout a command, mlx-manager serves. Run 'mlx-manager <command> -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}
