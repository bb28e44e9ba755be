package store_test

import (
	"errors"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestAuthSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		set   store.AuthSettings
		field string // "" when valid
	}{
		{"zero", store.AuthSettings{}, ""},
		{"invite, caps and quotas", store.AuthSettings{Registration: store.RegistrationInvite, AccountCaps: store.AccountCaps{MaxAPIKeysPerUser: 5},
			Quotas: store.Quotas{UserPerMinute: 60, KeyTokensPerDay: 1_000_000}}, ""},
		{"closed", store.AuthSettings{Registration: store.RegistrationClosed}, ""},
		{"unknown registration", store.AuthSettings{Registration: "sometimes"}, "registration"},
		{"negative cap", store.AuthSettings{AccountCaps: store.AccountCaps{MaxPendingAccounts: -1}}, "max_pending_accounts"},
		{"negative quota", store.AuthSettings{Quotas: store.Quotas{KeyConcurrent: -2}}, "quota_key_concurrent"},
		{"absurd quota", store.AuthSettings{Quotas: store.Quotas{UserTokensPerDay: 1 << 40}}, "quota_user_tokens_per_day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.set.Validate()
			var se *store.SettingError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate: %v, want valid", err)
			case tc.field != "" && (!errors.As(err, &se) || se.Field != tc.field):
				t.Errorf("Validate: %v, want a SettingError on %s", err, tc.field)
			}
		})
	}
}

// TestAuthSettingsStored: PutAuth refuses what Validate refuses, and the
// document reads back as written (the embedded caps and quotas flattened).
func TestAuthSettingsStored(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	if set, err := st.Settings().Auth(); err != nil || set != (store.AuthSettings{}) {
		t.Fatalf("default = %+v, %v", set, err)
	}
	want := store.AuthSettings{UsersControlServers: true, Registration: store.RegistrationInvite,
		AccountCaps: store.AccountCaps{MaxProfilesPerUser: 3}, Quotas: store.Quotas{UserConcurrent: 2}}
	if err := st.Settings().PutAuth(want); err != nil {
		t.Fatal(err)
	}
	if err := st.Settings().PutAuth(store.AuthSettings{Registration: "x"}); err == nil {
		t.Error("PutAuth of an invalid document: no error")
	}
	if got, err := st.Settings().Auth(); err != nil || got != want {
		t.Errorf("Auth = %+v, %v; want %+v", got, err, want)
	}
	var raw map[string]any
	if err := st.Settings().Get("auth", &raw); err != nil || raw["max_profiles_per_user"] != 3.0 || raw["quota_user_concurrent"] != 2.0 {
		t.Errorf("stored document %v, %v: caps and quotas must sit at the top level, as before", raw, err)
	}
}
