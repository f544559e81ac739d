package signin

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// pendingCookie holds a sign-in under way in the browser that started it:
// its state, nonce and PKCE verifier, sealed with the server's key.
const pendingCookie = "mspauthz_signin"

// PendingMaxAge is how long a sign-in may take at the identity provider.
const PendingMaxAge = 10 * time.Minute

// Person is one of the people the demo sign-in offers.
type Person struct {
	MSP, UserID, DisplayName string
	// Role says who he is ("account owner", "technician", "administrator
	// of Zylker Corp").
	Role string
	// CustomerID is the customer he is one of the own users of, if any.
	CustomerID string
}

// Demo is the demo sign-in of the embedded default: one click signs in as
// one of the fixtures' people of an MSP (or customer) without an identity
// provider.
type Demo struct {
	People []Person
	// Enabled says whether it may be used; Why says why (or why not), on
	// the page.
	Enabled bool
	Why     string
}

// Offered reports whether the page mentions the demo sign-in at all.
func (d Demo) Offered() bool { return len(d.People) > 0 }

// Config is what the sign-in pages need.
type Config struct {
	Domain   *tenancy.Service
	Sessions *auth.Sessions
	Verifier *Verifier
	// Sealer seals the pending sign-in's cookie.
	Sealer *auth.Sealer
	// PublicURL is where people reach the service: the callback URL is
	// under it, and cookies are Secure when it is https.
	PublicURL *url.URL
	Demo      Demo
	Log       *slog.Logger
}

// Handler serves /signin, /signin/callback, /signin/demo and /signout.
type Handler struct {
	cfg  Config
	csrf *http.CrossOriginProtection
	// used are the pending sign-ins completed here, until they expire: a
	// replayed callback is refused (the provider refuses its code too).
	mu   sync.Mutex
	used map[string]time.Time
}

//go:embed pages/*.html
var pages embed.FS

var page = template.Must(template.ParseFS(pages, "pages/signin.html"))

// New returns the sign-in handler.
func New(cfg Config) *Handler {
	return &Handler{cfg: cfg, csrf: http.NewCrossOriginProtection(), used: map[string]time.Time{}}
}

// Register adds the sign-in routes to mux. The POSTs refuse cross-origin
// requests (http.CrossOriginProtection), besides the SameSite cookie.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /signin", h.signin)
	mux.HandleFunc("GET /signin/callback", h.callback)
	mux.Handle("POST /signin/demo", h.csrf.Handler(http.HandlerFunc(h.demo)))
	mux.Handle("POST /signout", h.csrf.Handler(http.HandlerFunc(h.signout)))
}

// CallbackURL is the redirect URL to register at identity providers.
func (h *Handler) CallbackURL() string { return h.cfg.PublicURL.JoinPath("/signin/callback").String() }

// view is what the page shows.
type view struct {
	Problem string
	Caller  *auth.Caller
	Demo    Demo
	// Return is the page of this service to go on to once signed in.
	Return string
}

// render writes the page with status.
func (h *Handler) render(w http.ResponseWriter, status int, v view) {
	v.Demo = h.cfg.Demo
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self' *; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		h.cfg.Log.Error("render the sign-in page", "error", err.Error())
	}
}

// fail shows err on the page, with the status of its kind.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	status, msg := http.StatusInternalServerError, "internal error"
	var fe *fault.Error
	if errors.As(err, &fe) {
		msg = fe.Message
		switch fe.Kind {
		case fault.Unauthenticated:
			status = http.StatusUnauthorized
		case fault.Unavailable:
			status = http.StatusServiceUnavailable
		case fault.NotFound:
			status = http.StatusNotFound
		case fault.Invalid:
			status = http.StatusBadRequest
		case fault.PermissionDenied:
			status = http.StatusForbidden
		default:
			msg = "internal error"
		}
	}
	if status == http.StatusInternalServerError {
		h.cfg.Log.Error("sign-in failed", "error", err.Error())
	}
	h.render(w, status, view{Problem: msg})
}

func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || h.cfg.PublicURL.Scheme == "https"
}

// cookie is one of sign-in's cookies: HttpOnly, SameSite=Lax, Secure behind
// TLS; maxAge < 0 deletes it.
func (h *Handler) cookie(r *http.Request, name, value, path string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r), MaxAge: int(maxAge.Seconds())}
	if maxAge < 0 {
		c.MaxAge, c.Value = -1, ""
	}
	return c
}

