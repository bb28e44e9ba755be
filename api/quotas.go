package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
)

// quotaSettings are the /v1 quotas, part of the "auth" settings document; 0 is
// unlimited. Per user applies to all of a user's requests together (session or any
// key); per key to the requests made with one API key.
type quotaSettings struct {
	UserConcurrent int `json:"quota_user_concurrent,omitempty"`
	UserPerMinute  int `json:"quota_user_per_minute,omitempty"`
	KeyConcurrent  int `json:"quota_key_concurrent,omitempty"`
	KeyPerMinute   int `json:"quota_key_per_minute,omitempty"`
}

// requireQuota follows requireV1: it admits the request under its user's and key's
// quotas or answers 429 with Retry-After, in the protocol's own error format
// (handleError picks OpenAI's or Anthropic's by path).
func (s *Server) requireQuota(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		set, err := s.authSettings()
		if err != nil {
			return err
		}
		q := set.quotaSettings
		// Requests let in without credentials from loopback share one "user".
		subject := "anonymous"
		if u, ok := currentUser(c); ok {
			subject = "user:" + u.ID
		}
		subjects := []auth.QuotaSubject{{Key: subject, Limits: auth.QuotaLimits{Concurrent: q.UserConcurrent, PerMinute: q.UserPerMinute}}}
		if id := apiKeyID(c); id != "" {
			subjects = append(subjects, auth.QuotaSubject{Key: "key:" + id, Limits: auth.QuotaLimits{Concurrent: q.KeyConcurrent, PerMinute: q.KeyPerMinute}})
		}
		release, ref, ok := s.quotas.Acquire(subjects...)
		if !ok {
			secs := max(1, int((ref.RetryAfter+time.Second-1)/time.Second))
			what := "requests per minute"
			if ref.Limit == "concurrent" {
				what = "concurrent requests"
			}
			owner := "your account's"
			if ref.Subject != subject {
				owner = "this API key's"
			}
			return &Error{Status: http.StatusTooManyRequests, Code: "quota_exceeded", RetryAfter: secs,
				Message: fmt.Sprintf("%s quota of %s is used up: retry in %d s", owner, what, secs)}
		}
		defer release()
		return next(c)
	}
}
