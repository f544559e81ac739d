package mw

import (
	"context"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/client"
)

// Guard checks the callers of an application against one MSP of mspauthz.
type Guard struct {
	c    *client.Client
	msp  string
	user func(*http.Request) (string, bool)
}

// Option configures a Guard.
type Option func(*Guard)

// WithUser tells the guard who calls a request: the mspauthz user id the
// application authenticated (ok false: nobody, answered 401).
func WithUser(user func(r *http.Request) (userID string, ok bool)) Option {
	return func(g *Guard) { g.user = user }
}

// New returns a guard that asks c about users of msp. c's token must be a
// platform or service token: the guard asks on behalf of each user, so that
// mspauthz answers as it answers him.
func New(c *client.Client, msp string, opts ...Option) *Guard {
	g := &Guard{c: c, msp: msp, user: func(*http.Request) (string, bool) { return "", false }}
	for _, opt := range opts {
		opt(g)
	}
	return g
}

// CustomerFromPath names the customer of a request by its path wildcard
// (Go 1.22 patterns: "GET /customers/{customer}/tickets").
func CustomerFromPath(wildcard string) func(*http.Request) string {
	return func(r *http.Request) string { return r.PathValue(wildcard) }
}

type decisionKey struct{}

// Decision is the check that let the request in (its via names the granting
// paths), or nil outside a guarded handler.
func Decision(ctx context.Context) *client.Decision {
	d, _ := ctx.Value(decisionKey{}).(*client.Decision)
	return d
}

// decide asks whether user holds permission on customer, as that user: a
// customer he may not see is NotFound, one he sees but may not act on is
// an answer of allowed false, which decide makes PermissionDenied.
func (g *Guard) decide(ctx context.Context, user, permission, customer string) (*client.Decision, error) {
	d, err := g.c.Check(client.OnBehalfOf(ctx, user), g.msp, &client.Question{Resource: client.Customer(customer), Permission: permission, Subject: client.User(user)})
	if err != nil {
		return nil, err
	}
	if !d.GetAllowed() {
		return nil, status.Errorf(codes.PermissionDenied, "user %q may not %s on customer %q", user, permission, customer)
	}
	return d, nil
}

// httpStatus is the HTTP answer to a refusal, as mspauthz's own REST gateway
// answers it.
var httpStatus = map[codes.Code]int{
	codes.Unauthenticated:  http.StatusUnauthorized,
	codes.PermissionDenied: http.StatusForbidden,
	codes.NotFound:         http.StatusNotFound,
	codes.InvalidArgument:  http.StatusBadRequest,
	codes.Unavailable:      http.StatusServiceUnavailable,
}

// Require guards next: it passes a request whose user holds permission on
// the customer the request names, with the decision in its context
// (Decision); else it answers 401 (no user), 404 (a customer that does not
// exist or that the user may not see), 403 (one he sees, without the
// permission), 503 (mspauthz unavailable) or 502.
func (g *Guard) Require(permission string, customer func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, ok := g.user(r)
			if !ok {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			d, err := g.decide(r.Context(), user, permission, customer(r))
			if err != nil {
				code, ok := httpStatus[status.Code(err)]
				if !ok {
					code = http.StatusBadGateway
				}
				http.Error(w, http.StatusText(code), code)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, d)))
		})
	}
}

// Rule is what a gRPC method requires: Permission on the customer its
// request names.
type Rule struct {
	Permission string
	Customer   func(req any) string
}

// UnaryInterceptor guards the methods of a gRPC server ("/pkg.Service/Method"
// as keys of rules): the user user names must hold the rule's permission, or
// the call fails with UNAUTHENTICATED, NOT_FOUND or PERMISSION_DENIED as
// Require answers; a method without a rule is refused (PERMISSION_DENIED),
// so that a new method is never open by mistake. The handler finds the
// decision with Decision.
func (g *Guard) UnaryInterceptor(rules map[string]Rule, user func(ctx context.Context) (userID string, ok bool)) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		rule, ok := rules[info.FullMethod]
		if !ok {
			return nil, status.Errorf(codes.PermissionDenied, "%s has no rule", info.FullMethod)
		}
		id, ok := user(ctx)
		if !ok {
			return nil, status.Error(codes.Unauthenticated, "sign in first")
		}
		d, err := g.decide(ctx, id, rule.Permission, rule.Customer(req))
		if err != nil {
			return nil, err
		}
		return handler(context.WithValue(ctx, decisionKey{}, d), req)
	}
}
