package api

import "time"

// SetCredentialRecheck shortens the event streams' credential re-check period;
// the returned func restores it.
func SetCredentialRecheck(recheck time.Duration) (restore func()) {
	old := credentialRecheck
	credentialRecheck = recheck
	return func() { credentialRecheck = old }
}
