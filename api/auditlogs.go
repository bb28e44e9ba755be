package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

var auditCursor = regexp.MustCompile(`^[0-9a-f]{32}$`)

const (
	defaultAuditLimit = 50
	maxAuditLimit     = 1000
	exportPage        = 500
)

// auditFilter reads the audit query parameters. A user who is not an admin only
// ever sees their own events, whatever they ask for.
func auditFilter(c echo.Context) (store.AuditFilter, error) {
	q := c.QueryParams()
	f := store.AuditFilter{
		UserID: q.Get("user"), Model: q.Get("model"), Action: q.Get("action"),
		Status: q.Get("status"), Before: q.Get("cursor"),
	}
	if u, _ := currentUser(c); !u.IsAdmin {
		f.UserID = u.ID
	}
	if f.Before != "" && !auditCursor.MatchString(f.Before) {
		return f, BadParam("cursor", "cursor %q is not an event id", f.Before)
	}
	var err error
	if f.From, err = parseTimeParam(q.Get("from")); err != nil {
		return f, BadParam("from", "from: %v", err)
	}
	if f.To, err = parseTimeParam(q.Get("to")); err != nil {
		return f, BadParam("to", "to: %v", err)
	}
	if f.Offset, err = intParam(q.Get("offset"), 0, 0, 1<<30); err != nil {
		return f, BadParam("offset", "offset: %v", err)
	}
	if f.Limit, err = intParam(q.Get("limit"), defaultAuditLimit, 1, maxAuditLimit); err != nil {
		return f, BadParam("limit", "limit: %v", err)
	}
	return f, nil
}

// parseTimeParam accepts RFC 3339 or unix seconds; "" is the zero time.
func parseTimeParam(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor unix seconds", s)
	}
	return t, nil
}

func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q: want an integer from %d to %d", s, lo, hi)
	}
	return n, nil
}

type auditPage struct {
	Events     []store.AuditEvent `json:"events"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

func (s *Server) handleAuditLogs(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	page, err := s.store.Audit().Query(f)
	if err != nil {
		return err
	}
	if page.Events == nil {
		page.Events = []store.AuditEvent{}
	}
	return c.JSON(http.StatusOK, auditPage{Events: page.Events, NextCursor: page.Next})
}

func (s *Server) handleAuditStats(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	st, err := s.store.Audit().Stats(f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

var csvHeader = []string{
	"id", "time", "request_id", "action", "status", "user_id", "user_email", "api_key_id", "client_ip",
	"model", "endpoint", "target", "detail", "http_status", "duration_ms", "ttft_ms",
	"prompt_tokens", "completion_tokens", "error_type", "error_message",
}

// csvSafe keeps a spreadsheet from running a cell as a formula: error messages and
// details can hold text a client chose.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvRow(ev store.AuditEvent) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	row := []string{
		ev.ID, ev.Time.Format(time.RFC3339Nano), ev.RequestID, ev.Action, ev.Status, ev.UserID, ev.UserEmail,
		ev.APIKeyID, ev.ClientIP, ev.Model, ev.Endpoint, ev.Target, ev.Detail, strconv.Itoa(ev.HTTPStatus),
		f(ev.DurationMS), f(ev.TTFTMS), strconv.Itoa(ev.PromptTokens), strconv.Itoa(ev.CompletionTokens),
		ev.ErrorType, ev.ErrorMessage,
	}
	for i := range row {
		row[i] = csvSafe(row[i])
	}
	return row
}

// handleAuditExport streams every matching event as CSV or JSON lines, a page at a
// time, so a large export neither builds in memory nor holds a long read transaction.
// limit, when given, caps the number of events.
func (s *Server) handleAuditExport(c echo.Context) error {
	format := c.QueryParam("format")
	if format != "csv" && format != "jsonl" {
		return BadParam("format", "format must be csv or jsonl")
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	remaining := 0
	if c.QueryParam("limit") != "" {
		remaining = f.Limit
	}
	h := c.Response().Header()
	if format == "csv" {
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		h.Set(echo.HeaderContentType, "application/x-ndjson")
	}
	h.Set(echo.HeaderContentDisposition, `attachment; filename="audit-logs.`+format+`"`)
	c.Response().WriteHeader(http.StatusOK)

	cw := csv.NewWriter(c.Response())
	enc := json.NewEncoder(c.Response())
	if format == "csv" {
		cw.Write(csvHeader)
	}
	ctx := c.Request().Context()
	for f.Offset, f.Limit = 0, exportPage; ctx.Err() == nil; {
		if remaining > 0 && remaining < f.Limit {
			f.Limit = remaining
		}
		page, err := s.store.Audit().Query(f)
		if err != nil {
			return err // headers are out: logged, the truncated body tells the client
		}
		for _, ev := range page.Events {
			if format == "csv" {
				err = cw.Write(csvRow(ev))
			} else {
				err = enc.Encode(ev)
			}
			if err != nil {
				return fmt.Errorf("write export: %w", err)
			}
		}
		cw.Flush()
		c.Response().Flush()
		if remaining > 0 {
			if remaining -= len(page.Events); remaining <= 0 {
				return nil
			}
		}
		if page.Next == "" {
			return nil
		}
		f.Before = page.Next
	}
	return nil
}

func (s *Server) handleGetAuditSettings(c echo.Context) error {
	r, err := s.store.Audit().Retention()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) handlePutAuditSettings(c echo.Context) error {
	r, err := s.store.Audit().Retention()
	if err != nil {
		return err
	}
	// Fields left out keep their current value.
	if err := decodeStrictJSON(c, &r); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return unprocessable("", "%v", err)
	}
	if err := s.store.Audit().SetRetention(r); err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "settings.update", Target: "audit",
		Detail: fmt.Sprintf("retention_days=%d max_events=%d", r.Days, r.MaxEvents)})
	return c.JSON(http.StatusOK, r)
}
