package tenancy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// The object types and attributes of sign-in (schema/msp.zed).
const (
	typeIdentityProvider = "identity_provider"
	typeIssuer           = "issuer"
	typeExternalIdentity = "external_identity"
	typeSession          = "session"
	relIssuer            = "issuer"
	relUser              = "user"

	attrExternalID     = "external_id"
	attrIssuer         = "issuer"
	attrClientID       = "client_id"
	attrClaim          = "claim"
	attrAllowedDomains = "allowed_domains"
	attrSealedSecret   = "client_secret_sealed"
)

// The claims of an ID token that may name a user (IdentityProvider.Claim).
const (
	ClaimEmail             = "email"
	ClaimPreferredUsername = "preferred_username"
	ClaimSubject           = "sub"
)

// IdentityProvider is an OpenID Connect provider that signs in an MSP's
// staff (CustomerID "") or the own users of one of its customers.
type IdentityProvider struct {
	MSP        string
	CustomerID string
	// Issuer is the provider's issuer URL, exactly as its tokens' iss.
	Issuer string
	// ClientID is mspauthz's client at the provider: the audience of the
	// tokens it accepts.
	ClientID string
	// ClientSecret is write-only: SetIdentityProvider takes it (empty keeps
	// the one set for the same client id), no read returns it.
	ClientSecret string
	// HasClientSecret says that a client secret is set.
	HasClientSecret bool
	// Claim is the claim of a token that names the user: ClaimEmail,
	// ClaimPreferredUsername or ClaimSubject, matched to users' externalId.
	Claim string
	// AllowedDomains, when not empty, are the only email domains whose
	// people may sign in.
	AllowedDomains []string

	sealedSecret string
}

// Sealer seals the secrets the service must use again (an identity
// provider's client secret), bound to what they belong to (context); Open
// fails with Internal for a secret sealed with another key, or tampered.
type Sealer interface {
	Seal(plaintext, context string) (string, error)
	Open(sealed, context string) (string, error)
}

// SetSealer makes the service seal identity providers' client secrets
// with x. Without one, a client secret is refused.
func (s *Service) SetSealer(x Sealer) { s.sealer = x }

// AllowHTTPIssuers lets identity providers have http:// issuers (a
// provider in the same private network, as docker-compose.yml's Dex);
// otherwise only https:// and loopback http:// issuers are taken.
func (s *Service) AllowHTTPIssuers(allow bool) { s.httpIssuers = allow }

// identityProviderObject is the provider of msp (customer "") or of one of its customers.
func identityProviderObject(msp, customer string) graph.Object {
	if customer == "" {
		return graph.Object{Type: typeIdentityProvider, ID: msp}
	}
	return scoped(typeIdentityProvider, msp, customer)
}

// hashed is the object id of a string that is no object id (an issuer URL,
// an externalId): its SHA-256.
func hashed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func issuerObject(issuer string) graph.Object {
	return graph.Object{Type: typeIssuer, ID: hashed(issuer)}
}

func externalIdentityObject(msp, externalID string) graph.Object {
	return scoped(typeExternalIdentity, msp, hashed(externalID))
}

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// checkText refuses a value that is empty, not printable or longer than max.
func checkText(field, value string, max int) error {
	switch {
	case strings.TrimSpace(value) == "":
		return fault.New(fault.Invalid, "%s is required", field)
	case !utf8.ValidString(value) || strings.IndexFunc(value, unicode.IsControl) >= 0:
		return fault.New(fault.Invalid, "%s must be printable text", field)
	case utf8.RuneCountInString(value) > max:
		return fault.New(fault.Invalid, "%s is longer than %d characters", field, max)
	}
	return nil
}

// checkExternalID refuses an externalId that is not printable text of at
// most 256 characters; "" (none) passes.
func checkExternalID(field, id string) error {
	if id == "" {
		return nil
	}
	return checkText(field, id, 256)
}

