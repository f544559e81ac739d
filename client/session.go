package client

import (
	"context"
	"errors"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Session keeps one caller's reads at least as fresh as everything it has
// seen: every call made under a context from WithSession sends the session's
// ZedToken as atLeastAsFresh (unless the request names one), and every answer
// hands back its own (a save's writtenAt, a question's checkedAt).
//
// ZedTokens are opaque: mspauthz orders them inside (on its datastore's
// revisions) but the API does not, so the session never compares two. Its
// token is "the newest" in this sense, which is all that read-your-writes
// needs:
//   - a save's writtenAt replaces it: the save was made after everything the
//     session saw, so its revision covers them;
//   - a read's checkedAt replaces it only if the read was sent with the
//     session's current token (then the answer covers that token); an answer
//     to a read sent before a later save came back is dropped.
//
// Two saves made concurrently in one session: the one acknowledged last
// wins, and a read covers the other only if it committed first. Sessions of
// one person's sequential requests (a web session) never see that.
type Session struct {
	mu    sync.Mutex
	token string
	taken uint64 // counts the tokens taken: a read's answer applies only if none came since it was sent
}

// NewSession starts a session that has seen nothing: its first read is
// answered as fresh as the service answers by default.
func NewSession() *Session { return &Session{} }

// ImportSession resumes a session from what Export returned (an empty
// string is a new session).
func ImportSession(exported string) (*Session, error) {
	if strings.ContainsAny(exported, " \t\r\n") {
		return nil, errors.New("client: an exported session is one ZedToken, without spaces")
	}
	return &Session{token: exported}, nil
}

// Export is the session as a string to keep (in a web session's cookie or
// store), for ImportSession: its ZedToken.
func (s *Session) Export() string { return s.Token() }

// Token is the newest ZedToken the session has seen ("" for none).
func (s *Session) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// sent is the token a call is sent with and the count to give back to seen.
func (s *Session) sent() (string, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.taken
}

// seen takes the token of an answer to a call sent at count.
func (s *Session) seen(token string, write bool, count uint64) {
	if token == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if write || count == s.taken {
		s.token = token
		s.taken++
	}
}

type sessionKey struct{}

// WithSession makes the calls under ctx read at least as fresh as s, and
// feed s the tokens of their answers.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom is the session of ctx, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// The fields a request and an answer carry ZedTokens in, in every service.
const (
	fieldAtLeastAsFresh protoreflect.Name = "at_least_as_fresh"
	fieldCheckedAt      protoreflect.Name = "checked_at"
	fieldWrittenAt      protoreflect.Name = "written_at"
)

// sessionInterceptor applies the session of the call's context to any call
// of the API: the request's at_least_as_fresh, the answer's checked_at or
// written_at.
func sessionInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	s := SessionFrom(ctx)
	if s == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	token, count := s.sent()
	if m, ok := req.(proto.Message); ok && token != "" {
		if f := field(m, fieldAtLeastAsFresh); f != nil && m.ProtoReflect().Get(f).String() == "" {
			m = proto.Clone(m) // the caller's request stays as it gave it
			m.ProtoReflect().Set(f, protoreflect.ValueOfString(token))
			req = m
		}
	}
	if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
		return err
	}
	if m, ok := reply.(proto.Message); ok {
		if f := field(m, fieldWrittenAt); f != nil {
			s.seen(m.ProtoReflect().Get(f).String(), true, count)
		} else if f := field(m, fieldCheckedAt); f != nil {
			s.seen(m.ProtoReflect().Get(f).String(), false, count)
		}
	}
	return nil
}

// field is m's string field of that name, or nil.
func field(m proto.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	f := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if f == nil || f.Kind() != protoreflect.StringKind || f.IsList() {
		return nil
	}
	return f
}
