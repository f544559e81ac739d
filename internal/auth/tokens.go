package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Token format: "mspz_<id>_<secret>". The id is public (it names the token in
// lists and logs); the secret is 32 random bytes, stored only as its SHA-256.
const tokenPrefix = "mspz_"

var (
	tokenPattern   = regexp.MustCompile(`^mspz_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$`)
	tokenIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)
)

// MinPlatformTokenLength is the shortest bootstrap platform token accepted.
const MinPlatformTokenLength = 16

// DefaultCacheTTL is how long a verified token is trusted without asking
// SpiceDB again. A token revoked through another mspauthz process stops
// working within this time; through this process, at once.
const DefaultCacheTTL = 5 * time.Second

const (
	typeAPIToken = "api_token"
	typeMSP      = "msp"
	typeUser     = "user"
	relScope     = "scope"
	attrSecret   = "secret_sha256"
)

// Tokens verifies bearer tokens: the bootstrap platform token, held in memory
// as a hash, and MSP-scoped tokens, stored as relationships in SpiceDB.
type Tokens struct {
	graph        graph.Graph
	platformHash [sha256.Size]byte
	ttl          time.Duration

	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	msp     string
	user    string
	hash    string
	expires time.Time
}

// NewTokens returns Tokens over g that accept platformToken as the platform
// administrator's token.
func NewTokens(g graph.Graph, platformToken string) (*Tokens, error) {
	if len(platformToken) < MinPlatformTokenLength {
		return nil, fault.New(fault.Invalid, "the platform token must be at least %d characters", MinPlatformTokenLength)
	}
	return &Tokens{graph: g, platformHash: sha256.Sum256([]byte(platformToken)), ttl: DefaultCacheTTL, cache: map[string]cachedToken{}}, nil
}

// GeneratePlatformToken returns a fresh random platform token.
func GeneratePlatformToken() string {
	return "mspz_platform_" + randomText(32)
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Verify verifies a bearer token (the platform token or an API token)
// and returns its caller. Errors are Unauthenticated, or Unavailable when
// SpiceDB cannot be asked.
func (t *Tokens) Verify(ctx context.Context, token string) (Caller, error) {
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], t.platformHash[:]) == 1 {
		return Caller{Platform: true, TokenID: "platform"}, nil
	}
	m := tokenPattern.FindStringSubmatch(token)
	if m == nil {
		return Caller{}, fault.New(fault.Unauthenticated, "unknown or revoked token")
	}
	id, secret := m[1], m[2]
	entry, err := t.lookup(ctx, id)
	if err != nil {
		return Caller{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hashHex(secret)), []byte(entry.hash)) != 1 {
		return Caller{}, fault.New(fault.Unauthenticated, "unknown or revoked token")
	}
	return Caller{MSP: entry.msp, User: entry.user, TokenID: id}, nil
}

func (t *Tokens) lookup(ctx context.Context, id string) (cachedToken, error) {
	now := time.Now()
	t.mu.Lock()
	entry, ok := t.cache[id]
	t.mu.Unlock()
	if ok && now.Before(entry.expires) {
		return entry, nil
	}
	rels, err := t.readToken(ctx, id)
	if err != nil {
		return cachedToken{}, err
	}
	if len(rels) != 1 || rels[0].Attribute(attrSecret) == "" {
		return cachedToken{}, fault.New(fault.Unauthenticated, "unknown or revoked token")
	}
	entry = cachedToken{msp: rels[0].Subject.ID, hash: rels[0].Attribute(attrSecret), expires: now.Add(t.ttl)}
	if rels[0].Subject.Type == typeUser {
		entry.msp, entry.user, _ = strings.Cut(rels[0].Subject.ID, "/")
	}
	t.mu.Lock()
	t.cache[id] = entry
	t.mu.Unlock()
	return entry, nil
}

// readToken reads a token's scope relationship (see readFresh).
func (t *Tokens) readToken(ctx context.Context, id string) ([]graph.Relationship, error) {
	return readFresh(ctx, t.graph, graph.Filter{ResourceType: typeAPIToken, ResourceID: id, Relation: relScope})
}

// readFresh reads a credential's relationships. When a fully consistent
// read finds none, it asks again at a revision that sees every write
// acknowledged before: under load SpiceDB v1.56.0's fully consistent read
// can miss a credential issued a moment ago (see graph.Full). The second
// read costs a write that changes nothing, shared by the callers that wait
// at once.
func readFresh(ctx context.Context, g graph.Graph, filter graph.Filter) ([]graph.Relationship, error) {
	rels, _, err := g.Read(ctx, filter, graph.Full())
	if err != nil || len(rels) > 0 {
		return rels, err
	}
	fresh, err := g.FreshRevision(ctx)
	if err != nil {
		return nil, err
	}
	rels, _, err = g.Read(ctx, filter, graph.AtLeast(fresh))
	return rels, err
}