// checkIssuer refuses an issuer that is not an absolute https URL (or
// http, on loopback or when allowed) without query or fragment.
func (s *Service) checkIssuer(issuer string) error {
	if err := checkText("issuer", issuer, 2048); err != nil {
		return err
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fault.New(fault.Invalid, "issuer: %q is not an issuer URL (https://host[/path], no query or fragment)", issuer)
	}
	if u.Scheme == "http" && !s.httpIssuers && !isLoopback(u.Hostname()) {
		return fault.New(fault.Invalid, "issuer: %q is plain http: an issuer must be https (this server takes http issuers only on loopback, or with --allow-http-issuers)", issuer)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

// checkIdentityProvider checks and normalizes a provider's configuration.
func (s *Service) checkIdentityProvider(p *IdentityProvider) error {
	if p.Claim == "" {
		p.Claim = ClaimEmail
	}
	if err := firstError(s.checkIssuer(p.Issuer), checkText("clientId", p.ClientID, 256)); err != nil {
		return err
	}
	if !slices.Contains([]string{ClaimEmail, ClaimPreferredUsername, ClaimSubject}, p.Claim) {
		return fault.New(fault.Invalid, "claim: %q is not a claim that names a user (email, preferred_username or sub)", p.Claim)
	}
	if p.ClientSecret != "" {
		if err := checkText("clientSecret", p.ClientSecret, 1024); err != nil {
			return err
		}
		if s.sealer == nil {
			return fault.New(fault.Internal, "this server cannot seal client secrets")
		}
	}
	seen := map[string]bool{}
	for i, d := range p.AllowedDomains {
		d = strings.ToLower(d)
		if !domainPattern.MatchString(d) {
			return fault.New(fault.Invalid, "allowedDomains[%d]: %q is not a domain name", i, p.AllowedDomains[i])
		}
		if seen[d] {
			return fault.New(fault.Invalid, "allowedDomains: %q is given twice", d)
		}
		seen[d] = true
		p.AllowedDomains[i] = d
	}
	return nil
}

// SetIdentityProvider configures the identity provider of msp (customer
// "": needs settings.manage) or of one of its customers (only by one of the
// customer's built-in administrators). Its issuer may be no other
// provider's, here or in another MSP (AlreadyExists). The client secret is
// sealed (see Sealer) and never returned.
func (s *Service) SetIdentityProvider(ctx context.Context, msp, customer string, p IdentityProvider) (*IdentityProvider, error) {
	if err := s.checkProviderOwner(msp, customer); err != nil {
		return nil, err
	}
	p.AllowedDomains = slices.Clone(p.AllowedDomains)
	if err := s.checkIdentityProvider(&p); err != nil {
		return nil, err
	}
	obj := identityProviderObject(msp, customer)
	var set *IdentityProvider
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorizeProviderOwner(ctx, customer, "configure its identity provider"); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		old := providerOf(msp, customer, current)
		next := p
		next.MSP, next.CustomerID = msp, customer
		switch {
		case p.ClientSecret != "":
			if next.sealedSecret, err = s.sealer.Seal(p.ClientSecret, obj.String()); err != nil {
				return nil, fault.Wrap(err, fault.Internal, "seal the client secret")
			}
		case old != nil && old.ClientID == p.ClientID:
			next.sealedSecret = old.sealedSecret
		}
		next.ClientSecret, next.HasClientSecret = "", next.sealedSecret != ""
		set = &next
		updates := []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(obj, relMSP, mspObject(msp)).WithAttributes(next.attributes())}}
		if old != nil && old.Issuer == p.Issuer {
			return updates, nil
		}
		claim := issuerObject(p.Issuer)
		taken, err := sn.read(ctx, graph.Filter{ResourceType: typeIdentityProvider, Relation: relIssuer, SubjectType: typeIssuer, SubjectID: claim.ID})
		if err != nil {
			return nil, err
		}
		if len(taken) > 0 {
			return nil, fault.New(fault.AlreadyExists, "issuer: %q is already the identity provider of another MSP or customer; an issuer signs in to one only", p.Issuer)
		}
		sn.requireAbsent(graph.Filter{ResourceType: typeIdentityProvider, Relation: relIssuer, SubjectType: typeIssuer, SubjectID: claim.ID})
		if old != nil {
			updates = append(updates, graph.Update{Op: graph.Delete, Relationship: graph.Rel(obj, relIssuer, issuerObject(old.Issuer))})
		}
		return append(updates, graph.Update{Op: graph.Create, Relationship: graph.Rel(obj, relIssuer, claim)}), nil
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// GetIdentityProvider returns the identity provider of msp (customer "")
// or of one of its customers, to those who may configure it; NotFound when
// none is configured.
func (s *Service) GetIdentityProvider(ctx context.Context, msp, customer string) (*IdentityProvider, error) {
	if err := s.checkProviderOwner(msp, customer); err != nil {
		return nil, err
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	if err := sn.authorizeProviderOwner(ctx, customer, "read its identity provider"); err != nil {
		return nil, err
	}
	return s.readProvider(ctx, msp, customer, graph.At(sn.rev))
}

// readProvider reads the provider of msp or of one of its customers.
// Errors: NotFound when there is none, Unavailable.
func (s *Service) readProvider(ctx context.Context, msp, customer string, c graph.Consistency) (*IdentityProvider, error) {
	obj := identityProviderObject(msp, customer)
	rels, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID, Relation: relMSP}, c)
	if err != nil {
		return nil, err
	}
	p := providerOf(msp, customer, rels)
	if p == nil {
		return nil, fault.New(fault.NotFound, "%s has no identity provider", providerOwnerName(msp, customer))
	}
	return p, nil
}

