package api

import "time"

// SetEventIntervals shortens the event streams' credential re-check and download
// polling periods; the returned func restores them.
func SetEventIntervals(recheck, downloadPoll time.Duration) (restore func()) {
	oldRecheck, oldPoll := credentialRecheck, downloadPollInterval
	credentialRecheck, downloadPollInterval = recheck, downloadPoll
	return func() { credentialRecheck, downloadPollInterval = oldRecheck, oldPoll }
}
