package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func i64(v int64) *int64 { return &v }

// TestPoolSettingsValidate is the one place the pool settings' ranges are
// checked: each bad value is refused naming its JSON field.
func TestPoolSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		set   store.PoolSettings
		field string // "": valid
	}{
		{"zero: the defaults", store.PoolSettings{}, ""},
		{"everything set", store.PoolSettings{Budget: &store.Budget{Bytes: 1 << 30}, MaxModels: 4, DefaultTTLSeconds: i64(600),
			EvictionPolicy: "lru", Parallel: 8}, ""},
		{"percent budget", store.PoolSettings{Budget: &store.Budget{Percent: 70}}, ""},
		{"forever", store.PoolSettings{DefaultTTLSeconds: i64(-1)}, ""},
		{"largest values", store.PoolSettings{MaxModels: store.MaxPoolModels, DefaultTTLSeconds: i64(store.MaxPoolTTLSeconds), Parallel: store.MaxParallel}, ""},
		{"budget under 64 MiB", store.PoolSettings{Budget: &store.Budget{Bytes: store.MinPoolBudget - 1}}, "budget"},
		{"budget percent over 100", store.PoolSettings{Budget: &store.Budget{Percent: 101}}, "budget"},
		{"budget percent under 1", store.PoolSettings{Budget: &store.Budget{Percent: 0.5}}, "budget"},
		{"negative models", store.PoolSettings{MaxModels: -1}, "max_models"},
		{"too many models", store.PoolSettings{MaxModels: store.MaxPoolModels + 1}, "max_models"},
		{"ttl zero", store.PoolSettings{DefaultTTLSeconds: i64(0)}, "default_ttl_seconds"},
		{"ttl below forever", store.PoolSettings{DefaultTTLSeconds: i64(-2)}, "default_ttl_seconds"},
		{"ttl over 30 days", store.PoolSettings{DefaultTTLSeconds: i64(store.MaxPoolTTLSeconds + 1)}, "default_ttl_seconds"},
		{"negative parallel", store.PoolSettings{Parallel: -1}, "parallel"},
		{"too parallel", store.PoolSettings{Parallel: store.MaxParallel + 1}, "parallel"},
		{"another policy", store.PoolSettings{EvictionPolicy: "lfu"}, "eviction_policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.set.Validate()
			checkSettingError(t, err, tc.field)
		})
	}
}

// TestHubSettingsValidate: the token's form only; the Hub judges the rest.
func TestHubSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		set   store.HubSettings
		field string
	}{
		{"none", store.HubSettings{}, ""},
		{"a token, offline", store.HubSettings{Token: "hf_abcDEF123", Offline: true}, ""},
		{"longest token", store.HubSettings{Token: strings.Repeat("a", 512)}, ""},
		{"too long", store.HubSettings{Token: strings.Repeat("a", 513)}, "token"},
		{"two words", store.HubSettings{Token: "hf_a hf_b"}, "token"},
		{"a newline", store.HubSettings{Token: "hf_a\n"}, "token"},
		{"a tab", store.HubSettings{Token: "\thf_a"}, "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkSettingError(t, tc.set.Validate(), tc.field)
		})
	}
}

func checkSettingError(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("refused: %v", err)
		}
		return
	}
	var se *store.SettingError
	if !errors.As(err, &se) || se.Field != field || !strings.Contains(se.Reason, field) {
		t.Errorf("error %v (%#v), want a SettingError on %s that names it", err, se, field)
	}
}

// TestTypedSettingsStore: Put validates before writing, a refused document
// leaves the stored one as it was, and the documents read back as written.
func TestTypedSettingsStore(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	s := st.Settings()
	if set, found, err := s.Pool(); err != nil || found || set != (store.PoolSettings{}) {
		t.Fatalf("Pool before any = %+v, %v, %v", set, found, err)
	}
	if set, err := s.Hub(); err != nil || set != (store.HubSettings{}) {
		t.Fatalf("Hub before any = %+v, %v", set, err)
	}
	stored, err := s.PutPool(store.PoolSettings{Budget: &store.Budget{Percent: 50}, MaxModels: 2})
	if err != nil || stored.EvictionPolicy != "lru" {
		t.Fatalf("PutPool = %+v, %v; want the policy spelt out", stored, err)
	}
	if _, err := s.PutPool(store.PoolSettings{MaxModels: -3}); err == nil {
		t.Fatal("PutPool stored an invalid document")
	}
	got, found, err := s.Pool()
	if err != nil || !found || got.MaxModels != 2 || got.Budget == nil || *got.Budget != (store.Budget{Percent: 50}) || got.EvictionPolicy != "lru" {
		t.Errorf("Pool = %+v, %v, %v; want the first document", got, found, err)
	}

	if err := s.PutHub(store.HubSettings{Token: "hf_x", Offline: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutHub(store.HubSettings{Token: "hf x"}); err == nil {
		t.Fatal("PutHub stored an invalid token")
	}
	if h, err := s.Hub(); err != nil || h != (store.HubSettings{Token: "hf_x", Offline: true}) {
		t.Errorf("Hub = %+v, %v", h, err)
	}
}

func TestBudgetJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want store.Budget
		out  string
	}{
		{`1073741824`, store.Budget{Bytes: 1 << 30}, `1073741824`},
		{`"1073741824"`, store.Budget{Bytes: 1 << 30}, `1073741824`},
		{`"70%"`, store.Budget{Percent: 70}, `"70%"`},
		{`" 12.5 % "`, store.Budget{Percent: 12.5}, `"12.5%"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var b store.Budget
			if err := json.Unmarshal([]byte(tc.in), &b); err != nil {
				t.Fatal(err)
			}
			if b != tc.want {
				t.Errorf("decoded %+v, want %+v", b, tc.want)
			}
			out, err := json.Marshal(b)
			if err != nil || string(out) != tc.out {
				t.Errorf("encoded %s (%v), want %s", out, err, tc.out)
			}
		})
	}
	for _, bad := range []string{`"x%"`, `"1.5"`, `true`, `"NaN%"`, `"Inf%"`, `"-5%"`, `"0%"`, `1e3`} {
		var b store.Budget
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s decoded to %+v", bad, b)
		}
	}
}

func FuzzBudgetJSON(f *testing.F) {
	for _, s := range []string{`1`, `"70%"`, `"%"`, `"-5%"`, `"9999999999999999999999"`, `null`, `"  "`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var b store.Budget
		if json.Unmarshal([]byte(in), &b) != nil {
			return
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("%q decoded to %+v, which does not encode: %v", in, b, err)
		}
		var again store.Budget
		if err := json.Unmarshal(out, &again); err != nil || again != b {
			t.Fatalf("%q → %+v → %s → %+v (%v)", in, b, out, again, err)
		}
	})
}
