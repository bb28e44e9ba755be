package store

import (
	"reflect"
	"strings"
	"testing"
)

// Names share a fold key exactly when strings.EqualFold matches them, so the
// view's map finds what ByName's scan found: case classes of more than two
// runes (K, k and the Kelvin sign; S, s and the long s; the sigmas), runes with
// no case, invalid UTF-8 (which EqualFold reads as U+FFFD) and lengths that
// differ in bytes but not in runes.
func TestFoldKey(t *testing.T) {
	t.Parallel()
	names := []string{
		"", "k", "K", "\u212a", "s", "S", "\u017f", "ss", "\u00df", "\u1e9e",
		"\u03a3", "\u03c3", "\u03c2", "\u00e9", "\u00c9", "\xff", "\xfe", "\ufffd",
		"llama", "Llama", "LLAMA", "llama ", "qwen/qwen3-0.6b", "Qwen/Qwen3-0.6B",
		"i", "I", "\u0130", "\u0131", "\u01c4", "\u01c5", "\u01c6", "ABC\xffdef", "abc\ufffdDEF",
	}
	for _, a := range names {
		for _, b := range names {
			want := strings.EqualFold(a, b)
			if got := string(appendFoldKey(nil, a)) == string(appendFoldKey(nil, b)); got != want {
				t.Errorf("fold keys of %q and %q equal = %v, EqualFold = %v", a, b, got, want)
			}
		}
	}
}

func FuzzFoldKey(f *testing.F) {
	f.Add("Kelvin", "\u212aELVIN")
	f.Add("stra\u00dfe", "STRASSE")
	f.Add("\xff", "\ufffd")
	f.Fuzz(func(t *testing.T, a, b string) {
		want := strings.EqualFold(a, b)
		if got := string(appendFoldKey(nil, a)) == string(appendFoldKey(nil, b)); got != want {
			t.Errorf("fold keys of %q and %q equal = %v, EqualFold = %v", a, b, got, want)
		}
		// A name varied in case only must still match itself.
		if up := strings.ToUpper(a); strings.EqualFold(a, up) && string(appendFoldKey(nil, a)) != string(appendFoldKey(nil, up)) {
			t.Errorf("fold keys of %q and %q differ", a, up)
		}
	})
}

// The view hands out clones: a field that shares memory with the cached
// profile (a pointer, slice or map) and that clone does not copy would let a
// caller change what every later reader gets. Every such field must be added
// to clone, and this test then sees it copied.
func TestProfileCloneCopiesEveryReference(t *testing.T) {
	t.Parallel()
	var p Profile
	v := reflect.ValueOf(&p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func:
			t.Errorf("Profile.%s is a %s: clone it in Profile.clone and teach this test how", v.Type().Field(i).Name, f.Kind())
		}
	}
	c := reflect.ValueOf(p.clone())
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && f.Pointer() == c.Field(i).Pointer() {
			t.Errorf("Profile.clone shares Profile.%s with the cached profile", v.Type().Field(i).Name)
		}
	}
}
