package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/audit"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// CallerHeader is the response header in which a call through the REST
// gateway reports its caller to the gateway's request log; the gateway
// removes it before answering.
const CallerHeader = "x-mspauthz-caller"

// GatewayNetwork is the network name of the in-process listener the REST
// gateway uses: calls that arrive on it are logged by the gateway, not here.
const GatewayNetwork = "bufconn"

// access says who may call a method.
type access int

const (
	// platform: the platform administrator only.
	platform access = iota
	// platformInMSP: the platform administrator only, acting in the request's
	// MSP (which an MSP token of another MSP does not learn of).
	platformInMSP
	// mspScoped: the platform administrator, or a token of the request's MSP.
	mspScoped
	// anyCaller: any authenticated caller; the handler scopes the answer.
	anyCaller
)

var methodAccess = map[string]access{
	"/mspauthz.v1.TenancyService/CreateMSP":                platform,
	"/mspauthz.v1.TenancyService/DeleteMSP":                platformInMSP,
	"/mspauthz.v1.TenancyService/ListMSPs":                 anyCaller,
	"/mspauthz.v1.RoleService/ListPermissions":             anyCaller,
	"/mspauthz.v1.EndCustomerService/ListEndCustomerRoles": anyCaller,
	"/mspauthz.v1.TokenService/GetCaller":                  anyCaller,
	"/mspauthz.v1.TokenService/CreateUserToken":            platformInMSP,
	"/mspauthz.v1.TokenService/CreateToken":                platformInMSP,
	"/mspauthz.v1.TokenService/ListTokens":                 platformInMSP,
	"/mspauthz.v1.TokenService/DeleteToken":                platformInMSP,
}

// accessOf is a method's access: methods of the services not listed are MSP-scoped.
func accessOf(method string) access {
	if a, ok := methodAccess[method]; ok {
		return a
	}
	if strings.HasPrefix(method, "/mspauthz.v1.") {
		return mspScoped
	}
	return platform
}

type mspRequest interface{ GetMspId() string }

// callName is a gRPC method's name without its service: "CreateMSP".
func callName(method string) string { return method[strings.LastIndex(method, "/")+1:] }

// authorize decides whether caller may make req to method. A token of one MSP
// learns nothing of another: its requests there are "not found".
func authorize(caller auth.Caller, method string, req any) error {
	if caller.Platform {
		return nil
	}
	a := accessOf(method)
	denied := fault.New(fault.PermissionDenied, "%s needs the platform token", callName(method))
	switch a {
	case anyCaller:
		return nil
	case platform:
		return denied
	}
	r, ok := req.(mspRequest)
	if !ok {
		return denied
	}
	if r.GetMspId() != caller.MSP {
		return fault.New(fault.NotFound, "msp %q not found", r.GetMspId())
	}
	if a == platformInMSP {
		return denied
	}
	return nil
}

// UnaryInterceptor authenticates every call with its bearer token, admits
// it, maps its error to the contract, records it on the audit trail when it
// must (see auditCall) and logs it.
func UnaryInterceptor(domain *tenancy.Service, credentials auth.Credentials, trail *audit.Log, log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		caller, err := authenticate(ctx, credentials)
		ctx, touched := tenancy.WithTouched(ctx)
		var resp any
		if err == nil {
			ctx = callerContext(ctx, caller)
			err = admit(ctx, domain, caller, info.FullMethod, req)
		}
		if err == nil {
			resp, err = handler(ctx, req)
		}
		err = toStatus(ctx, err)
		if aerr := auditCall(ctx, trail, info.FullMethod, caller, req, resp, touched.Customers(), err); aerr != nil {
			resp, err = nil, aerr
		}
		if !reportCaller(ctx, caller) {
			logCall(ctx, log, info.FullMethod, caller, err, start)
		}
		return resp, err
	}
}

// callerContext returns ctx carrying an authenticated caller, and acting as
// the user whose rights the call has: with the consent of that user's own
// credential (a user token, his identity provider's token or his console
// session) only.
func callerContext(ctx context.Context, caller auth.Caller) context.Context {
	return tenancy.WithActor(auth.WithCaller(ctx, caller), tenancy.Actor{UserID: caller.ActingUser(), OwnCredential: caller.User != ""})
}

// errDraining ends the streams still open when the server shuts down.
var errDraining = status.Error(codes.Unavailable, "the server is shutting down; call again (a change feed resumes from its last changedAt)")

