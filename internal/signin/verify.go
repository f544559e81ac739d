package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// ClockSkew is how far the clocks of an identity provider and of mspauthz
// may disagree: a token is taken up to this long after its exp, and this
// long before its nbf and iat.
const ClockSkew = 30 * time.Second

// Verifier verifies the tokens of the identity providers configured in the
// domain: JWT bearer tokens of API callers, and the ID tokens of the code
// flow.
type Verifier struct {
	domain  *tenancy.Service
	issuers *issuers
	now     func() time.Time
}

// Options configure a Verifier.
type Options struct {
	// Client is the HTTP client that asks identity providers (a 10 s
	// timeout unless given).
	Client *http.Client
	// MinKeyRefresh is how soon an unknown key id may fetch an issuer's
	// keys again (DefaultMinRefresh unless given).
	MinKeyRefresh time.Duration
}

// NewVerifier returns the verifier of the identity providers of domain.
func NewVerifier(domain *tenancy.Service, opts Options) *Verifier {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.MinKeyRefresh <= 0 {
		opts.MinKeyRefresh = DefaultMinRefresh
	}
	return &Verifier{domain: domain, issuers: newIssuers(opts.Client, opts.MinKeyRefresh), now: time.Now}
}

// claims are the claims of a token that sign-in reads.
type claims struct {
	jwt.Claims
	Nonce             string `json:"nonce"`
	Email             string `json:"email"`
	EmailVerified     *bool  `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
}

// Verify verifies a JWT bearer token: its issuer picks the MSP (or
// customer) whose identity provider it is; it must be signed with one of
// the issuer's keys by an allowed algorithm, for the provider's client id,
// within its times (ClockSkew), and name a user of that MSP whom the
// provider signs in. The caller is that user. Errors: Unauthenticated,
// Unavailable (the issuer or SpiceDB cannot be reached).
func (v *Verifier) Verify(ctx context.Context, raw string) (auth.Caller, error) {
	tok, err := parse(raw)
	if err != nil {
		return auth.Caller{}, err
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer == "" {
		return auth.Caller{}, fault.New(fault.Unauthenticated, "the token names no issuer (iss)")
	}
	p, err := v.domain.IdentityProviderByIssuer(ctx, unverified.Issuer)
	if err != nil {
		return auth.Caller{}, err
	}
	user, _, err := v.identify(ctx, p, tok)
	if err != nil {
		return auth.Caller{}, err
	}
	return auth.Caller{MSP: p.MSP, User: user, Issuer: p.Issuer}, nil
}

// parse parses a compact JWT signed by an allowed algorithm.
func parse(raw string) (*jwt.JSONWebToken, error) {
	tok, err := jwt.ParseSigned(raw, SigningAlgorithms)
	if err != nil {
		return nil, fault.Wrap(err, fault.Unauthenticated, "the token is no JWT signed with an accepted algorithm (%s): %v", algorithms(), err)
	}
	if len(tok.Headers) != 1 {
		return nil, fault.New(fault.Unauthenticated, "the token must carry exactly one signature")
	}
	return tok, nil
}

func algorithms() string {
	names := make([]string, len(SigningAlgorithms))
	for i, a := range SigningAlgorithms {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// identify verifies a token of provider p and returns the user it names,
// with its claims.
func (v *Verifier) identify(ctx context.Context, p *tenancy.IdentityProvider, tok *jwt.JSONWebToken) (string, *claims, error) {
	h := tok.Headers[0]
	key, err := v.issuers.key(ctx, p.Issuer, h.KeyID, h.Algorithm)
	if err != nil {
		return "", nil, err
	}
	var c claims
	if err := tok.Claims(key, &c); err != nil {
		return "", nil, fault.Wrap(err, fault.Unauthenticated, "the token's signature does not verify with identity provider %q's key %q (tampered with?)", p.Issuer, h.KeyID)
	}
	if err := v.checkTimes(p, &c); err != nil {
		return "", nil, err
	}
	name, err := nameIn(p, &c)
	if err != nil {
		return "", nil, err
	}
	user, err := v.domain.SignInUser(ctx, p, name)
	return user, &c, err
}

// checkTimes checks a verified token's issuer, audience and times.
func (v *Verifier) checkTimes(p *tenancy.IdentityProvider, c *claims) error {
	if c.Expiry == nil || c.IssuedAt == nil {
		return fault.New(fault.Unauthenticated, "the token must say when it was issued (iat) and when it expires (exp)")
	}
	err := c.ValidateWithLeeway(jwt.Expected{Issuer: p.Issuer, AnyAudience: jwt.Audience{p.ClientID}, Time: v.now()}, ClockSkew)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return fault.New(fault.Unauthenticated, "the token was issued by %q, not by identity provider %q", c.Issuer, p.Issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return fault.New(fault.Unauthenticated, "the token is for %q, not for this server's client id %q at %q (aud)", []string(c.Audience), p.ClientID, p.Issuer)
	case errors.Is(err, jwt.ErrExpired):
		return fault.New(fault.Unauthenticated, "the token expired at %s (exp; clock skew allowed: %s)", c.Expiry.Time().UTC().Format(time.RFC3339), ClockSkew)
	case errors.Is(err, jwt.ErrNotValidYet):
		return fault.New(fault.Unauthenticated, "the token is not valid before %s (nbf; clock skew allowed: %s)", c.NotBefore.Time().UTC().Format(time.RFC3339), ClockSkew)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fault.New(fault.Unauthenticated, "the token says it was issued at %s, in the future (iat; clock skew allowed: %s)", c.IssuedAt.Time().UTC().Format(time.RFC3339), ClockSkew)
	}
	return fault.Wrap(err, fault.Unauthenticated, "the token's claims are invalid: %v", err)
}

// decodeJSON decodes a JSON answer of an identity provider (at most 1 MiB).
func decodeJSON(resp *http.Response, v any) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", resp.Request.URL, err)
	}
	return nil
}

// nameIn is the value of the provider's claim in a verified token: the
// externalId of the user it names. When the provider allows only some email
// domains, the token's email must be in one of them (and not unverified).
func nameIn(p *tenancy.IdentityProvider, c *claims) (string, error) {
	name := c.Subject
	switch p.Claim {
	case tenancy.ClaimEmail:
		name = c.Email
	case tenancy.ClaimPreferredUsername:
		name = c.PreferredUsername
	}
	if name == "" {
		return "", fault.New(fault.Unauthenticated, "the token has no %s claim, which names users at identity provider %q", p.Claim, p.Issuer)
	}
	if len(p.AllowedDomains) == 0 {
		return name, nil
	}
	at := strings.LastIndex(c.Email, "@")
	switch {
	case at < 0:
		return "", fault.New(fault.Unauthenticated, "the token has no email claim, and identity provider %q signs in only people of %s", p.Issuer, strings.Join(p.AllowedDomains, ", "))
	case c.EmailVerified != nil && !*c.EmailVerified:
		return "", fault.New(fault.Unauthenticated, "the token's email %q is not verified (email_verified: false)", c.Email)
	case !slices.Contains(p.AllowedDomains, strings.ToLower(c.Email[at+1:])):
		return "", fault.New(fault.Unauthenticated, "email %q is outside the domains identity provider %q signs in (%s)", c.Email, p.Issuer, strings.Join(p.AllowedDomains, ", "))
	}
	return name, nil
}
