package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/labstack/echo/v4"
)

const headerRequestID = "X-Request-ID"

var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

const ctxRequestID = "request_id"

// withRequestID gives every request an id, echoing a sane incoming X-Request-ID so a
// client can correlate its logs with ours, and generating one otherwise.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !saneRequestID.MatchString(id) {
			var b [12]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// hostPolicy decides which Host headers and browser origins are ours. A web page on
// another site can make a browser send requests to 127.0.0.1; a DNS name that
// resolves to 127.0.0.1 (DNS rebinding) would then be same-origin to it. Refusing
// every Host that is not a loopback name or a name the user configured closes that.
type hostPolicy struct {
	extra map[string]bool // lower-case host names allowed besides loopback ones
}

func newHostPolicy(listenAddr string, extra []string) hostPolicy {
	p := hostPolicy{extra: map[string]bool{}}
	if h, _, err := net.SplitHostPort(listenAddr); err == nil && h != "" && !isUnspecified(h) {
		p.extra[strings.ToLower(h)] = true
	}
	for _, h := range extra {
		p.extra[strings.ToLower(h)] = true
	}
	return p
}

func isUnspecified(h string) bool {
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsUnspecified()
}

// validHost reports whether a Host header (with or without port) names this daemon.
func (p hostPolicy) validHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return p.extra[host]
}

// validOrigin reports whether a browser Origin is the daemon's own UI: a page served
// by this server, under any Host we accept, on the same host:port the request used.
func (p hostPolicy) validOrigin(origin, requestHost string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return p.validHost(u.Host) && strings.EqualFold(u.Host, requestHost)
}

// checkHostAndOrigin refuses foreign Host headers (403) and answers CORS only for our
// own origin. A cross-origin browser request that changes state is refused outright;
// a cross-origin read gets no CORS headers, so the browser hides the answer.
func (p hostPolicy) checkHostAndOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !p.validHost(r.Host) {
			return Errorf(http.StatusForbidden, "host %q is not allowed: use localhost or add it with --allow-hosts", r.Host)
		}
		origin := r.Header.Get("Origin")
		if origin == "" {
			return next(c)
		}
		if !p.validOrigin(origin, r.Host) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				return Errorf(http.StatusForbidden, "cross-origin request from %q refused", origin)
			}
			return next(c)
		}
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		return next(c)
	}
}

// recoverPanic turns a handler panic into a logged, audited 500 so one bad request
// cannot take the daemon down. On /v1 the audit middleware, which runs inside this
// one, records it; elsewhere auditPanic does.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("handler panic", "request_id", requestID(c), "path", c.Request().URL.Path,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				s.auditPanic(c)
				err = &Error{Status: http.StatusInternalServerError, Message: "internal error", Err: fmt.Errorf("panic: %v", r)}
			}
		}()
		return next(c)
	}
}
