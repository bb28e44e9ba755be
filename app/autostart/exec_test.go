package autostart

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// parseExec reads an Exec value as a desktop environment does (the reverse of
// execArg): first the string-value escapes, then the quoting, then `%%`.
func parseExec(v string) ([]string, error) {
	var s strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			s.WriteByte(v[i])
			continue
		}
		if i++; i == len(v) {
			return nil, errors.New("trailing backslash")
		}
		switch v[i] {
		case '\\':
			s.WriteByte('\\')
		case 'n':
			s.WriteByte('\n')
		case 't':
			s.WriteByte('\t')
		case 'r':
			s.WriteByte('\r')
		case 's':
			s.WriteByte(' ')
		default:
			return nil, errors.New("unknown escape \\" + string(v[i]))
		}
	}
	var args []string
	var cur strings.Builder
	in, quoted, started := s.String(), false, false
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case quoted && c == '\\':
			if i++; i == len(in) || !strings.ContainsRune("\"`$\\", rune(in[i])) {
				return nil, errors.New("bad escape in quotes")
			}
			cur.WriteByte(in[i])
		case quoted && c == '"':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '"':
			quoted, started = true, true
		case c == ' ':
			if started {
				args = append(args, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if started {
		args = append(args, cur.String())
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "%%", "%")
	}
	return args, nil
}

// FuzzExecArg checks that any program path and arguments survive the Exec line.
func FuzzExecArg(f *testing.F) {
	for _, s := range []string{"/usr/bin/x", "/a b/c", `/q"uote`, `/back\slash`, "/100%", "/$HOME", "/`x`", "%%f"} {
		f.Add(s, "serve")
	}
	f.Fuzz(func(t *testing.T, exe, arg string) {
		if !utf8.ValidString(exe) || !utf8.ValidString(arg) || strings.ContainsFunc(exe+arg, unicode.IsControl) {
			return // New refuses these, so there is no Exec line to check
		}
		want := []string{exe, arg}
		line := execArg(exe) + " " + execArg(arg)
		if strings.ContainsAny(line, "\n\r") {
			t.Fatalf("Exec value spans lines: %q", line)
		}
		got, err := parseExec(line)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Exec=%s parses to %q, %v; want %q", line, got, err, want)
		}
	})
}
