package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Error is every error the API answers with. Handlers return it (or any error, which
// becomes a 500) and the one HTTPErrorHandler writes it: OpenAI's envelope
// {"error":{"message","type","param","code"}} everywhere, Anthropic's on /v1/messages.
type Error struct {
	Status     int
	Type       string // OpenAI error type: invalid_request_error, authentication_error, ...
	Code       string // machine-readable code, e.g. context_length_exceeded
	Param      string // the offending request field, when there is one
	Message    string
	RetryAfter int // seconds; sets Retry-After when > 0
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorType derives OpenAI's error type from the status, as their API does.
func errorType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusConflict:
		return "conflict_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable:
		return "overloaded_error"
	}
	if status >= 500 {
		return "server_error"
	}
	return "invalid_request_error"
}

// Errorf builds an *Error with the given status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// BadParam is a 400 naming the request field at fault.
func BadParam(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Param: param, Message: fmt.Sprintf(format, args...)}
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

// anthropicType maps a status to Anthropic's error type names.
func anthropicType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// toError turns anything a handler or echo returned into an *Error.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Type == "" {
			e.Type = errorType(e.Status)
		}
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
		return &Error{Status: he.Code, Type: errorType(he.Code), Message: strings.ToLower(msg[:1]) + msg[1:], Err: he.Internal}
	}
	if engine.IsDamaged(err) {
		// A load failure caused by the model's own files: say what to do, not "internal error".
		return &Error{Status: http.StatusUnprocessableEntity, Type: errorType(http.StatusUnprocessableEntity), Code: "model_damaged", Err: err,
			Message: err.Error() + ": the model's files are damaged; delete the model and download it again"}
	}
	return &Error{Status: http.StatusInternalServerError, Type: "server_error", Message: "internal error", Err: err}
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
	case e.Status >= 500:
		s.log.Error("request failed", "request_id", requestID(c), "path", c.Path(), "err", err)
	}
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	var body any
	if strings.HasPrefix(c.Request().URL.Path, "/v1/messages") {
		var a anthropicError
		a.Type = "error"
		a.Error.Type = anthropicType(e.Status)
		a.Error.Message = e.Message
		body = a
	} else {
		b := errorBody{Message: e.Message, Type: e.Type}
		if e.Param != "" {
			b.Param = &e.Param
		}
		if e.Code != "" {
			b.Code = &e.Code
		}
		body = map[string]errorBody{"error": b}
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(e.Status)
		return
	}
	if err := c.JSON(e.Status, body); err != nil {
		s.log.Debug("write error response", "err", err)
	}
}
