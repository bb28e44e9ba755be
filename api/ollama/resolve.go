package ollama

import (
	"fmt"
	"slices"
	"strings"
)

// AmbiguousError is a name:tag that several local models match.
type AmbiguousError struct {
	Name       string
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("model %q is ambiguous: it matches %s; name one of them", e.Name, strings.Join(e.Candidates, ", "))
}

// Resolve maps an Ollama-style name onto one of ids (the local repo ids):
//   - an id itself, or an id with ":latest" ("org/name:latest");
//   - "name" or "name:tag" without an org: the ids whose name part, compared
//     without case, is name, or name-tag ("qwen2.5:0.5b" → "Qwen/Qwen2.5-0.5B");
//     a tag also matches a longer name that starts with name-tag
//     ("qwen2.5:0.5b" → "Qwen/Qwen2.5-0.5B-Instruct") when only one does;
//   - "org/name:tag": the same, within org.
//
// It returns "" when nothing matches and an *AmbiguousError when several do.
func Resolve(name string, ids []string) (string, error) {
	if slices.Contains(ids, name) {
		return name, nil
	}
	base, tag, _ := strings.Cut(name, ":")
	if tag == "latest" {
		tag = ""
	}
	if tag == "" && slices.Contains(ids, base) {
		return base, nil
	}
	org, short, hasOrg := strings.Cut(base, "/")
	if !hasOrg {
		org, short = "", base
	}
	want := strings.ToLower(short)
	if tag != "" {
		want += "-" + strings.ToLower(tag)
	}
	var exact, prefix []string
	for _, id := range ids {
		o, n, ok := strings.Cut(id, "/")
		if !ok || (hasOrg && !strings.EqualFold(o, org)) {
			continue
		}
		n = strings.ToLower(n)
		switch {
		case n == want:
			exact = append(exact, id)
		case tag != "" && strings.HasPrefix(n, want+"-"):
			prefix = append(prefix, id)
		}
	}
	for _, found := range [][]string{exact, prefix} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		return "", &AmbiguousError{Name: name, Candidates: found}
	}
	return "", nil
}