// signin shows who is signed in, or starts a sign-in through the identity
// provider of ?msp= (and ?customer=).
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if msp := q.Get("msp"); msp != "" {
		h.start(w, r, msp, q.Get("customer"), q.Get("return"))
		return
	}
	v := view{}
	if ret := q.Get("return"); ret != "" {
		v.Return = localPath(ret)
	}
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if caller, err := h.cfg.Sessions.Authenticate(r.Context(), c.Value); err == nil {
			v.Caller = &caller
		}
	}
	h.render(w, http.StatusOK, v)
}

// pending is a sign-in under way, as its cookie holds it.
type pending struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	MSP      string `json:"msp"`
	Customer string `json:"customer,omitempty"`
	Return   string `json:"return"`
	Expires  int64  `json:"expires"`
}

const pendingContext = "pending sign-in"

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// landing is where a sign-in that names no page goes: a customer's own user
// to his customer's own side of the console, the MSP's staff to the
// console's first page.
func landing(customer string) string {
	if customer != "" {
		return "/customers/" + url.PathEscape(customer) + "/own"
	}
	return "/customers"
}

// localPath is ret when it is a path of this service, else "/signin".
func localPath(ret string) string {
	if strings.HasPrefix(ret, "/") && !strings.HasPrefix(ret, "//") && !strings.HasPrefix(ret, "/\\") {
		return ret
	}
	return "/signin"
}

// oauth2Config is the code flow's configuration at provider p.
func (h *Handler) oauth2Config(ctx context.Context, p *tenancy.IdentityProvider, secret string) (*oauth2.Config, error) {
	endpoint, err := h.cfg.Verifier.issuers.endpoint(ctx, p.Issuer)
	if err != nil {
		return nil, err
	}
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: h.CallbackURL(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// start sends the browser to the provider's authorization endpoint, with a
// fresh state, nonce and PKCE challenge whose secrets stay in its cookie.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, msp, customer, ret string) {
	p, err := h.cfg.Domain.IdentityProviderOf(r.Context(), msp, customer)
	if err != nil {
		h.fail(w, err)
		return
	}
	conf, err := h.oauth2Config(r.Context(), p, "")
	if err != nil {
		h.fail(w, err)
		return
	}
	pd := pending{ID: random(), State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), MSP: msp, Customer: customer,
		Return: localPath(cmp.Or(ret, landing(customer))), Expires: time.Now().Add(PendingMaxAge).Unix()}
	raw, _ := json.Marshal(pd)
	sealed, err := h.cfg.Sealer.Seal(string(raw), pendingContext)
	if err != nil {
		h.fail(w, err)
		return
	}
	http.SetCookie(w, h.cookie(r, pendingCookie, sealed, "/signin", PendingMaxAge))
	http.Redirect(w, r, conf.AuthCodeURL(pd.State, oauth2.S256ChallengeOption(pd.Verifier), oidc.Nonce(pd.Nonce)), http.StatusFound)
}

// callback completes a sign-in: the state must be this browser's, once;
// the code is exchanged with its PKCE verifier; the ID token must verify,
// carry the sign-in's nonce and name a user the provider signs in. It
// opens his session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, h.cookie(r, pendingCookie, "", "/signin", -1))
	pd, err := h.pending(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	ctx := r.Context()
	p, err := h.cfg.Domain.IdentityProviderOf(ctx, pd.MSP, pd.Customer)
	if err != nil {
		h.fail(w, err)
		return
	}
	secret, err := h.cfg.Domain.ClientSecret(p)
	if err != nil {
		h.fail(w, err)
		return
	}
	conf, err := h.oauth2Config(ctx, p, secret)
	if err != nil {
		h.fail(w, err)
		return
	}
	token, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, h.cfg.Verifier.issuers.client), r.URL.Query().Get("code"), oauth2.VerifierOption(pd.Verifier))
	if err != nil {
		h.fail(w, exchangeError(p.Issuer, err))
		return
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		h.fail(w, fault.New(fault.Unauthenticated, "identity provider %q answered no ID token", p.Issuer))
		return
	}
	tok, err := parse(raw)
	if err != nil {
		h.fail(w, err)
		return
	}
	user, c, err := h.cfg.Verifier.identify(ctx, p, tok)
	if err == nil && subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(pd.Nonce)) != 1 {
		err = fault.New(fault.Unauthenticated, "the ID token's nonce is not this sign-in's (replayed?)")
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	h.open(w, r, pd.MSP, user, "oidc "+p.Issuer, pd.Return)
}

