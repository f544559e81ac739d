package signin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// SigningAlgorithms are the only algorithms a token may be signed with:
// asymmetric ones. Never "none", never HMAC (whose key a verifier holding
// the issuer's public key could be tricked into using).
var SigningAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// Timings of an issuer's discovery document and keys.
const (
	// KeysMaxAge is how long an issuer's keys (its JWKS) are used before
	// they are fetched again.
	KeysMaxAge = 10 * time.Minute
	// DefaultMinRefresh is how soon after a fetch an unknown key id may
	// fetch the keys again: a flood of tokens with made-up key ids costs
	// the issuer one fetch per interval.
	DefaultMinRefresh = 5 * time.Second
	// discoveryMaxAge is how long a discovery document is trusted.
	discoveryMaxAge = 24 * time.Hour
	// retryAfter is how long an issuer that could not be reached is not
	// asked again: its callers get 503 meanwhile.
	retryAfter = 2 * time.Second
)

// issuers holds, per issuer URL, its discovered endpoints and its keys.
type issuers struct {
	client     *http.Client
	minRefresh time.Duration
	mu         sync.Mutex
	byURL      map[string]*issuer
}

func newIssuers(client *http.Client, minRefresh time.Duration) *issuers {
	return &issuers{client: client, minRefresh: minRefresh, byURL: map[string]*issuer{}}
}

// issuer is one identity provider's discovery document and JWKS.
type issuer struct {
	url string
	mu  sync.Mutex
	// provider is its discovery document, fetched at discovered; its
	// token endpoint takes the client's secret as authStyle says.
	provider   *oidc.Provider
	jwksURL    string
	authStyle  oauth2.AuthStyle
	discovered time.Time
	// keys are its JWKS, fetched at fetched.
	keys    []jose.JSONWebKey
	fetched time.Time
	// failed is when it last could not be reached, and why.
	failed  time.Time
	failure error
}

func (is *issuers) get(url string) *issuer {
	is.mu.Lock()
	defer is.mu.Unlock()
	i, ok := is.byURL[url]
	if !ok {
		i = &issuer{url: url}
		is.byURL[url] = i
	}
	return i
}

// unreachable is the error of an issuer that cannot be reached.
func unreachable(url, what string, err error) error {
	return fault.Wrap(err, fault.Unavailable, "identity provider %q cannot be reached (%s): %v; API tokens are not affected", url, what, err)
}

// discover returns the issuer's discovery document, fetching it when it has
// none or an old one. Errors: Unavailable.
func (is *issuers) discover(ctx context.Context, url string) (*oidc.Provider, *issuer, error) {
	i := is.get(url)
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.recentFailure(); err != nil {
		return nil, nil, err
	}
	if i.provider != nil && time.Since(i.discovered) < discoveryMaxAge {
		return i.provider, i, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, is.client), url)
	var claims struct {
		JWKSURL     string   `json:"jwks_uri"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err == nil {
		err = p.Claims(&claims)
	}
	if err == nil && claims.JWKSURL == "" {
		err = fmt.Errorf("its discovery document names no jwks_uri")
	}
	if err != nil {
		return nil, nil, i.fail(unreachable(url, "discovery", err))
	}
	i.provider, i.jwksURL, i.discovered = p, claims.JWKSURL, time.Now()
	// OpenID Connect's default is client_secret_basic; one style, said
	// once: a token endpoint must not see a code twice (oauth2's
	// auto-detection would send it again after a refusal).
	i.authStyle = oauth2.AuthStyleInHeader
	if len(claims.AuthMethods) > 0 && !slices.Contains(claims.AuthMethods, "client_secret_basic") && slices.Contains(claims.AuthMethods, "client_secret_post") {
		i.authStyle = oauth2.AuthStyleInParams
	}
	return p, i, nil
}

func (i *issuer) recentFailure() error {
	if i.failure != nil && time.Since(i.failed) < retryAfter {
		return i.failure
	}
	return nil
}

func (i *issuer) fail(err error) error {
	i.failed, i.failure = time.Now(), err
	return err
}

// key returns the issuer's key kid names (any key for "" when it has one),
// fetching its keys when it has none or old ones, or, at most once per
// minRefresh, when none has that id: an issuer that rotated its keys is
// followed at once. Errors: Unauthenticated for a key it does not publish
// (unknown, or rotated away), Unavailable.
func (is *issuers) key(ctx context.Context, url, kid string, alg string) (*jose.JSONWebKey, error) {
	_, i, err := is.discover(ctx, url)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	stale := i.keys == nil || time.Since(i.fetched) >= KeysMaxAge
	if !stale {
		if k := i.find(kid, alg); k != nil {
			return k, nil
		}
		if time.Since(i.fetched) < is.minRefresh {
			return nil, unknownKey(url, kid)
		}
	}
	if err := i.recentFailure(); err != nil {
		return nil, err
	}
	if err := is.fetchKeys(ctx, i); err != nil {
		return nil, err
	}
	if k := i.find(kid, alg); k != nil {
		return k, nil
	}
	return nil, unknownKey(url, kid)
}

func unknownKey(url, kid string) error {
	return fault.New(fault.Unauthenticated, "the token's signing key %q is not among the keys identity provider %q publishes (unknown, or rotated away)", kid, url)
}

// find returns the public signing key of id kid fit for alg, or nil.
func (i *issuer) find(kid, alg string) *jose.JSONWebKey {
	for k := range i.keys {
		key := &i.keys[k]
		if (kid == "" || key.KeyID == kid) && key.Use != "enc" && (key.Algorithm == "" || key.Algorithm == alg) && key.IsPublic() {
			return key
		}
	}
	return nil
}

// fetchKeys fetches the issuer's JWKS. Errors: Unavailable.
func (is *issuers) fetchKeys(ctx context.Context, i *issuer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, i.jwksURL, nil)
	if err != nil {
		return i.fail(unreachable(i.url, "keys", err))
	}
	resp, err := is.client.Do(req)
	if err != nil {
		return i.fail(unreachable(i.url, "keys", err))
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s answered %s", i.jwksURL, resp.Status)
	} else {
		err = decodeJSON(resp, &set)
	}
	if err != nil {
		return i.fail(unreachable(i.url, "keys", err))
	}
	i.keys, i.fetched, i.failure = set.Keys, time.Now(), nil
	return nil
}

// endpoint is the issuer's OAuth 2.0 endpoint, discovered.
func (is *issuers) endpoint(ctx context.Context, url string) (oauth2.Endpoint, error) {
	p, i, err := is.discover(ctx, url)
	if err != nil {
		return oauth2.Endpoint{}, err
	}
	e := p.Endpoint()
	e.AuthStyle = i.authStyle
	return e, nil
}
