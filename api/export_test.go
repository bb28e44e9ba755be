package api

import "time"

// SetAuditPingInterval shortens the audit WebSocket's ping (and credential re-check)
// period for servers created afterwards; the returned func restores it.
func SetAuditPingInterval(d time.Duration) (restore func()) {
	old := auditPingInterval
	auditPingInterval = d
	return func() { auditPingInterval = old }
}
