package api

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeEmail(t *testing.T) {
	cases := map[string]string{
		" Alice@Example.COM ":              "alice@example.com",
		"admin@localhost":                  "admin@localhost",
		"a.b+tag@sub.example":              "a.b+tag@sub.example",
		"no-at-sign":                       "",
		"a@":                               "",
		"@b":                               "",
		"A <a@b.c>":                        "",
		"a b@c.d":                          "",
		"a@b.c, d@e.f":                     "",
		strings.Repeat("a", 250) + "@b.cd": "",
	}
	for in, want := range cases {
		got, err := normalizeEmail(in)
		if (err == nil) != (want != "") || got != want {
			t.Errorf("normalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseLogin(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		wantEmail         string
		wantStatus        int
	}{
		{"json", "application/json", `{"email":" A@B.C ","password":"pw"}`, "a@b.c", 0},
		{"json username", "application/json; charset=utf-8", `{"username":"a@b.c","password":"pw"}`, "a@b.c", 0},
		{"no content type", "", `{"email":"a@b.c","password":"pw"}`, "a@b.c", 0},
		{"form", "application/x-www-form-urlencoded", "username=a%40b.c&password=pw&grant_type=password", "a@b.c", 0},
		{"form bad grant", "application/x-www-form-urlencoded", "username=a&password=pw&grant_type=implicit", "", 400},
		{"xml", "text/xml", "<login/>", "", 415},
		{"bad json", "application/json", `{"email":`, "", 400},
		{"null", "application/json", `null`, "", 422},
		{"no password", "application/json", `{"email":"a@b.c"}`, "", 422},
		{"huge password", "application/json", `{"email":"a@b.c","password":"` + strings.Repeat("x", 1000) + `"}`, "", 422},
		// Finding 7 of issue #27: invalid UTF-8 became U+FFFD instead of an error.
		{"json invalid utf8", "application/json", "{\"email\":\"a\xff@b.c\",\"password\":\"pw\"}", "", 400},
		{"form invalid utf8", "application/x-www-form-urlencoded", "username=a%FF%40b.c&password=pw", "", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := parseLogin(tc.ctype, []byte(tc.body))
			if tc.wantStatus != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Status != tc.wantStatus {
					t.Fatalf("err = %v, want status %d", err, tc.wantStatus)
				}
				return
			}
			if err != nil || cr.Email != tc.wantEmail || cr.Password != "pw" {
				t.Fatalf("got %+v, %v", cr, err)
			}
		})
	}
}

// FuzzParseLogin: any body either fails with an *Error (a 4xx, never a panic or a
// 500) or yields a normalised email and a bounded, non-empty password.
func FuzzParseLogin(f *testing.F) {
	f.Add("application/json", `{"email":"a@b.c","password":"12345678"}`)
	f.Add("application/x-www-form-urlencoded", "username=a%40b.c&password=pw&grant_type=password")
	f.Add("", `{"username":"A@B.C","password":"x","email":null}`)
	f.Add("application/json", `{"email":"\u0000","password":"\ud800"}`)
	f.Add("multipart/form-data; boundary=x", "--x--")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		cr, err := parseLogin(ctype, []byte(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("error is not a 4xx *Error: %v", err)
			}
			return
		}
		if cr.Email == "" || cr.Email != strings.ToLower(strings.TrimSpace(cr.Email)) {
			t.Fatalf("email %q not normalised", cr.Email)
		}
		if cr.Password == "" || len(cr.Password) > 4*maxPasswordLen {
			t.Fatalf("password of %d bytes accepted", len(cr.Password))
		}
	})
}

// FuzzParseRegister: an accepted registration has a valid, normalised email and a
// password of 8 to 128 characters.
func FuzzParseRegister(f *testing.F) {
	f.Add("application/json", `{"email":"a@b.c","password":"12345678"}`)
	f.Add("", `{"email":" Mixed@Case.Org ","password":"éééééééé"}`)
	f.Add("application/json", `{"email":"\"quoted local\"@x.y","password":"12345678"}`)
	f.Add("application/json", `{"email":"a@b.c","password":"1234567"}`)
	f.Add("text/plain", `{}`)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		cr, err := parseRegister(ctype, []byte(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("error is not a 4xx *Error: %v", err)
			}
			return
		}
		if again, err := normalizeEmail(cr.Email); err != nil || again != cr.Email {
			t.Fatalf("accepted email %q does not normalise to itself: %q, %v", cr.Email, again, err)
		}
		if n := utf8.RuneCountInString(cr.Password); !utf8.ValidString(cr.Password) || n < minPasswordLen || n > maxPasswordLen {
			t.Fatalf("accepted password of %d characters", n)
		}
	})
}

func TestParseRegisterRejectsBadIdentity(t *testing.T) {
	for name, body := range map[string]string{
		"invalid utf8":      "{\"email\":\"a\xff@b.c\",\"password\":\"12345678\"}",
		"replacement char":  `{"email":"a\ufffd@b.c","password":"12345678"}`,
		"control character": `{"email":"a\u0000@b.c","password":"12345678"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var e *Error
			if _, err := parseRegister("application/json", []byte(body)); !errors.As(err, &e) || e.Status/100 != 4 {
				t.Fatalf("err = %v, want a 4xx", err)
			}
		})
	}
}
