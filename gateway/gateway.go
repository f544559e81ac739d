// Package gateway serves the REST API: grpc-gateway's handlers generated from
// the mspauthz.v1 contract, the OpenAPI document, strict paths, methods, query
// parameters and bodies, a body limit and a request log. It holds no API
// logic of its own.
package gateway

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/gateway/body"
	"github.com/mspauthz/mspauthz/internal/api"
	"github.com/mspauthz/mspauthz/internal/auth"
)

// OpenAPI is the OpenAPI (Swagger 2.0) document generated with the contract.
//
//go:embed openapi.json
var OpenAPI []byte

// MaxBodyBytes is the largest request body accepted, but for a sync.
const MaxBodyBytes = 4 << 20

// MaxSyncBodyBytes is the largest sync snapshot accepted (about 100,000
// users with their groups); api.MaxMessageBytes lets it through to gRPC.
const MaxSyncBodyBytes = api.MaxMessageBytes

// callerHeader is api.CallerHeader as the gateway's response header.
var callerHeader = http.CanonicalHeaderKey(api.CallerHeader)

// New returns the service's HTTP handler: the REST API, calling the gRPC
// services over conn, its OpenAPI document, and the routes of others (health,
// metrics). Paths are served as they are written: one with an empty, "." or
// ".." segment is no call of the API (404), never redirected to another
// (http.ServeMux would clean "/customers//users" into "/customers/users").
func New(ctx context.Context, conn grpc.ClientConnInterface, log *slog.Logger, others *http.ServeMux) (http.Handler, error) {
	g := &gateway{others: others}
	g.mux = runtime.NewServeMux(
		// JSON everywhere, but a google.api.HttpBody (the audit export) is its own body.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: body.JSON{JSONPb: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}}),
		// Only Authorization (grpc-gateway always passes it) and X-On-Behalf-Of reach the services.
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			return api.OnBehalfOfHeader, http.CanonicalHeaderKey(key) == http.CanonicalHeaderKey(api.OnBehalfOfHeader)
		}),
		// A console session authenticates a request without Authorization.
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			if c := sessionCookie(r); c != "" {
				return metadata.Pairs(auth.SessionMetadata, c)
			}
			return nil
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) { return callerHeader, key == api.CallerHeader }),
		// A method a path does not take is 405, never served by another method's call.
		runtime.WithRoutingErrorHandler(g.routingError),
		runtime.WithDisablePathLengthFallback(),
		runtime.WithMiddlewares(g.checkRoute),
	)
	for _, register := range []func() error{
		func() error {
			return pb.RegisterTenancyServiceHandlerClient(ctx, g.mux, pb.NewTenancyServiceClient(conn))
		},
		func() error {
			return pb.RegisterAccessServiceHandlerClient(ctx, g.mux, pb.NewAccessServiceClient(conn))
		},
		func() error { return pb.RegisterTokenServiceHandlerClient(ctx, g.mux, pb.NewTokenServiceClient(conn)) },
		func() error { return pb.RegisterRoleServiceHandlerClient(ctx, g.mux, pb.NewRoleServiceClient(conn)) },
		func() error {
			return pb.RegisterEndCustomerServiceHandlerClient(ctx, g.mux, pb.NewEndCustomerServiceClient(conn))
		},
		func() error {
			return pb.RegisterPartnerServiceHandlerClient(ctx, g.mux, pb.NewPartnerServiceClient(conn))
		},
		func() error { return pb.RegisterGrantServiceHandlerClient(ctx, g.mux, pb.NewGrantServiceClient(conn)) },
		func() error { return pb.RegisterAuditServiceHandlerClient(ctx, g.mux, pb.NewAuditServiceClient(conn)) },
		func() error {
			return pb.RegisterChangeServiceHandlerClient(ctx, g.mux, pb.NewChangeServiceClient(conn))
		},
		func() error { return pb.RegisterSyncServiceHandlerClient(ctx, g.mux, pb.NewSyncServiceClient(conn)) },
		func() error {
			return pb.RegisterIdentityProviderServiceHandlerClient(ctx, g.mux, pb.NewIdentityProviderServiceClient(conn))
		},
	} {
		if err := register(); err != nil {
			return nil, fmt.Errorf("register REST handlers: %w", err)
		}
	}
	rules, err := rulesOf()
	if err == nil {
		err = g.learnRoutes(rules)
	}
	if err != nil {
		return nil, fmt.Errorf("REST routes: %w", err)
	}
	g.rest = limitBody(g.refuseCrossOrigin(g.mux))
	g.api = logRequests(http.HandlerFunc(g.serveAPI), log)
	return g, nil
}

// gateway is the service's HTTP handler.
type gateway struct {
	mux    *runtime.ServeMux
	rest   http.Handler // mux, with the body limit
	others *http.ServeMux
	api    http.Handler // rest and the OpenAPI document, logged
	// routes are the contract's routes by method and the mux's pattern.
	routes map[string]route
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if exact(r.URL.EscapedPath()) {
		// Served by the mux itself, which sets the pattern's path values.
		if _, pattern := g.others.Handler(r); pattern != "" {
			g.others.ServeHTTP(w, r)
			return
		}
	}
	g.api.ServeHTTP(w, r)
}

// serveAPI serves the OpenAPI document and the REST calls.
func (g *gateway) serveAPI(w http.ResponseWriter, r *http.Request) {
	switch {
	case !exact(r.URL.EscapedPath()):
		g.notFound(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/openapi.json":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(OpenAPI)
	default:
		g.rest.ServeHTTP(w, r)
	}
}

// exact reports whether a path has no empty, "." or ".." segment: whether
// it is served as written.
func exact(path string) bool {
	if path == "/" {
		return true // the console's first page
	}
	for _, segment := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if segment == "" || segment == "." || segment == ".." {
			return false
		}
	}
	return true
}

// sessionCookie is the console session's cookie value of a request that
// has no Authorization header (which wins), or "".
func sessionCookie(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		return ""
	}
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// refuseCrossOrigin refuses, 403, a state-changing request that a console
// session authenticates and that another site's page sent (Go's
// http.CrossOriginProtection: Sec-Fetch-Site, else Origin against Host);
// the session cookie is SameSite=Lax besides. Requests with a bearer token
// carry no ambient credential and pass.
func (g *gateway) refuseCrossOrigin(next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessionCookie(r) != "" {
			if err := csrf.Check(r); err != nil {
				g.fail(w, r, status.Errorf(codes.PermissionDenied, "%s %s with the console session's cookie, from another site: refused (%v); nothing was done", r.Method, r.URL.Path, err))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at MaxBodyBytes (MaxSyncBodyBytes for a
// sync's snapshot); a decoder reading past it fails, and the gateway answers
// INVALID_ARGUMENT "http: request body too large".
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(MaxBodyBytes)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, ":run") && strings.Contains(r.URL.Path, "/syncs/") {
			limit = MaxSyncBodyBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status of a response and takes the caller header
// out of it for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	caller string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.caller = w.Header().Get(callerHeader)
		w.Header().Del(callerHeader)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets grpc-gateway flush each message of a streamed answer (the
// change feed) through http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request: method, path, status, duration and
// caller (never the token).
func logRequests(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		caller := sw.caller
		if caller == "" {
			caller = "anonymous"
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("caller", caller))
	})
}
