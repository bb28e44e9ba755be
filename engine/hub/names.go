package hub

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	repoIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)
	// Blob names are git sha1 (40 hex) or LFS sha256 (64 hex); other hubs may use other
	// opaque tags, so allow a conservative file-name alphabet that can never be a path.
	etagPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	sha256Hex   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	sha1Hex     = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// maxRepoIDLen bounds ids well above the Hub's own limit (96 per part).
const maxRepoIDLen = 200

// ValidRepoID reports whether id is "org/name" with the characters the Hub allows.
// Only such ids are ever turned into cache paths or URLs.
func ValidRepoID(id string) bool {
	if len(id) > maxRepoIDLen || !repoIDPattern.MatchString(id) {
		return false
	}
	// "org/.." style names pass the pattern (dots are legal) but would be path tricks.
	org, name, _ := strings.Cut(id, "/")
	return !strings.Contains(org, "..") && !strings.Contains(name, "..") && !strings.HasSuffix(name, ".")
}

func checkRepoID(id string) error {
	if !ValidRepoID(id) {
		return fmt.Errorf("%w: %q (want org/name)", ErrInvalidRepoID, id)
	}
	return nil
}

// CheckFileName validates a file name as listed by the Hub (a repo-relative path with
// forward slashes) before any local path is built from it.
func CheckFileName(name string) error {
	if err := checkFileName(name); err != nil {
		return fmt.Errorf("%w: %q: %s", ErrUnsafePath, name, err)
	}
	return nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

func checkFileName(name string) error {
	switch {
	case name == "":
		return nameError("empty")
	case len(name) > 1024:
		return nameError("too long")
	case !utf8.ValidString(name):
		return nameError("not utf-8")
	case strings.HasPrefix(name, "/"):
		return nameError("absolute path")
	case strings.ContainsRune(name, '\\'):
		return nameError("backslash")
	case len(name) >= 2 && name[1] == ':':
		return nameError("drive letter")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return nameError("control character")
		}
	}
	for _, part := range strings.Split(name, "/") {
		switch part {
		case "":
			return nameError("empty path element")
		case ".", "..":
			return nameError("dot path element")
		}
	}
	return nil
}

func checkCommit(sha string) error {
	if !commitPattern.MatchString(sha) {
		return fmt.Errorf("%w: commit %q is not a 40-hex sha", ErrBadResponse, sha)
	}
	return nil
}

func checkEtag(etag string) error {
	if !etagPattern.MatchString(etag) {
		return fmt.Errorf("%w: blob name %q", ErrUnsafePath, etag)
	}
	return nil
}

// normalizeEtag strips the weak marker and quotes of an ETag header value.
func normalizeEtag(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}

// repoFolderName is the cache directory of a model repo: models--{org}--{name}.
func repoFolderName(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

// repoFromFolderName inverts repoFolderName; ok is false for datasets, spaces and
// names that do not map back to a valid repo id.
func repoFromFolderName(dir string) (string, bool) {
	rest, ok := strings.CutPrefix(dir, "models--")
	if !ok {
		return "", false
	}
	org, name, ok := strings.Cut(rest, "--")
	if !ok {
		return "", false
	}
	id := org + "/" + name
	return id, ValidRepoID(id)
}
