package store_test

import (
	"errors"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestRoutingSettings(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	if rs, err := st.Settings().Routing(); err != nil || rs.Rules == nil || len(rs.Rules) != 0 {
		t.Fatalf("default = %+v, %v; want an empty list", rs, err)
	}
	if _, err := st.Backends().Put(store.Backend{Name: "gpu", Kind: "openai", BaseURL: "http://10.0.0.2:8000/v1"}, nil); err != nil {
		t.Fatal(err)
	}
	to := func(backends ...string) []store.RouteTarget {
		var out []store.RouteTarget
		for _, b := range backends {
			out = append(out, store.RouteTarget{Backend: b})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		rules []store.RouteRule
		field string // "" when valid
	}{
		{"none", nil, ""},
		{"exact, prefix and all", []store.RouteRule{{Pattern: "qwen3", Targets: to("gpu")}, {Pattern: "gpt-*", Targets: to("gpu", "local")}, {Pattern: "*", Targets: to("local")}}, ""},
		{"empty pattern", []store.RouteRule{{Pattern: " ", Targets: to("gpu")}}, "rules[0].pattern"},
		{"star inside", []store.RouteRule{{Pattern: "a", Targets: to("gpu")}, {Pattern: "g*t", Targets: to("gpu")}}, "rules[1].pattern"},
		{"two stars", []store.RouteRule{{Pattern: "g**", Targets: to("gpu")}}, "rules[0].pattern"},
		{"no target", []store.RouteRule{{Pattern: "x"}}, "rules[0].targets"},
		{"unknown backend", []store.RouteRule{{Pattern: "x", Targets: to("gpu", "cloud")}}, "rules[0].targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.Settings().PutRouting(store.RoutingSettings{Rules: tc.rules})
			var se *store.SettingError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("PutRouting: %v, want stored", err)
			case tc.field != "" && (!errors.As(err, &se) || se.Field != tc.field):
				t.Errorf("PutRouting: %v, want a SettingError on %s", err, tc.field)
			}
		})
	}
	if rs, err := st.Settings().Routing(); err != nil || len(rs.Rules) != 3 || rs.Rules[1].Targets[1].Backend != store.RouteLocal {
		t.Errorf("Routing = %+v, %v; want the last valid rules", rs, err)
	}
}
