package store

import (
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

const settingRouting = "routing"

// RouteLocal names this daemon's own engine as a rule's target; no backend
// may take the name.
const RouteLocal = "local"

// RoutingSettings is the "routing" settings document: which models go to
// which backends, first matching rule first.
type RoutingSettings struct {
	Rules []RouteRule `json:"rules"`
}

// RouteRule sends the models whose name matches Pattern to Targets, in order.
// Pattern is a model (or profile) name, or a prefix ending in "*" ("gpt-*");
// "*" alone matches every model.
type RouteRule struct {
	Pattern string        `json:"pattern"`
	Targets []RouteTarget `json:"targets"`
}

// RouteTarget is a backend, and the model name to ask it for ("" : the
// request's own).
type RouteTarget struct {
	Backend string `json:"backend"`
	Model   string `json:"model,omitempty"`
}

// Validate is the one place the routing rules' rules live: patterns, at
// least one target per rule, and targets that name RouteLocal or a backend
// for which known is true. The error is a *SettingError naming the field.
func (r RoutingSettings) Validate(known func(backend string) bool) error {
	for i, rule := range r.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		p := rule.Pattern
		if strings.TrimSpace(p) == "" || strings.Count(p, "*") > 1 || (strings.Contains(p, "*") && !strings.HasSuffix(p, "*")) {
			return &SettingError{field + ".pattern", "a pattern is a model name, or a prefix ending in * (gpt-*)"}
		}
		if len(rule.Targets) == 0 {
			return &SettingError{field + ".targets", "a rule needs at least one target"}
		}
		for _, t := range rule.Targets {
			if t.Backend != RouteLocal && !known(t.Backend) {
				return &SettingError{field + ".targets", fmt.Sprintf("no backend named %q (use %q for this daemon's engine)", t.Backend, RouteLocal)}
			}
		}
	}
	return nil
}

// Routing reads the routing rules; never set gives no rules (an empty list).
func (st Settings) Routing() (RoutingSettings, error) {
	rs := RoutingSettings{Rules: []RouteRule{}}
	if err := st.Get(settingRouting, &rs); err != nil && !errors.Is(err, ErrNotFound) {
		return RoutingSettings{}, fmt.Errorf("read routing settings: %w", err)
	}
	return rs, nil
}

// PutRouting validates the rules against the backends stored at the same
// moment (one transaction: a backend deleted meanwhile cannot slip in) and
// stores them.
func (st Settings) PutRouting(rs RoutingSettings) error {
	if rs.Rules == nil {
		rs.Rules = []RouteRule{}
	}
	err := st.s.db.Update(func(tx *bolt.Tx) error {
		known := map[string]bool{}
		err := tx.Bucket(bucketBackends).ForEach(func(k, _ []byte) error {
			var b Backend
			if err := getJSON(tx.Bucket(bucketBackends), k, &b); err != nil {
				return err
			}
			known[b.Name] = true
			return nil
		})
		if err != nil {
			return err
		}
		if err := rs.Validate(func(name string) bool { return known[name] }); err != nil {
			return err
		}
		st.s.onCommit(tx, ChangeSettings, settingRouting)
		return putJSON(tx.Bucket(bucketSettings), []byte(settingRouting), rs)
	})
	var se *SettingError
	if err != nil && !errors.As(err, &se) {
		return fmt.Errorf("store routing settings: %w", err)
	}
	return err
}
