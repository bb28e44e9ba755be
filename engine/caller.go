package engine

import "context"

type callerKey struct{}

// WithCaller names who a request runs for (a user id, say): a model's slots are
// shared between callers at every step (a caller's first request runs at once,
// pausing the newest of a caller that holds several), and requests beyond the
// shares are admitted in turn by caller, so one caller's burst cannot hold
// every slot. The API sets it once per request, in
// its authentication step, rather than in every wire format's options.
func WithCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// callerOf is ctx's caller; requests without one share the name "".
func callerOf(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(string)
	return c
}