// pending returns the sign-in a callback completes, and marks it used.
// Errors: Unauthenticated.
func (h *Handler) pending(r *http.Request) (pending, error) {
	var pd pending
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return pd, fault.New(fault.Unauthenticated, "the identity provider refused the sign-in: %s %s", e, q.Get("error_description"))
	}
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		return pd, fault.New(fault.Unauthenticated, "no sign-in is under way in this browser (its cookie is missing or expired): start again at /signin")
	}
	raw, err := h.cfg.Sealer.Open(c.Value, pendingContext)
	if err == nil {
		err = json.Unmarshal([]byte(raw), &pd)
	}
	if err != nil {
		return pd, fault.New(fault.Unauthenticated, "the sign-in's cookie does not open (forged, or from another server): start again at /signin")
	}
	now := time.Now()
	if now.Unix() > pd.Expires {
		return pd, fault.New(fault.Unauthenticated, "the sign-in took longer than %s: start again at /signin", PendingMaxAge)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pd.State)) != 1 {
		return pd, fault.New(fault.Unauthenticated, "the state is not this browser's sign-in (forged): start again at /signin")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, exp := range h.used {
		if now.After(exp) {
			delete(h.used, id)
		}
	}
	if _, done := h.used[pd.ID]; done {
		return pd, fault.New(fault.Unauthenticated, "this sign-in was completed already (a replayed state): start again at /signin")
	}
	h.used[pd.ID] = time.Unix(pd.Expires, 0)
	return pd, nil
}

// exchangeError is the error of a code exchange: the provider's refusal
// (a code already used, issued for another sign-in, or without its PKCE
// verifier) is Unauthenticated, a provider out of reach Unavailable.
func exchangeError(issuer string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return fault.New(fault.Unauthenticated, "identity provider %q refused the code: %s %s", issuer, re.ErrorCode, re.ErrorDescription)
	}
	return unreachable(issuer, "token endpoint", err)
}

// open opens a session of user and sends the browser on to ret.
func (h *Handler) open(w http.ResponseWriter, r *http.Request, msp, user, signedIn, ret string) {
	cookie, err := h.cfg.Sessions.Open(r.Context(), msp, user, signedIn)
	if err != nil {
		h.fail(w, err)
		return
	}
	http.SetCookie(w, h.cookie(r, auth.SessionCookie, cookie, "/", h.cfg.Sessions.MaxAge()))
	http.Redirect(w, r, localPath(ret), http.StatusSeeOther)
}

// demo signs in as one of the demo's people, when the demo sign-in is
// enabled and his MSP (or customer) has no identity provider.
func (h *Handler) demo(w http.ResponseWriter, r *http.Request) {
	d := h.cfg.Demo
	if !d.Enabled {
		h.fail(w, fault.New(fault.PermissionDenied, "the demo sign-in is off: %s", d.Why))
		return
	}
	msp, user, _ := strings.Cut(r.PostFormValue("user"), "/")
	var who *Person
	for i := range d.People {
		if d.People[i].MSP == msp && d.People[i].UserID == user {
			who = &d.People[i]
		}
	}
	if who == nil {
		h.fail(w, fault.New(fault.NotFound, "%q is none of the demo sign-in's people", r.PostFormValue("user")))
		return
	}
	switch _, err := h.cfg.Domain.IdentityProviderOf(r.Context(), msp, who.CustomerID); {
	case err == nil:
		owner := "msp " + msp
		if who.CustomerID != "" {
			owner = "customer " + who.CustomerID
		}
		h.fail(w, fault.New(fault.PermissionDenied, "%s signs in through its identity provider: the demo sign-in is only for those without one", owner))
		return
	case !fault.Is(err, fault.NotFound):
		h.fail(w, err)
		return
	}
	h.open(w, r, msp, user, "demo", cmp.Or(r.PostFormValue("return"), landing(who.CustomerID)))
}

// signout ends the browser's session and deletes its cookie.
func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := h.cfg.Sessions.Close(r.Context(), c.Value); err != nil {
			h.fail(w, err)
			return
		}
	}
	http.SetCookie(w, h.cookie(r, auth.SessionCookie, "", "/", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
