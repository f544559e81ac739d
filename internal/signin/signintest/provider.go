// Package signintest runs a real OpenID Connect provider in the test
// process, built on go-jose: discovery, JWKS, an authorization endpoint
// (the person signed in at it is the test's choice), and a token endpoint
// that checks the client, the redirect URI, the code's single use and its
// PKCE verifier. Tests also mint tokens with it, good ones and attacks.
package signintest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
)

// Provider is an OpenID Connect provider on a loopback port.
type Provider struct {
	t      *testing.T
	Issuer string
	// ClientID and ClientSecret are the one client it knows.
	ClientID, ClientSecret string

	mu      sync.Mutex
	keys    []*rsa.PrivateKey // keys[0] signs; all are published
	kids    []string
	person  map[string]any // the claims of who is signed in at it
	codes   map[string]grant
	down    bool
	srv     *http.Server
	fetches atomic.Int64
}

type grant struct {
	claims      map[string]any
	redirectURI string
	challenge   string
	nonce       string
}

// Start runs a provider until the test ends.
func Start(t *testing.T) *Provider {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &Provider{t: t, Issuer: "http://" + lis.Addr().String(), ClientID: "mspauthz", ClientSecret: "test-client-secret", codes: map[string]grant{}}
	p.Rotate()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(lis) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

// Rotate makes a new signing key, and keeps publishing the older ones.
func (p *Provider) Rotate() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(p.t, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append([]*rsa.PrivateKey{key}, p.keys...)
	p.kids = append([]string{fmt.Sprintf("key-%d-%s", len(p.kids)+1, random()[:6])}, p.kids...)
}

// Retire stops publishing every key but the signing one: the older keys
// are rotated away.
func (p *Provider) Retire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys, p.kids = p.keys[:1], p.kids[:1]
}

// Down makes discovery and the JWKS answer 503 (or serve again).
func (p *Provider) Down(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// KeyFetches counts the JWKS requests it served.
func (p *Provider) KeyFetches() int64 { return p.fetches.Load() }

// SignIn makes email the person signed in at the provider: the next
// authorization is his.
func (p *Provider) SignIn(email string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.person = map[string]any{"sub": "sub-" + email, "email": email, "email_verified": true, "preferred_username": strings.Split(email, "@")[0]}
}

func (p *Provider) isDown(w http.ResponseWriter) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
	}
	return p.down
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	if p.isDown(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	if p.isDown(w) {
		return
	}
	p.fetches.Add(1)
	p.mu.Lock()
	set := jose.JSONWebKeySet{}
	for i, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: p.kids[i], Algorithm: string(jose.RS256), Use: "sig"})
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// authorize signs in the person signed in at it, at once, and sends the
// browser back with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	person := p.person
	p.mu.Unlock()
	switch {
	case q.Get("client_id") != p.ClientID || q.Get("response_type") != "code":
		http.Error(w, "unknown client or response type", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE (S256) is required", http.StatusBadRequest)
		return
	case person == nil:
		http.Error(w, "nobody is signed in at the provider", http.StatusUnauthorized)
		return
	}
	code := random()
	p.mu.Lock()
	p.codes[code] = grant{claims: person, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	require.NoError(p.t, err)
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token exchanges a code once, for its client, redirect URI and PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	verifier := r.PostForm.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case id != p.ClientID || secret != p.ClientSecret:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
	case !found:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "unknown or used code"})
	case verifier == "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code_verifier missing (PKCE)"})
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code_verifier does not match the code_challenge (PKCE)"})
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri differs"})
	default:
		claims := map[string]any{"nonce": g.nonce}
		for k, v := range g.claims {
			claims[k] = v
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": random(), "token_type": "Bearer", "expires_in": 300, "id_token": p.Token(claims)})
	}
}

// Token mints a token of this provider for its client, valid for five
// minutes from now, with claims added (or replacing the standard ones).
func (p *Provider) Token(claims map[string]any) string {
	p.mu.Lock()
	key, kid := p.keys[0], p.kids[0]
	p.mu.Unlock()
	return p.Sign(jose.RS256, key, kid, p.Claims(claims))
}

// Claims are a good token's claims (iss, aud, iat, exp), with claims added
// or replacing them (a nil value removes one).
func (p *Provider) Claims(claims map[string]any) map[string]any {
	now := time.Now()
	out := map[string]any{"iss": p.Issuer, "aud": p.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// SigningKey is the key it signs with now, and its id.
func (p *Provider) SigningKey() (*rsa.PrivateKey, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[0], p.kids[0]
}

// Sign signs claims with key by alg, naming kid.
func (p *Provider) Sign(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	require.NoError(p.t, err)
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(p.t, err)
	return raw
}

// PublicKeyBytes is the signing key's public key as the bytes an HMAC
// confusion attack uses as its secret.
func (p *Provider) PublicKeyBytes() []byte {
	key, _ := p.SigningKey()
	raw, err := json.Marshal(jose.JSONWebKey{Key: key.Public()})
	require.NoError(p.t, err)
	return raw
}

// Unsigned is a token with alg "none" over claims.
func Unsigned(claims map[string]any) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return header + "." + base64.RawURLEncoding.EncodeToString(body) + "."
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