// DeleteIdentityProvider removes the identity provider of msp or of one of
// its customers: its people sign in no more (open sessions stay until they
// end), nor do its tokens authenticate.
func (s *Service) DeleteIdentityProvider(ctx context.Context, msp, customer string) error {
	if err := s.checkProviderOwner(msp, customer); err != nil {
		return err
	}
	obj := identityProviderObject(msp, customer)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorizeProviderOwner(ctx, customer, "remove its identity provider"); err != nil {
			return nil, err
		}
		rels, err := sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		if len(rels) == 0 {
			return nil, fault.New(fault.NotFound, "%s has no identity provider", providerOwnerName(msp, customer))
		}
		return deletes(rels), nil
	})
	return err
}

func (s *Service) checkProviderOwner(msp, customer string) error {
	if customer == "" {
		return checkID("mspId", msp)
	}
	return firstError(checkID("mspId", msp), checkID("customerId", customer))
}

func providerOwnerName(msp, customer string) string {
	if customer == "" {
		return "msp " + quote(msp)
	}
	return "customer " + quote(customer)
}

func quote(s string) string { return `"` + s + `"` }

// authorizeProviderOwner refuses an actor who may not configure the
// identity provider of the MSP (settings.manage) or of the customer (its
// built-in administrators only; a customer he may not see is not found).
func (sn *snapshot) authorizeProviderOwner(ctx context.Context, customer, what string) error {
	if customer == "" {
		return sn.authorize(ctx, permSettingsManage, mspObject(sn.msp))
	}
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
		return err
	}
	return sn.requireCustomerAdministrator(ctx, customer, what)
}

// attributes are the provider's configuration as its msp relationship holds it.
func (p IdentityProvider) attributes() map[string]string {
	attrs := map[string]string{attrIssuer: p.Issuer, attrClientID: p.ClientID, attrClaim: p.Claim, attrAllowedDomains: strings.Join(p.AllowedDomains, ",")}
	if p.sealedSecret != "" {
		attrs[attrSealedSecret] = p.sealedSecret
	}
	return attrs
}

// providerOf is the provider the relationships of its object describe, or
// nil when they describe none.
func providerOf(msp, customer string, rels []graph.Relationship) *IdentityProvider {
	for _, r := range rels {
		if r.Relation != relMSP {
			continue
		}
		p := &IdentityProvider{
			MSP: msp, CustomerID: customer,
			Issuer: r.Attribute(attrIssuer), ClientID: r.Attribute(attrClientID), Claim: r.Attribute(attrClaim),
			sealedSecret: r.Attribute(attrSealedSecret),
		}
		p.HasClientSecret = p.sealedSecret != ""
		if d := r.Attribute(attrAllowedDomains); d != "" {
			p.AllowedDomains = strings.Split(d, ",")
		}
		return p
	}
	return nil
}

// IdentityProviderOf returns the provider of msp (customer "") or of one of
// its customers, for sign-in: no actor is asked. Errors: NotFound when
// there is none, Unavailable.
func (s *Service) IdentityProviderOf(ctx context.Context, msp, customer string) (*IdentityProvider, error) {
	if err := s.checkProviderOwner(msp, customer); err != nil {
		return nil, err
	}
	return s.readProvider(ctx, msp, customer, graph.Full())
}

// IdentityProviderByIssuer returns the one provider whose issuer is
// issuer: it names the MSP (or customer) a token of that issuer signs in
// to. Errors: Unauthenticated when none is, Unavailable.
func (s *Service) IdentityProviderByIssuer(ctx context.Context, issuer string) (*IdentityProvider, error) {
	rels, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: typeIdentityProvider, Relation: relIssuer, SubjectType: typeIssuer, SubjectID: hashed(issuer)}, graph.Full())
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fault.New(fault.Unauthenticated, "issuer %q is the identity provider of no MSP or customer here", issuer)
	}
	msp, customer, _ := strings.Cut(rels[0].Resource.ID, "/")
	p, err := s.IdentityProviderOf(ctx, msp, customer)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.Unauthenticated, "issuer %q is the identity provider of no MSP or customer here", issuer)
	}
	return p, err
}

