package store

import (
	"errors"
	"fmt"
)

const settingAuth = "auth"

// Registration modes, AuthSettings.Registration. Open keeps the first
// release's behaviour: anyone who can reach the daemon may ask for an
// account, which an admin then approves.
const (
	RegistrationOpen   = "open"   // anyone may register; accounts await approval
	RegistrationInvite = "invite" // only with an admin's one-time invite link
	RegistrationClosed = "closed" // no new accounts, not even with an invite
)

// maxSettingCount bounds the caps and quotas: a larger figure is a typo, not
// a limit.
const maxSettingCount = 1_000_000_000

// AuthSettings is the "auth" settings document: who may sign in and register,
// and the caps and quotas that keep one account from crowding out the rest.
type AuthSettings struct {
	AllowUnauthenticatedLoopback bool `json:"allow_unauthenticated_loopback"`
	// UsersControlServers lets the user role start, stop, pin and unpin models.
	// Off by default: unloading a model others are using is an admin's decision.
	UsersControlServers bool `json:"users_control_servers"`
	// Registration is open (default, ""), invite or closed.
	Registration string `json:"registration,omitempty"`
	AccountCaps
	Quotas
}

// AccountCaps bound what accounts may create; 0 means the API's default.
type AccountCaps struct {
	MaxPendingAccounts   int `json:"max_pending_accounts,omitempty"`   // registrations awaiting approval (50)
	RegistrationsPerHour int `json:"registrations_per_hour,omitempty"` // from all clients together (30)
	MaxAPIKeysPerUser    int `json:"max_api_keys_per_user,omitempty"`  // (20)
	MaxProfilesPerUser   int `json:"max_profiles_per_user,omitempty"`  // admins are not capped (50)
}

// Quotas are the /v1 quotas; 0 is unlimited. Per user applies to all of a
// user's requests together (session or any key); per key to the requests made
// with one API key.
type Quotas struct {
	UserConcurrent int `json:"quota_user_concurrent,omitempty"`
	UserPerMinute  int `json:"quota_user_per_minute,omitempty"`
	KeyConcurrent  int `json:"quota_key_concurrent,omitempty"`
	KeyPerMinute   int `json:"quota_key_per_minute,omitempty"`
	// Tokens (prompt and completion) per UTC day.
	UserTokensPerDay int64 `json:"quota_user_tokens_per_day,omitempty"`
	KeyTokensPerDay  int64 `json:"quota_key_tokens_per_day,omitempty"`
}

// Validate is the one place the auth settings' rules live; the error is a
// *SettingError naming the field.
func (a AuthSettings) Validate() error {
	switch a.Registration {
	case "", RegistrationOpen, RegistrationInvite, RegistrationClosed:
	default:
		return &SettingError{"registration", fmt.Sprintf("registration must be %q, %q or %q", RegistrationOpen, RegistrationInvite, RegistrationClosed)}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max_pending_accounts", int64(a.MaxPendingAccounts)}, {"registrations_per_hour", int64(a.RegistrationsPerHour)},
		{"max_api_keys_per_user", int64(a.MaxAPIKeysPerUser)}, {"max_profiles_per_user", int64(a.MaxProfilesPerUser)},
		{"quota_user_concurrent", int64(a.UserConcurrent)}, {"quota_user_per_minute", int64(a.UserPerMinute)},
		{"quota_key_concurrent", int64(a.KeyConcurrent)}, {"quota_key_per_minute", int64(a.KeyPerMinute)},
		{"quota_user_tokens_per_day", a.UserTokensPerDay}, {"quota_key_tokens_per_day", a.KeyTokensPerDay},
	} {
		if f.v < 0 || f.v > maxSettingCount {
			return &SettingError{f.name, fmt.Sprintf("%s must be 0 (the default) to %d", f.name, maxSettingCount)}
		}
	}
	return nil
}

// Auth reads the auth settings; never set gives the zero value.
func (st Settings) Auth() (AuthSettings, error) {
	var set AuthSettings
	if err := st.Get(settingAuth, &set); err != nil && !errors.Is(err, ErrNotFound) {
		return AuthSettings{}, fmt.Errorf("read auth settings: %w", err)
	}
	return set, nil
}

// PutAuth validates and stores the auth settings.
func (st Settings) PutAuth(set AuthSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if err := st.Put(settingAuth, set); err != nil {
		return fmt.Errorf("store auth settings: %w", err)
	}
	return nil
}
