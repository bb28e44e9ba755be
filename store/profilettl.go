package store

import "time"

// The one rule for a profile's ttl_seconds, used by the /v1 requests that name
// the profile, by its explicit loads (POST /api/servers/start) and by auto-start:
// null is the pool's default, -1 keeps the model loaded forever, 0 unloads it
// after each request, n > 0 keeps it n seconds after the last request.

// KeepAlive is how long a request naming the profile keeps its model loaded
// afterwards: nil for the pool's default, negative for forever.
func (p Profile) KeepAlive() *time.Duration {
	if p.TTLSeconds == nil {
		return nil
	}
	d := time.Duration(*p.TTLSeconds) * time.Second
	if *p.TTLSeconds < 0 {
		d = -1
	}
	return &d
}

// LoadKeepAlive is the TTL an explicit load of the profile's model sets. It is
// KeepAlive except that 0 (unload after each request) is left to the requests:
// on a load it would unload the model before anyone used it.
func (p Profile) LoadKeepAlive() *time.Duration {
	if p.TTLSeconds != nil && *p.TTLSeconds == 0 {
		return nil
	}
	return p.KeepAlive()
}
