package auth

import (
	"context"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// JWTVerifier verifies a JWT bearer token of an identity provider and
// returns the caller it names (internal/signin).
type JWTVerifier interface {
	Verify(ctx context.Context, raw string) (Caller, error)
}

// Credentials authenticate every call: a bearer token (an API token, or a
// JWT of an MSP's or customer's identity provider) or, without one, a
// console session.
type Credentials struct {
	Tokens   *Tokens
	Sessions *Sessions
	// JWTs verifies JWT bearer tokens; nil refuses them.
	JWTs JWTVerifier
}

// Authenticate returns the caller that an Authorization header value
// ("Bearer <token>") or, when there is none, a session cookie's value
// names. Errors are Unauthenticated, or Unavailable when SpiceDB (or a
// JWT's identity provider) cannot be asked.
func (c Credentials) Authenticate(ctx context.Context, authorization, session string) (Caller, error) {
	if authorization == "" && session != "" && c.Sessions != nil {
		return c.Sessions.Authenticate(ctx, session)
	}
	scheme, token, ok := strings.Cut(authorization, " ")
	switch {
	case authorization == "":
		return Caller{}, fault.New(fault.Unauthenticated, "missing Authorization: Bearer token")
	case !ok || !strings.EqualFold(scheme, "Bearer") || token == "":
		return Caller{}, fault.New(fault.Unauthenticated, "malformed Authorization header: want \"Bearer <token>\"")
	case IsJWT(token) && c.JWTs != nil:
		return c.JWTs.Verify(ctx, token)
	}
	return c.Tokens.Verify(ctx, token)
}

// IsJWT reports whether a bearer token has a JWT's compact form (three
// base64url segments, the first a JSON object); API tokens never do.
func IsJWT(token string) bool {
	return strings.Count(token, ".") == 2 && strings.HasPrefix(token, "eyJ")
}

// Forget makes the tokens and sessions of msp (of user, when given) fail at
// once in this process: for an MSP or a user just deleted.
func (c Credentials) Forget(msp, user string) {
	c.Tokens.Forget(msp, user)
	if c.Sessions != nil {
		c.Sessions.Forget(msp, user)
	}
}
