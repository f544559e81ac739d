package auth

import (
	"context"
	"crypto/subtle"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Session cookie format: "mspzs_<id>_<secret>", as a token's; the record in
// SpiceDB holds only the secret's SHA-256.
var sessionPattern = regexp.MustCompile(`^mspzs_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$`)

// Defaults of a session's lifetime.
const (
	DefaultSessionIdleTimeout = 30 * time.Minute
	DefaultSessionMaxAge      = 12 * time.Hour
)

const (
	typeSession  = "session"
	relUser      = "user"
	attrOpened   = "opened"
	attrSeen     = "seen"
	attrSignedIn = "signed_in"
)

// Sessions are the console sessions of signed-in people: a random cookie,
// whose server-side record (session:<id>#user@user:<msp>/<user> in SpiceDB,
// with the secret's hash) ends at sign-out, with the user, after IdleTimeout
// without a request, and MaxAge after sign-in. The verification checks both
// times; the record expires in SpiceDB by itself a little later
// (expiryGrace). A verified session is cached for DefaultCacheTTL, as a
// token is: a sign-out through another process applies within it.
type Sessions struct {
	graph     graph.Graph
	idle, max time.Duration
	refresh   time.Duration
	now       func() time.Time
	mu        sync.Mutex
	cache     map[string]cachedSession
	ttl       time.Duration
}

type cachedSession struct {
	msp, user, hash, signedIn string
	opened, seen              time.Time
	fetched                   time.Time
}

// NewSessions returns the sessions stored in g, with the given timeouts
// (the defaults when 0).
func NewSessions(g graph.Graph, idle, maxAge time.Duration) *Sessions {
	if idle <= 0 {
		idle = DefaultSessionIdleTimeout
	}
	if maxAge <= 0 {
		maxAge = DefaultSessionMaxAge
	}
	return &Sessions{graph: g, idle: idle, max: maxAge, refresh: min(idle/10, time.Minute), now: time.Now,
		cache: map[string]cachedSession{}, ttl: min(DefaultCacheTTL, idle/2)}
}

// IdleTimeout is how long a session lasts without a request; MaxAge how
// long it lasts at most.
func (s *Sessions) IdleTimeout() time.Duration { return s.idle }

// MaxAge is how long a session lasts at most after sign-in.
func (s *Sessions) MaxAge() time.Duration { return s.max }

func sessionObject(id string) graph.Object { return graph.Object{Type: typeSession, ID: id} }

// record is a session's relationship, last used at seen.
func (s *Sessions) record(id string, c cachedSession) graph.Relationship {
	r := graph.Rel(sessionObject(id), relUser, graph.Object{Type: typeUser, ID: c.msp + "/" + c.user}).WithAttributes(map[string]string{
		attrSecret: c.hash, attrOpened: unixNano(c.opened), attrSeen: unixNano(c.seen), attrSignedIn: c.signedIn,
	})
	r.Expires = minTime(c.seen.Add(s.idle), c.opened.Add(s.max)).Add(expiryGrace)
	return r
}

// expiryGrace is how long after its timeout a session's record expires in
// SpiceDB: the verification refuses it at the timeout itself, saying so;
// SpiceDB then forgets it.
const expiryGrace = time.Minute

func unixNano(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func parseUnixNano(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Unix(0, n)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Open opens a session of user of msp, who signed in as signedIn says (an
// issuer, or the demo sign-in), and returns its cookie value, which is not
// kept. Errors: NotFound for an unknown user, Unavailable.
func (s *Sessions) Open(ctx context.Context, msp, user, signedIn string) (string, error) {
	id, secret := randomID(), randomText(32)
	now := s.now()
	c := cachedSession{msp: msp, user: user, hash: hashHex(secret), signedIn: signedIn, opened: now, seen: now}
	u := graph.Object{Type: typeUser, ID: msp + "/" + user}
	_, err := s.graph.Write(ctx, []graph.Update{{Op: graph.Create, Relationship: s.record(id, c)}},
		[]graph.Precondition{{MustMatch: true, Filter: graph.Filter{ResourceType: typeUser, ResourceID: u.ID, Relation: "msp"}}})
	if fault.Is(err, fault.Conflict) {
		return "", fault.New(fault.NotFound, "user %q of msp %q not found", user, msp)
	}
	if err != nil {
		return "", err
	}
	return "mspzs_" + id + "_" + secret, nil
}

// Authenticate verifies a session cookie's value and returns its caller; a
// session used after a tenth of its idle timeout (at most a minute) is
// renewed in SpiceDB. Errors: Unauthenticated (unknown, signed out, its
// user deleted, timed out), Unavailable.
func (s *Sessions) Authenticate(ctx context.Context, cookie string) (Caller, error) {
	m := sessionPattern.FindStringSubmatch(cookie)
	if m == nil {
		return Caller{}, fault.New(fault.Unauthenticated, "unknown or ended session: sign in again")
	}
	id, secret := m[1], m[2]
	c, err := s.lookup(ctx, id)
	if err != nil {
		return Caller{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hashHex(secret)), []byte(c.hash)) != 1 {
		return Caller{}, fault.New(fault.Unauthenticated, "unknown or ended session: sign in again")
	}
	now := s.now()
	switch {
	case !now.Before(c.opened.Add(s.max)):
		return Caller{}, s.end(id, "session expired: it lasts %s after sign-in; sign in again", s.max)
	case !now.Before(c.seen.Add(s.idle)):
		return Caller{}, s.end(id, "session expired: unused for %s; sign in again", s.idle)
	case now.Sub(c.seen) >= s.refresh:
		if err := s.renew(ctx, id, c, now); err != nil {
			return Caller{}, err
		}
	}
	return Caller{MSP: c.msp, User: c.user, Session: id}, nil
}

// end forgets a session that timed out (SpiceDB lets its record expire)
// and returns the error that says so.
func (s *Sessions) end(id, format string, arg time.Duration) error {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	return fault.New(fault.Unauthenticated, format, arg)
}

// renew records that the session was used at now, provided its record still
// is the one read (not signed out or deleted meanwhile).
func (s *Sessions) renew(ctx context.Context, id string, c cachedSession, now time.Time) error {
	old := s.record(id, c)
	c.seen = now
	_, err := s.graph.Write(ctx, []graph.Update{{Op: graph.Touch, Relationship: s.record(id, c)}},
		[]graph.Precondition{{MustMatch: true, Filter: graph.FilterOf(old)}})
	if fault.Is(err, fault.Conflict) {
		s.Forget(c.msp, c.user)
		return fault.New(fault.Unauthenticated, "unknown or ended session: sign in again")
	}
	if err != nil {
		return err
	}
	c.fetched = now
	s.mu.Lock()
	s.cache[id] = c
	s.mu.Unlock()
	return nil
}

func (s *Sessions) lookup(ctx context.Context, id string) (cachedSession, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < s.ttl {
		return c, nil
	}
	rels, err := readFresh(ctx, s.graph, graph.Filter{ResourceType: typeSession, ResourceID: id, Relation: relUser})
	if err != nil {
		return cachedSession{}, err
	}
	if len(rels) != 1 || rels[0].Attribute(attrSecret) == "" {
		return cachedSession{}, fault.New(fault.Unauthenticated, "unknown or ended session: sign in again")
	}
	r := rels[0]
	c = cachedSession{hash: r.Attribute(attrSecret), signedIn: r.Attribute(attrSignedIn),
		opened: parseUnixNano(r.Attribute(attrOpened)), seen: parseUnixNano(r.Attribute(attrSeen)), fetched: now}
	c.msp, c.user, _ = strings.Cut(r.Subject.ID, "/")
	s.mu.Lock()
	s.cache[id] = c
	s.mu.Unlock()
	return c, nil
}

// Close ends the session a cookie names (sign-out): its record is deleted,
// and it fails at once in this process. A cookie that names no session
// ends nothing.
func (s *Sessions) Close(ctx context.Context, cookie string) error {
	m := sessionPattern.FindStringSubmatch(cookie)
	if m == nil {
		return nil
	}
	id := m[1]
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	rels, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: typeSession, ResourceID: id, Relation: relUser}, graph.Full())
	if err != nil || len(rels) != 1 || subtle.ConstantTimeCompare([]byte(hashHex(m[2])), []byte(rels[0].Attribute(attrSecret))) != 1 {
		return err
	}
	_, err = s.graph.DeleteMatching(ctx, graph.Filter{ResourceType: typeSession, ResourceID: id}, nil)
	return err
}

// Forget drops from the cache the sessions of msp (of user, when given),
// as Tokens.Forget does tokens.
func (s *Sessions) Forget(msp, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.cache {
		if c.msp == msp && (user == "" || c.user == user) {
			delete(s.cache, id)
		}
	}
}

// SessionCookie is the name of the console session's cookie.
const SessionCookie = "mspauthz_session"

// SessionMetadata is the gRPC metadata key that carries a console session's
// cookie value to the API: the REST gateway and the console pass the
// session cookie in it when a request has no Authorization header.
const SessionMetadata = "x-mspauthz-session"
