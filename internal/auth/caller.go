package auth

import "context"

// Caller is who makes a request.
type Caller struct {
	// Platform is the platform administrator (the bootstrap token).
	Platform bool
	// MSP is the MSP an MSP-scoped token acts on.
	MSP string
	// TokenID identifies the API token, never its secret.
	TokenID string
	// Session identifies the console session, never its secret.
	Session string
	// Issuer is the identity provider whose JWT the call carries.
	Issuer string
	// User is the user a user token acts as.
	User string
	// OnBehalfOf is the user a service (or platform) token says it acts for.
	OnBehalfOf string
}

// ActingUser is the user whose rights the call has: the user token's user,
// or the user a service token acts on behalf of; "" for a service acting for
// nobody.
func (c Caller) ActingUser() string {
	if c.User != "" {
		return c.User
	}
	return c.OnBehalfOf
}

// String names the caller for logs.
func (c Caller) String() string {
	s := "token:" + c.TokenID + "@" + c.MSP
	switch {
	case c.Session != "":
		s = "session:" + c.Session + "@" + c.MSP
	case c.Issuer != "":
		s = "jwt:" + c.Issuer + "@" + c.MSP
	}
	switch {
	case c.Platform:
		s = "platform"
	case c.User != "":
		s += "/" + c.User
	}
	if c.OnBehalfOf != "" {
		s += " on behalf of " + c.OnBehalfOf
	}
	return s
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
