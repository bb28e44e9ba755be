package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// Error is every error the API answers with. Handlers return it (or any error:
// the engine's are classified by engine.Classify, anything else is a 500) and
// the one HTTPErrorHandler writes it through errorTable: OpenAI's envelope
// {"error":{"message","type","param","code"}} on /api and /v1, Anthropic's on
// /v1/messages.
type Error struct {
	Kind       engine.Kind // what went wrong; the status, body types and Retry-After come from it
	Status     int         // set from Kind by toError; a handler may give a status instead of a kind
	Type       string      // OpenAI error type; set from Kind by toError
	Code       string      // machine-readable code, e.g. context_length_exceeded
	Param      string      // the offending request field, when there is one
	Message    string
	RetryAfter int // seconds; the kind's default when 0
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Kinds only HTTP has: what a request's form, rather than the engine, got wrong.
const (
	kindUnprocessable engine.Kind = "unprocessable" // well-formed, but a field's value is refused
	kindMediaType     engine.Kind = "media_type"    // the body is not in a format the route reads
	kindRouteNotFound engine.Kind = "no_route"      // no such route
	kindMethod        engine.Kind = "method"        // the route exists, not with this method
)

// kindRow is how one kind is answered in every protocol.
type kindRow struct {
	kind       engine.Kind
	status     int
	openai     string // OpenAI's error.type (also the /api body's)
	anthropic  string // Anthropic's error.type
	retryAfter int    // seconds; 0: no Retry-After unless the error gives one
}

// errorTable is the one mapping of error kinds to answers. The first row of a
// status is the kind a bare status means (see kindOfStatus).
var errorTable = []kindRow{
	{engine.KindInternal, http.StatusInternalServerError, "server_error", "api_error", 0},
	{engine.KindInvalid, http.StatusBadRequest, "invalid_request_error", "invalid_request_error", 0},
	{engine.KindUnsupported, http.StatusBadRequest, "invalid_request_error", "invalid_request_error", 0},
	{engine.KindContextLength, http.StatusBadRequest, "invalid_request_error", "invalid_request_error", 0},
	{engine.KindUnauthorized, http.StatusUnauthorized, "authentication_error", "authentication_error", 0},
	{engine.KindForbidden, http.StatusForbidden, "permission_error", "permission_error", 0},
	{engine.KindNotFound, http.StatusNotFound, "not_found_error", "not_found_error", 0},
	{kindRouteNotFound, http.StatusNotFound, "not_found_error", "not_found_error", 0},
	{kindMethod, http.StatusMethodNotAllowed, "invalid_request_error", "invalid_request_error", 0},
	{engine.KindConflict, http.StatusConflict, "conflict_error", "invalid_request_error", 0},
	{engine.KindBusy, http.StatusConflict, "conflict_error", "invalid_request_error", 0},
	{engine.KindTooLargeBody, http.StatusRequestEntityTooLarge, "request_too_large", "request_too_large", 0},
	{kindMediaType, http.StatusUnsupportedMediaType, "invalid_request_error", "invalid_request_error", 0},
	{kindUnprocessable, http.StatusUnprocessableEntity, "invalid_request_error", "invalid_request_error", 0},
	{engine.KindDamaged, http.StatusUnprocessableEntity, "invalid_request_error", "invalid_request_error", 0},
	{engine.KindRateLimited, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_error", 30},
	{engine.KindQueueFull, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_error", 2},
	{engine.KindUpstream, http.StatusBadGateway, "server_error", "api_error", 0},
	{engine.KindUnavailable, http.StatusServiceUnavailable, "overloaded_error", "overloaded_error", 0},
	{engine.KindNoRoom, http.StatusServiceUnavailable, "overloaded_error", "overloaded_error", 10},
	{engine.KindTimeout, http.StatusServiceUnavailable, "overloaded_error", "overloaded_error", 0},
	// Too large for the memory budget is permanent, so not a 503 that invites a retry.
	{engine.KindTooLarge, http.StatusInsufficientStorage, "server_error", "api_error", 0},
	{engine.KindNoSpace, http.StatusInsufficientStorage, "server_error", "api_error", 0},
}

// kindInfo is the row of k; an unknown kind is internal.
func kindInfo(k engine.Kind) kindRow {
	for _, r := range errorTable {
		if r.kind == k {
			return r
		}
	}
	return errorTable[0]
}

// kindOfStatus is the kind a handler means by a bare status.
func kindOfStatus(status int) engine.Kind {
	for _, r := range errorTable {
		if r.status == status {
			return r.kind
		}
	}
	if status >= 400 && status < 500 {
		return engine.KindInvalid
	}
	return engine.KindInternal
}

// Errorf builds an *Error with the given status; its kind is the status's first
// row in errorTable.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// BadParam is an invalid request (400) naming the field at fault.
func BadParam(param, format string, args ...any) *Error {
	return &Error{Kind: engine.KindInvalid, Status: http.StatusBadRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// toError turns anything a handler, echo or the engine returned into an *Error
// whose Kind, Status, Type and RetryAfter are filled from errorTable.
func toError(err error) *Error {
	e := classify(err)
	if e.Kind == "" {
		e.Kind = kindOfStatus(e.Status)
	}
	row := kindInfo(e.Kind)
	e.Status = row.status
	if e.Type == "" {
		e.Type = row.openai
	}
	if e.RetryAfter == 0 {
		e.RetryAfter = row.retryAfter
	}
	return e
}

// classify finds the *Error in err, or makes one from an echo or engine error.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		if he.Code == http.StatusRequestEntityTooLarge {
			msg = "request body too large"
		}
		return &Error{Status: he.Code, Message: strings.ToLower(msg[:1]) + msg[1:], Err: he.Internal}
	}
	var se *store.SettingError
	if errors.As(err, &se) {
		return &Error{Kind: engine.KindInvalid, Param: se.Field, Message: se.Reason, Err: err}
	}
	if c, ok := engine.Classify(err); ok {
		return &Error{Kind: c.Kind, Code: c.Code, Message: kindMessage(c, err), RetryAfter: seconds(c.RetryAfter.Seconds()), Err: err}
	}
	return &Error{Kind: engine.KindInternal, Message: "internal error", Err: err}
}

// kindMessage is what the client reads: the engine's message, with what to do
// when the kind alone does not say it.
func kindMessage(c engine.Class, err error) string {
	switch {
	case c.Kind == engine.KindDamaged:
		return err.Error() + ": the model's files are damaged; delete the model and download it again"
	case engine.IsHubUnreachable(err):
		return "cannot reach the hugging face hub (offline? turn on offline mode in the hub settings): " + unreachableReason(err)
	}
	return err.Error()
}

// unreachableReason says why the Hub could not be reached without the network's
// inner details: Go's errors name the resolver ("lookup huggingface.co on
// 10.0.0.53:53") and local addresses, which are no business of a client. The log
// keeps the whole error.
func unreachableReason(err error) string {
	var de *net.DNSError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &de):
		switch {
		case de.IsNotFound:
			return "cannot resolve " + de.Name + ": no such host"
		case de.IsTimeout:
			return "cannot resolve " + de.Name + ": timed out"
		}
		return "cannot resolve " + de.Name
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.As(err, &oe):
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return oe.Op + ": " + se.Err.Error()
		}
		return oe.Op + " failed"
	}
	return "network error"
}