// StreamInterceptor does for streaming calls (the change feed) what
// UnaryInterceptor does: it authenticates the call when it opens, admits
// its request as it is received, maps its error, records a refusal on the
// audit trail and logs the call when it ends. Streams still open when
// draining is done (the server shuts down) end UNAVAILABLE.
func StreamInterceptor(domain *tenancy.Service, credentials auth.Credentials, trail *audit.Log, log *slog.Logger, draining context.Context) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ctx, cancel := context.WithCancelCause(ss.Context())
		defer cancel(nil)
		defer context.AfterFunc(draining, func() { cancel(errDraining) })()
		caller, err := authenticate(ctx, credentials)
		viaGateway := reportCaller(ctx, caller)
		stream := &authorizedStream{ServerStream: ss, ctx: ctx}
		var touched *tenancy.Touched
		stream.ctx, touched = tenancy.WithTouched(ctx)
		if err == nil {
			stream.ctx = callerContext(stream.ctx, caller)
			stream.admit = func(req any) error { return admit(stream.ctx, domain, caller, info.FullMethod, req) }
			err = handler(srv, stream)
		}
		if errors.Is(context.Cause(ctx), errDraining) {
			err = errDraining
		}
		err = toStatus(stream.ctx, err)
		if aerr := auditCall(stream.ctx, trail, info.FullMethod, caller, stream.req, nil, touched.Customers(), err); aerr != nil {
			err = aerr
		}
		if !viaGateway {
			logCall(stream.ctx, log, info.FullMethod, caller, err, start)
		}
		return err
	}
}

// authorizedStream is a server stream in the caller's context whose requests
// are admitted as they are received.
type authorizedStream struct {
	grpc.ServerStream
	ctx   context.Context
	admit func(req any) error
	req   any // the last request received
}

func (s *authorizedStream) Context() context.Context { return s.ctx }

func (s *authorizedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	s.req = m
	return s.admit(m)
}

// admit lets an authenticated caller's request through: its ids are well
// formed, the caller may make it (authorize), and the user he acts for, if
// any, is a user of the call's MSP (the request's, else the token's).
func admit(ctx context.Context, domain *tenancy.Service, caller auth.Caller, method string, req any) error {
	if err := checkIDs(req); err != nil {
		return err
	}
	if err := authorize(caller, method, req); err != nil {
		return err
	}
	if caller.OnBehalfOf == "" {
		return nil
	}
	msp := caller.MSP
	if r, ok := req.(mspRequest); ok && r.GetMspId() != "" {
		msp = r.GetMspId()
	}
	if msp == "" {
		return fault.New(fault.Unauthenticated, "%s: %s is made in no MSP, so it acts for nobody", OnBehalfOfHeader, callName(method))
	}
	exists, err := domain.UserExists(ctx, msp, caller.OnBehalfOf)
	if err == nil && !exists {
		err = fault.New(fault.Unauthenticated, "%s: user %q does not exist in msp %q", OnBehalfOfHeader, caller.OnBehalfOf, msp)
	}
	return err
}

// authenticate returns the caller of a call: its Authorization header or,
// without one, its console session (auth.SessionMetadata), and the user a
// service token acts for.
func authenticate(ctx context.Context, credentials auth.Credentials) (auth.Caller, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	header, err := single(md, "authorization", "Authorization header")
	if err != nil {
		return auth.Caller{}, err
	}
	session, err := single(md, auth.SessionMetadata, "session")
	if err != nil {
		return auth.Caller{}, err
	}
	caller, err := credentials.Authenticate(ctx, header, session)
	if err != nil {
		return caller, err
	}
	onBehalfOf := md.Get(OnBehalfOfHeader)
	switch {
	case len(onBehalfOf) == 0:
	case len(onBehalfOf) > 1:
		return caller, fault.New(fault.Invalid, "%s: given more than once", OnBehalfOfHeader)
	case caller.User != "":
		return caller, fault.New(fault.PermissionDenied, "%s: a user's own credential (user token, identity provider's token, session) acts as its own user only", OnBehalfOfHeader)
	case !tenancy.ValidID(onBehalfOf[0]):
		return caller, fault.New(fault.Invalid, "%s: %q is not a valid user id", OnBehalfOfHeader, onBehalfOf[0])
	default:
		caller.OnBehalfOf = onBehalfOf[0]
	}
	return caller, nil
}

// single is the one value of metadata key ("" when absent). Errors:
// Unauthenticated when it is given more than once.
func single(md metadata.MD, key, what string) (string, error) {
	values := md.Get(key)
	if len(values) > 1 {
		return "", fault.New(fault.Unauthenticated, "more than one %s", what)
	}
	if len(values) == 1 {
		return values[0], nil
	}
	return "", nil
}

// OnBehalfOfHeader names the user a service token acts for; the call then has
// that user's rights, and the log records both.
const OnBehalfOfHeader = "x-on-behalf-of"

func callerName(caller auth.Caller) string {
	if caller == (auth.Caller{}) {
		return "anonymous"
	}
	return caller.String()
}

// reportCaller hands the caller of a call that came through the gateway to
// the gateway's request log, in a response header, and reports whether it
// did: the gateway logs those calls, logCall the others.
func reportCaller(ctx context.Context, caller auth.Caller) bool {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil || p.Addr.Network() != GatewayNetwork {
		return false
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(CallerHeader, callerName(caller)))
	return true
}

// logCall writes one line for a call.
func logCall(ctx context.Context, log *slog.Logger, method string, caller auth.Caller, err error, start time.Time) {
	log.LogAttrs(ctx, slog.LevelInfo, "grpc request",
		slog.String("method", method),
		slog.String("status", status.Code(err).String()),
		slog.Duration("duration", time.Since(start)),
		slog.String("caller", callerName(caller)))
}