// Issue creates a service token of msp and returns its id and the token, whose
// secret is not kept anywhere. Errors: NotFound for an unknown MSP.
func (t *Tokens) Issue(ctx context.Context, msp string) (id, token string, err error) {
	return t.issue(ctx, graph.Object{Type: typeMSP, ID: msp},
		graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: "save_epoch"}, fmt.Sprintf("msp %q", msp))
}

// IssueForUser creates a token that acts as user of msp. Errors: NotFound
// for an unknown user.
func (t *Tokens) IssueForUser(ctx context.Context, msp, user string) (id, token string, err error) {
	u := graph.Object{Type: typeUser, ID: msp + "/" + user}
	return t.issue(ctx, u, graph.Filter{ResourceType: typeUser, ResourceID: u.ID, Relation: "msp"}, fmt.Sprintf("userId: user %q", user))
}

// issue writes a token scoped to scope, which must exist (exists matches it).
func (t *Tokens) issue(ctx context.Context, scope graph.Object, exists graph.Filter, what string) (id, token string, err error) {
	id, secret := randomID(), randomText(32)
	rel := graph.Rel(graph.Object{Type: typeAPIToken, ID: id}, relScope, scope).
		WithAttributes(map[string]string{attrSecret: hashHex(secret)})
	_, err = t.graph.Write(ctx, []graph.Update{{Op: graph.Create, Relationship: rel}}, []graph.Precondition{{MustMatch: true, Filter: exists}})
	if fault.Is(err, fault.Conflict) {
		return "", "", fault.New(fault.NotFound, "%s not found", what)
	}
	if err != nil {
		return "", "", err
	}
	return id, tokenPrefix + id + "_" + secret, nil
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Revoke deletes a token of msp; it stops working at once in this process.
// Errors: NotFound for a token that is not msp's.
func (t *Tokens) Revoke(ctx context.Context, msp, id string) error {
	if !tokenIDPattern.MatchString(id) {
		return fault.New(fault.NotFound, "tokenId: token %q not found", id)
	}
	notFound := fault.New(fault.NotFound, "tokenId: token %q not found", id)
	rels, err := t.readToken(ctx, id)
	if err != nil {
		return err
	}
	if len(rels) != 1 || !belongsTo(rels[0], msp) {
		return notFound
	}
	// The precondition makes sure the token read is the one deleted.
	_, err = t.graph.DeleteMatching(ctx, graph.Filter{ResourceType: typeAPIToken, ResourceID: id}, []graph.Precondition{
		{MustMatch: true, Filter: graph.FilterOf(rels[0])},
	})
	t.mu.Lock()
	delete(t.cache, id)
	t.mu.Unlock()
	if fault.Is(err, fault.Conflict) {
		return notFound
	}
	return err
}

// Forget drops from the cache the tokens of msp (of user, when given): for
// an MSP or a user just deleted, whose tokens then fail at once in this
// process (other processes trust their cache up to DefaultCacheTTL).
func (t *Tokens) Forget(msp, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, e := range t.cache {
		if e.msp == msp && (user == "" || e.user == user) {
			delete(t.cache, id)
		}
	}
}

// belongsTo reports whether a token's scope relationship is of msp: its
// service token, or a token of one of its users.
func belongsTo(scope graph.Relationship, msp string) bool {
	return scope.Subject == graph.Object{Type: typeMSP, ID: msp} ||
		scope.Subject.Type == typeUser && strings.HasPrefix(scope.Subject.ID, msp+"/")
}

// List returns the ids of msp's tokens, service and user tokens alike.
func (t *Tokens) List(ctx context.Context, msp string) ([]string, error) {
	service, _, err := t.graph.Read(ctx, graph.Filter{ResourceType: typeAPIToken, Relation: relScope, SubjectType: typeMSP, SubjectID: msp}, graph.Full())
	if err != nil {
		return nil, err
	}
	users, err := t.userTokens(ctx, msp)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range append(service, users...) {
		ids = append(ids, r.Resource.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

// userTokens reads the scope relationships of msp's user tokens. SpiceDB
// cannot filter subjects by id prefix: this reads every user token.
func (t *Tokens) userTokens(ctx context.Context, msp string) ([]graph.Relationship, error) {
	rels, _, err := t.graph.Read(ctx, graph.Filter{ResourceType: typeAPIToken, Relation: relScope, SubjectType: typeUser}, graph.Full())
	if err != nil {
		return nil, err
	}
	var out []graph.Relationship
	for _, r := range rels {
		if belongsTo(r, msp) {
			out = append(out, r)
		}
	}
	return out, nil
}