func seconds(s float64) int {
	if s <= 0 {
		return 0
	}
	return int(s + 0.999)
}

// errorResponse is an error as the client of path reads it: the status, the
// Retry-After seconds (0: none) and the body in the path's protocol.
func errorResponse(e *Error, path string) (status, retryAfter int, body any) {
	row := kindInfo(e.Kind)
	if ollamaPaths[path] {
		return e.Status, e.RetryAfter, map[string]string{"error": e.Message}
	}
	if strings.HasPrefix(path, "/v1/messages") {
		var a anthropicError
		a.Type = "error"
		a.Error.Type = row.anthropic
		a.Error.Message = e.Message
		return e.Status, e.RetryAfter, a
	}
	return e.Status, e.RetryAfter, map[string]errorBody{"error": openaiBody(e)}
}

// openaiBody is OpenAI's error object, also written inside a stream.
func openaiBody(e *Error) errorBody {
	b := errorBody{Message: e.Message, Type: e.Type}
	if e.Param != "" {
		b.Param = &e.Param
	}
	if e.Code != "" {
		b.Code = &e.Code
	}
	return b
}

// handleError is echo's HTTPErrorHandler: the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := toError(err)
	switch {
	case e.Status >= 500 && errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		// The client went away (closed the tab, cancelled a stream): routine, and one
		// ERROR line per cancel would drown the real errors.
		s.log.Debug("client disconnected", "request_id", requestID(c), "path", c.Path(), "err", err)
	case e.Status >= 500 && e.Kind == engine.KindInternal:
		s.log.Error("request failed", "request_id", requestID(c), "path", c.Path(), "err", err)
	case e.Status >= 500:
		s.log.Warn("request refused", "request_id", requestID(c), "path", c.Path(), "kind", e.Kind, "err", err)
	}
	status, retry, body := errorResponse(e, c.Request().URL.Path)
	if retry > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if err := c.JSON(status, body); err != nil {
		s.log.Debug("write error response", "err", err)
	}
}