// ClientSecret opens the provider's client secret, for the code exchange;
// "" when none is set. Errors: Internal for a secret this server's key
// cannot open (sealed with another key: configure the provider again).
func (s *Service) ClientSecret(p *IdentityProvider) (string, error) {
	if p.sealedSecret == "" {
		return "", nil
	}
	if s.sealer == nil {
		return "", fault.New(fault.Internal, "this server cannot open client secrets")
	}
	obj := identityProviderObject(p.MSP, p.CustomerID)
	secret, err := s.sealer.Open(p.sealedSecret, obj.String())
	if err != nil {
		return "", fault.Wrap(err, fault.Internal, "the client secret of %s's identity provider cannot be opened with this server's key (sealed with another? configure it again)", providerOwnerName(p.MSP, p.CustomerID))
	}
	return secret, nil
}

// SignInUser returns the user of the provider's MSP whose externalId is
// externalID and whom the provider signs in: staff through the MSP's
// provider, a customer's own users through the customer's (they then act
// as that user: his customer's side only). Errors: Unauthenticated when
// there is no such user, Unavailable. An absence is confirmed at a
// revision that sees every acknowledged write.
func (s *Service) SignInUser(ctx context.Context, p *IdentityProvider, externalID string) (string, error) {
	identity := externalIdentityObject(p.MSP, externalID)
	filter := graph.Filter{ResourceType: identity.Type, ResourceID: identity.ID, Relation: relUser}
	rels, _, err := s.graph.Read(ctx, filter, graph.Full())
	if err == nil && len(rels) == 0 {
		var fresh graph.Revision
		if fresh, err = s.graph.FreshRevision(ctx); err == nil {
			rels, _, err = s.graph.Read(ctx, filter, graph.AtLeast(fresh))
		}
	}
	if err != nil {
		return "", err
	}
	if len(rels) == 0 {
		return "", fault.New(fault.Unauthenticated, "no user of msp %q has the externalId %q (the %s claim of the token)", p.MSP, externalID, p.Claim)
	}
	user := localID(p.MSP, rels[0].Subject.ID)
	u := userObject(p.MSP, user)
	checks := []graph.Check{{Resource: mspObject(p.MSP), Permission: relMember, Subject: u}}
	if p.CustomerID != "" {
		checks = append(checks, graph.Check{Resource: customerObject(p.MSP, p.CustomerID), Permission: "end_customer", Subject: u})
	}
	found, _, err := s.graph.Check(ctx, checks, graph.Full())
	if err != nil {
		return "", err
	}
	switch {
	case p.CustomerID == "" && !found[0]:
		return "", fault.New(fault.Unauthenticated, "user %q is no MSP user of msp %q: a customer's users sign in through their customer's identity provider", user, p.MSP)
	case p.CustomerID != "" && (found[0] || !found[1]):
		return "", fault.New(fault.Unauthenticated, "user %q is not one of customer %q's own users: only they sign in through its identity provider", user, p.CustomerID)
	}
	return user, nil
}

// claimExternalID gives user the externalId, in a save: it refuses one that
// another user of the MSP holds at the snapshot, and makes the write require
// it still free (a user created at once may take it).
func (sn *snapshot) claimExternalID(ctx context.Context, field, externalID string, user graph.Object) ([]graph.Update, error) {
	identity := externalIdentityObject(sn.msp, externalID)
	filter := graph.Filter{ResourceType: identity.Type, ResourceID: identity.ID}
	taken, err := sn.read(ctx, filter)
	if err != nil {
		return nil, err
	}
	if len(taken) > 0 {
		return nil, externalIDTaken(field, externalID, localID(sn.msp, taken[0].Subject.ID))
	}
	sn.requireAbsent(filter)
	return creates(graph.Rel(identity, relUser, user)), nil
}

func externalIDTaken(field, externalID, holder string) error {
	return fault.New(fault.AlreadyExists, "%s: %q is already the externalId of user %q; an identity names one user", field, externalID, holder)
}

// newUserRels are a new user's own relationships: his msp edge and his
// attributes (display name, externalId). His external identity is claimed
// apart (claimExternalID).
func newUserRels(msp string, user graph.Object, displayName, externalID string) []graph.Relationship {
	rels := objectRels(user, msp, displayName)
	if externalID != "" {
		rels[1] = rels[1].WithAttributes(map[string]string{attrDisplayName: displayName, attrExternalID: externalID})
	}
	return rels
}
