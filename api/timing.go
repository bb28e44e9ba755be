package api

import "time"

// Timing is how long the server waits on its clients and how often it checks on
// its long-lived streams. A zero field takes its default: tests shorten the
// periods they would otherwise wait out, each on its own server.
type Timing struct {
	// Request stops a non-streaming /api call that takes this long: it is stuck
	// (a Hub that does not answer, a wedged disk) and must not hold a goroutine
	// and a connection forever. Streams and /v1 generations run as long as their
	// client stays. Default 30 s.
	Request time.Duration
	// BodyRead bounds how long a client may take to send its request body.
	// Default 30 s.
	BodyRead time.Duration
	// SSEKeepAlive is how long a stream may stay silent (a long prefill, a model
	// loading) before it sends an SSE comment, so proxies and clients with read
	// timeouts keep the connection. Default 10 s.
	SSEKeepAlive time.Duration
	// CredentialRecheck is how often a long event stream re-checks its client's
	// credential. Default 30 s.
	CredentialRecheck time.Duration
	// AuditPing is how often the audit WebSocket pings its client and re-checks
	// its credential. Default 30 s.
	AuditPing time.Duration
}

// withDefaults fills the zero fields.
func (t Timing) withDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Request, 30*time.Second)
	def(&t.BodyRead, 30*time.Second)
	def(&t.SSEKeepAlive, 10*time.Second)
	def(&t.CredentialRecheck, 30*time.Second)
	def(&t.AuditPing, 30*time.Second)
	return t
}
