package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
)

// quotaSubject names a request's user for the quotas: requests let in without
// credentials from loopback share one "user".
func quotaSubject(userID string) string {
	if userID == "" {
		return "anonymous"
	}
	return "user:" + userID
}

// seedTokenQuotas gives the daily token quotas today's use from the audit log, so
// that a restart does not reset them.
func (s *Server) seedTokenQuotas() error {
	now := s.now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	use, err := s.store.Audit().TokenUse(midnight)
	if err != nil {
		return err
	}
	used := map[string]int64{quotaSubject(""): use.Anonymous}
	for id, n := range use.ByUser {
		used[quotaSubject(id)] = n
	}
	for id, n := range use.ByKey {
		used["key:"+id] = n
	}
	s.quotas.SeedTokens(midnight, used)
	return nil
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
		q := set.Quotas
		var userID string
		if u, ok := currentUser(c); ok {
			userID = u.ID
		}
		subject := quotaSubject(userID)
		subjects := []auth.QuotaSubject{{Key: subject, Limits: auth.QuotaLimits{Concurrent: q.UserConcurrent, PerMinute: q.UserPerMinute, TokensPerDay: q.UserTokensPerDay}}}
		if id := apiKeyID(c); id != "" {
			subjects = append(subjects, auth.QuotaSubject{Key: "key:" + id, Limits: auth.QuotaLimits{Concurrent: q.KeyConcurrent, PerMinute: q.KeyPerMinute, TokensPerDay: q.KeyTokensPerDay}})
		}
		release, ref, ok := s.quotas.Acquire(subjects...)
		if !ok {
			secs := max(1, int((ref.RetryAfter+time.Second-1)/time.Second))
			what := "requests per minute"
			switch ref.Limit {
			case "concurrent":
				what = "concurrent requests"
			case "tokens_per_day":
				what = "tokens per day (it renews at 00:00 UTC)"
			}
			owner := "your account's"
			if ref.Subject != subject {
				owner = "this API key's"
			}
			return &Error{Status: http.StatusTooManyRequests, Code: "quota_exceeded", RetryAfter: secs,
				Message: fmt.Sprintf("%s quota of %s is used up: retry in %d s", owner, what, secs)}
		}
		defer release()
		// Tokens are known once the request ends: charge what the audit record
		// counted, whether the request succeeded, failed midway or was cancelled.
		defer func() {
			rec := auditRecord(c)
			keys := make([]string, len(subjects))
			for i, sub := range subjects {
				keys[i] = sub.Key
			}
			s.quotas.Charge(int64(rec.PromptTokens)+int64(rec.CompletionTokens), keys...)
		}()
		return next(c)
	}
}
