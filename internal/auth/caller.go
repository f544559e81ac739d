package auth

import "context"

// Caller is who makes a request.
type Caller struct {
	// Platform is the platform administrator (the bootstrap token).
	Platform bool
	// MSP is the MSP an MSP-scoped token acts on.
	MSP string
	// TokenID identifies the token, never its secret.
	TokenID string
}

// String names the caller for logs.
func (c Caller) String() string {
	if c.Platform {
		return "platform"
	}
	return "token:" + c.TokenID + "@" + c.MSP
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
