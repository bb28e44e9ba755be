package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxAuthBody bounds the bodies of the account and settings endpoints, which are
// open to anyone (register, login) and tiny by nature.
const maxAuthBody = 64 << 10

// Password length limits, in characters.
const (
	minPasswordLen = 8
	maxPasswordLen = 128
)

// readBody reads a small request body, refusing one over its route's limit
// (bodyLimit) with 413.
func readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	limit := bodyLimit(r.URL.Path)
	b, err := readAtMost(r.Body, limit+1, r.ContentLength)
	if err != nil {
		return nil, BadParam("", "read request body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge(limit)
	}
	return b, nil
}

// maxBodyHint bounds the buffer a declared Content-Length allocates before
// its bytes arrive: a client must not make the daemon hold a body it never sends.
const maxBodyHint = 1 << 20

// readAtMost is io.ReadAll of r's first n bytes, into one buffer of size (a
// declared Content-Length, -1 when none) when it is right: ReadAll starts at
// 512 bytes and copies at every doubling, an allocation per step on every
// /v1 request (issue #24).
func readAtMost(r io.Reader, n, size int64) ([]byte, error) {
	if size < 0 || size >= n {
		size = 511
	}
	lr := io.LimitedReader{R: r, N: n}
	b := make([]byte, 0, min(size, maxBodyHint)+1) // +1: io.EOF is read without growing
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		k, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// decodeStrictJSON decodes a small JSON body into v, refusing unknown fields so a
// misspelt setting is an error instead of a silent no-op.
func decodeStrictJSON(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	if err := checkUTF8(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadParam("", "invalid JSON body: %v", err)
	}
	if dec.More() {
		return BadParam("", "invalid JSON body: trailing data")
	}
	return nil
}

func unprocessable(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Param: param, Message: fmt.Sprintf(format, args...)}
}

type credentials struct {
	Email    string
	Password string
	Invite   string // register only: an invite link's token
}

type credentialsJSON struct {
	Email    *string `json:"email"`
	Username *string `json:"username"` // OAuth2 clients call the email a username
	Password *string `json:"password"`
	Invite   *string `json:"invite"`
}

// mediaType is the request's content type without parameters; "" when absent.
func mediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "invalid"
	}
	return mt
}

func isJSONType(mt string) bool {
	return mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// checkUTF8 refuses a JSON body that is not UTF-8. encoding/json would quietly turn
// bad bytes into U+FFFD, so an e-mail or a name with them would be stored as another
// string than the one sent.
func checkUTF8(body []byte) error {
	if !utf8.Valid(body) {
		return BadParam("", "request body is not valid UTF-8")
	}
	return nil
}

func decodeCredentialsJSON(body []byte) (credentials, error) {
	if err := checkUTF8(body); err != nil {
		return credentials{}, err
	}
	var raw credentialsJSON
	if err := json.Unmarshal(body, &raw); err != nil {
		return credentials{}, BadParam("", "invalid JSON body: %v", err)
	}
	var cr credentials
	switch {
	case raw.Email != nil:
		cr.Email = *raw.Email
	case raw.Username != nil:
		cr.Email = *raw.Username
	}
	if raw.Password != nil {
		cr.Password = *raw.Password
	}
	if raw.Invite != nil {
		cr.Invite = strings.TrimSpace(*raw.Invite)
	}
	return cr, nil
}

// parseRegister decodes and validates {email, password}.
func parseRegister(contentType string, body []byte) (credentials, error) {
	if !isJSONType(mediaType(contentType)) {
		return credentials{}, Errorf(http.StatusUnsupportedMediaType, "send the account as application/json")
	}
	cr, err := decodeCredentialsJSON(body)
	if err != nil {
		return credentials{}, err
	}
	if cr.Email, err = normalizeEmail(cr.Email); err != nil {
		return credentials{}, err
	}
	if err := checkPassword(cr.Password); err != nil {
		return credentials{}, err
	}
	return cr, nil
}

// parseLogin decodes JSON {email, password} or the OAuth2 password grant form
// (username, password). The email is normalised but not validated: a malformed one
// simply matches no account.
func parseLogin(contentType string, body []byte) (credentials, error) {
	var cr credentials
	switch mt := mediaType(contentType); {
	case mt == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return credentials{}, BadParam("", "invalid form body: %v", err)
		}
		if gt := form.Get("grant_type"); gt != "" && gt != "password" {
			return credentials{}, BadParam("grant_type", "unsupported grant_type %q: only password", gt)
		}
		cr.Email, cr.Password = form.Get("username"), form.Get("password")
		if cr.Email == "" {
			cr.Email = form.Get("email")
		}
		if !utf8.ValidString(cr.Email) || !utf8.ValidString(cr.Password) {
			return credentials{}, BadParam("", "form values are not valid UTF-8")
		}
	case isJSONType(mt):
		var err error
		if cr, err = decodeCredentialsJSON(body); err != nil {
			return credentials{}, err
		}
	default:
		return credentials{}, Errorf(http.StatusUnsupportedMediaType, "send credentials as application/json or a form")
	}
	cr.Email = strings.ToLower(strings.TrimSpace(cr.Email))
	if cr.Email == "" {
		return credentials{}, unprocessable("email", "email is required")
	}
	if cr.Password == "" {
		return credentials{}, unprocessable("password", "password is required")
	}
	if len(cr.Password) > 4*maxPasswordLen {
		return credentials{}, unprocessable("password", "password is too long")
	}
	return cr, nil
}

// parseReset decodes an optional {password}: empty means "generate one".
func parseReset(body []byte) (string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	var req struct {
		Password string `json:"password"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return "", BadParam("", "invalid JSON body: %v", err)
	}
	if req.Password == "" {
		return "", nil
	}
	if err := checkPassword(req.Password); err != nil {
		return "", err
	}
	return req.Password, nil
}

// normalizeEmail trims and lower-cases an address and checks it is a bare address.
func normalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", unprocessable("email", "email is required")
	}
	if strings.ContainsFunc(e, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) {
		return "", unprocessable("email", "email contains control characters or invalid UTF-8")
	}
	if len(e) > 254 {
		return "", unprocessable("email", "email is longer than 254 characters")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e || strings.ContainsAny(e, " \t\r\n") {
		return "", unprocessable("email", "email %q is not a valid address", e)
	}
	return e, nil
}

func checkPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return unprocessable("password", "password is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n < minPasswordLen || n > maxPasswordLen {
		return unprocessable("password", "password must be %d to %d characters", minPasswordLen, maxPasswordLen)
	}
	return nil
}
