package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/audit"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// methodLoginAs is audited even more strictly: no grant leaves unrecorded.
const methodLoginAs = "/mspauthz.v1.PartnerService/LoginAs"

// reads are the methods that change nothing: they are audited only when refused.
func isRead(method string) bool {
	name := method[strings.LastIndex(method, "/")+1:]
	for _, prefix := range []string{"Get", "List", "Check", "Explain", "Export", "Watch"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// IsFormSave reports whether a call of method with req saves something (a
// form, a token, a grant's answer...): every call but reads, Login As and
// previews.
func IsFormSave(method string, req any) bool {
	return !isRead(method) && method != methodLoginAs && !isPreview(req)
}

// isPreview reports whether req asks for a preview (validateOnly), which
// computes what a save would do and writes nothing.
func isPreview(req any) bool {
	r, ok := req.(interface{ GetValidateOnly() bool })
	return ok && r.GetValidateOnly()
}

// auditCall records a call on the audit trail when it must be: every call
// that writes (whatever its outcome; a preview that passes as PREVIEW), every
// Login As, and every refusal of an authenticated caller. A refused call is
// recorded in the MSP it asked about when the caller may see that MSP,
// otherwise in the caller's own. The event is in the own trail of each
// customer of that MSP the call named or touched (the domain's Touched). It
// returns an error only when a Login As grant could not be recorded: that
// grant is then withheld.
func auditCall(ctx context.Context, trail *audit.Log, method string, caller auth.Caller, req, resp any, touched []string, err error) error {
	refused := status.Code(err) == codes.PermissionDenied || (status.Code(err) == codes.NotFound && crossMSP(caller, req))
	if trail == nil || caller == (auth.Caller{}) || (isRead(method) && !refused) {
		return nil
	}
	msp := caller.MSP
	if r, ok := req.(mspRequest); ok && r.GetMspId() != "" && (caller.Platform || r.GetMspId() == caller.MSP) {
		msp = r.GetMspId()
	}
	if msp == "" {
		return nil // a platform call about no MSP (ListMSPs)
	}
	target, customers := targetOf(req, resp, touched)
	if crossMSP(caller, req) {
		customers = nil // those it names are another MSP's
	}
	e := audit.Event{
		MSP:        msp,
		Actor:      actorName(caller),
		Token:      caller.TokenID,
		OnBehalfOf: caller.OnBehalfOf,
		Action:     strings.TrimPrefix(method, "/mspauthz.v1."),
		Target:     target,
		Outcome:    audit.OutcomeOK,
		ZedToken:   zedTokenOf(resp),
		Customers:  customers,
	}
	switch {
	case err != nil:
		st := status.Convert(err)
		e.Outcome = st.Code().String() + ": " + st.Message()
	case isPreview(req):
		e.Outcome = audit.OutcomePreview
	}
	if _, rerr := trail.Record(context.WithoutCancel(ctx), e); rerr != nil {
		slog.ErrorContext(ctx, "audit event not recorded", "action", e.Action, "msp", msp, "error", rerr.Error())
		if method == methodLoginAs && err == nil {
			return status.Error(codes.Unavailable, "Login As not granted: the audit trail cannot record it; try again")
		}
	}
	return nil
}

// crossMSP reports whether an MSP token asked about another MSP.
func crossMSP(caller auth.Caller, req any) bool {
	r, ok := req.(mspRequest)
	return ok && !caller.Platform && r.GetMspId() != caller.MSP
}

// actorName names the user whose rights the call had (see
// auth.Caller.ActingUser), or the trusted caller that acted for nobody.
func actorName(c auth.Caller) string {
	switch {
	case c.ActingUser() != "":
		return c.ActingUser()
	case c.Platform:
		return "platform"
	}
	return "service"
}

// maxTargetCustomers is how many of the customers a call touched its target
// names beyond those its fields name; each customer's own trail finds the
// event whatever their number.
const maxTargetCustomers = 20

// targetOf names what a call was about: every "<type>_id" field of the
// request (and of the messages it holds, as an update's resource), and those
// of the response it did not name (a created grant's id), as "<type>:<id>",
// then (up to maxTargetCustomers) the other customers it touched. It returns
// every customer it names or touched too.
func targetOf(req, resp any, touched []string) (string, []string) {
	var parts []string
	seen := map[string]bool{"msp_id": true}
	var visit func(msg protoreflect.Message)
	visit = func(msg protoreflect.Message) {
		fields := msg.Descriptor().Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			name := string(f.Name())
			if f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() && msg.Has(f) {
				visit(msg.Get(f).Message())
				continue
			}
			if f.Kind() != protoreflect.StringKind || f.IsList() || !strings.HasSuffix(name, "_id") || seen[name] {
				continue
			}
			seen[name] = true
			if v := msg.Get(f).String(); v != "" {
				parts = append(parts, strings.TrimSuffix(name, "_id")+":"+v)
			}
		}
	}
	for _, m := range []any{req, resp} {
		if msg, ok := m.(proto.Message); ok {
			visit(msg.ProtoReflect())
		}
	}
	customers := slices.Clone(touched)
	for _, p := range parts {
		if c, ok := strings.CutPrefix(p, "customer:"); ok && !slices.Contains(touched, c) {
			customers = append(customers, c)
		}
	}
	var others []string
	for _, c := range touched {
		if part := "customer:" + c; !slices.Contains(parts, part) {
			others = append(others, part)
		}
	}
	if len(others) > maxTargetCustomers {
		others = append(others[:maxTargetCustomers], fmt.Sprintf("(and %d more customers)", len(others)-maxTargetCustomers))
	}
	return strings.Join(append(parts, others...), " "), customers
}

// zedTokenOf is the ZedToken a response carries (written_at or checked_at).
func zedTokenOf(resp any) string {
	msg, ok := resp.(proto.Message)
	if !ok {
		return ""
	}
	fields := msg.ProtoReflect().Descriptor().Fields()
	for _, name := range []protoreflect.Name{"written_at", "checked_at"} {
		if f := fields.ByName(name); f != nil && f.Kind() == protoreflect.StringKind {
			return msg.ProtoReflect().Get(f).String()
		}
	}
	return ""
}

type auditServer struct {
	pb.UnimplementedAuditServiceServer
	domain *tenancy.Service
	trail  *audit.Log
}

func queryOf(req *pb.ListAuditEventsRequest) audit.Query {
	q := audit.Query{Customer: req.GetCustomerId(), Actor: req.GetActor(), Target: req.GetTarget(), Action: req.GetAction()}
	if req.Since != nil {
		q.Since = req.GetSince().AsTime()
	}
	if req.Until != nil {
		q.Until = req.GetUntil().AsTime()
	}
	return q
}

func (s *auditServer) ListAuditEvents(ctx context.Context, req *pb.ListAuditEventsRequest) (*pb.ListAuditEventsResponse, error) {
	if err := s.domain.AuthorizeAuditView(ctx, req.GetMspId(), req.GetCustomerId()); err != nil {
		return nil, err
	}
	events, next, err := s.trail.List(ctx, req.GetMspId(), queryOf(req), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListAuditEventsResponse{NextPageToken: next}
	for _, e := range events {
		resp.Events = append(resp.Events, auditEventMessage(e))
	}
	return resp, nil
}

// ExportAuditEvents answers every selected event as JSON Lines, one event per
// line, oldest first, all read at one revision.
func (s *auditServer) ExportAuditEvents(ctx context.Context, req *pb.ListAuditEventsRequest) (*httpbody.HttpBody, error) {
	if req.GetPageSize() != 0 || req.GetPageToken() != "" {
		return nil, fault.New(fault.Invalid, "an export is never paged: leave pageSize and pageToken out")
	}
	if err := s.domain.AuthorizeAuditView(ctx, req.GetMspId(), req.GetCustomerId()); err != nil {
		return nil, err
	}
	var out []byte
	token := ""
	for {
		events, next, err := s.trail.List(ctx, req.GetMspId(), queryOf(req), audit.MaxPageSize, token)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			line, err := json.Marshal(e)
			if err != nil {
				return nil, fault.Wrap(err, fault.Internal, "encode audit event")
			}
			out = append(append(out, line...), '\n')
		}
		if next == "" {
			break
		}
		token = next
	}
	return &httpbody.HttpBody{ContentType: "application/x-ndjson", Data: out}, nil
}

func auditEventMessage(e audit.Event) *pb.AuditEvent {
	return &pb.AuditEvent{
		EventId: e.ID, Time: timestamppb.New(e.Time), MspId: e.MSP, Actor: e.Actor, TokenId: e.Token,
		OnBehalfOf: e.OnBehalfOf, Action: e.Action, Target: e.Target, Outcome: e.Outcome, ZedToken: e.ZedToken,
	}
}
