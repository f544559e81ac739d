package main_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/signin/signintest"
)

const serverKey = "e2e-server-key-0123456789abcdefghijklmnop"

// startSignIn runs the binary with the demo fixtures, a platform token and
// a server key.
func startSignIn(t *testing.T, args ...string) *server {
	t.Helper()
	return start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken, "MSPAUTHZ_SERVER_KEY=" + serverKey},
		append([]string{"--fixtures", "../../fixtures/demo.yaml"}, args...)...)
}

// trust makes p the identity provider of acme (customer "") or of one of
// its customers, as token configures it.
func (s *server) trust(token string, p *signintest.Provider, customer string, extra j) map[string]any {
	s.t.Helper()
	path := "/v1/msps/acme/identityProvider"
	if customer != "" {
		path = "/v1/msps/acme/customers/" + customer + "/identityProvider"
	}
	body := j{"issuer": p.Issuer, "clientId": p.ClientID, "clientSecret": p.ClientSecret}
	for k, v := range extra {
		body[k] = v
	}
	return s.ok(token, "PUT", path, body)
}

// An identity provider is data of its MSP: its client secret goes in and
// never comes out, it needs settings.manage (a customer's, its own
// administrator), and an issuer signs in to one MSP or customer only.
func TestSignIn_AnIdentityProviderIsConfiguredAsDataAndItsSecretNeverComesBack(t *testing.T) {
	s := startSignIn(t)
	p, other := signintest.Start(t), signintest.Start(t)
	a := adminToken
	alex := s.ok(a, "POST", "/v1/msps/acme/users/alex/tokens", j{})["token"].(string)
	zara := s.ok(a, "POST", "/v1/msps/acme/users/zara/tokens", j{})["token"].(string)

	s.fails(403, `user "alex" lacks settings.manage`, alex, "PUT", "/v1/msps/acme/identityProvider", j{"issuer": p.Issuer, "clientId": "mspauthz"})
	set := s.trust(a, p, "", j{"allowedDomains": []string{"ACME.example"}})
	want := j{"mspId": "acme", "customerId": "", "issuer": p.Issuer, "clientId": p.ClientID, "clientSecretSet": true, "claim": "email", "allowedDomains": []any{"acme.example"}}
	require.Equal(t, want, set)
	require.Equal(t, want, s.ok(a, "GET", "/v1/msps/acme/identityProvider", nil))
	// Replaced without a secret for the same client: the secret stays.
	require.Equal(t, true, s.ok(a, "PUT", "/v1/msps/acme/identityProvider", j{"issuer": p.Issuer, "clientId": p.ClientID, "allowedDomains": []string{"acme.example"}})["clientSecretSet"])

	for _, tc := range []struct {
		name, msg string
		body      j
	}{
		{"plain http off loopback", "is plain http", j{"issuer": "http://idp.example.com", "clientId": "x"}},
		{"no URL", "is not an issuer URL", j{"issuer": "idp.example.com", "clientId": "x"}},
		{"no client id", "clientId is required", j{"issuer": "https://idp.example.com"}},
		{"an unknown claim", `claim: "name" is not a claim`, j{"issuer": "https://idp.example.com", "clientId": "x", "claim": "name"}},
		{"a bad domain", `allowedDomains[0]: "acme" is not a domain name`, j{"issuer": "https://idp.example.com", "clientId": "x", "allowedDomains": []string{"acme"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.fails(400, tc.msg, a, "PUT", "/v1/msps/northwind/identityProvider", tc.body)
		})
	}
	s.fails(409, "is already the identity provider of another MSP or customer", a, "PUT", "/v1/msps/northwind/identityProvider", j{"issuer": p.Issuer, "clientId": "x"})
	s.fails(404, "msp \"northwind\" has no identity provider", a, "GET", "/v1/msps/northwind/identityProvider", nil)

	// A customer's own provider: only its built-in administrator sets it.
	s.fails(403, `only a built-in administrator of customer "zylker"`, alex, "PUT", "/v1/msps/acme/customers/zylker/identityProvider", j{"issuer": other.Issuer, "clientId": "x"})
	require.Equal(t, "zylker", s.trust(zara, other, "zylker", nil)["customerId"])
	s.fails(404, `customer "globex" not found`, zara, "GET", "/v1/msps/acme/customers/globex/identityProvider", nil)

	s.stop()
	require.NotContains(t, s.logs.String(), p.ClientSecret, "never logged")
}

// A JWT of the MSP's identity provider makes its caller exactly his user,
// over REST and gRPC, beside API tokens; on another MSP's paths it is 404.
func TestSignIn_AJWTBearerIsTheUserItNamesWithHisRightsInTheGraph(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	a := adminToken
	s.trust(a, p, "", nil)
	olivia := p.Token(map[string]any{"email": "olivia@acme.example"})
	alexJWT := p.Token(map[string]any{"email": "alex@acme.example"})
	alexToken := s.ok(a, "POST", "/v1/msps/acme/users/alex/tokens", j{})["token"].(string)

	require.Len(t, s.ok(olivia, "GET", "/v1/msps/acme/users", nil)["users"], 5, "the owner manages users")
	for _, cred := range []string{alexJWT, alexToken} {
		s.fails(403, `user "alex" lacks users.manage`, cred, "GET", "/v1/msps/acme/users", nil)
		require.Equal(t, []any{j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"}}, s.ok(cred, "GET", "/v1/msps", nil)["msps"])
	}
	require.Equal(t, s.ok(alexToken, "GET", "/v1/msps/acme/users/alex/customers", nil)["customers"], s.ok(alexJWT, "GET", "/v1/msps/acme/users/alex/customers", nil)["customers"])
	s.fails(404, `msp "northwind" not found`, olivia, "GET", "/v1/msps/northwind/customers", nil)
	s.fails(403, "acts as its own user only", olivia, "GET", "/v1/msps/acme/customers", nil, "X-On-Behalf-Of", "alex")
	s.ok(a, "GET", "/v1/msps/acme/customers", nil)

	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+alexJWT)
	resp, err := pb.NewAccessServiceClient(conn).Check(ctx, &pb.CheckRequest{MspId: "acme", Resource: "customer:zylker", Permission: "access", Subject: "user:alex"})
	require.NoError(t, err)
	require.True(t, resp.GetAllowed())
	_, err = pb.NewTenancyServiceClient(conn).ListUsers(ctx, &pb.ListUsersRequest{MspId: "acme"})
	require.Equal(t, codes.PermissionDenied, status.Code(err))
	_, err = pb.NewTenancyServiceClient(conn).GetMSP(ctx, &pb.GetMSPRequest{MspId: "northwind"})
	require.Equal(t, codes.NotFound, status.Code(err))
	bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+p.Token(map[string]any{"email": "alex@acme.example", "aud": "someone-else"}))
	_, err = pb.NewTenancyServiceClient(conn).GetMSP(bad, &pb.GetMSPRequest{MspId: "acme"})
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), "not for this server's client id")

	s.stop()
	require.Contains(t, s.logs.String(), `"caller":"jwt:`+p.Issuer+`@acme/alex"`)
	require.NotContains(t, s.logs.String(), alexJWT)
}

// Every bad or forged token is 401 with the reason, and its call writes nothing.
func TestSignIn_EveryBadOrForgedJWTIs401AndWritesNothing(t *testing.T) {
	s := startSignIn(t)
	p, northwinds := signintest.Start(t), signintest.Start(t)
	a := adminToken
	s.trust(a, p, "", j{"allowedDomains": []string{"acme.example"}})
	s.ok(a, "PUT", "/v1/msps/northwind/identityProvider", j{"issuer": northwinds.Issuer, "clientId": northwinds.ClientID})
	s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": "eve", "displayName": "Eve", "externalId": "eve@evil.example"})
	now := time.Now()
	key, kid := p.SigningKey()
	olivia := func(extra map[string]any) map[string]any {
		c := map[string]any{"email": "olivia@acme.example"}
		for k, v := range extra {
			c[k] = v
		}
		return p.Claims(c)
	}
	tampered := strings.Split(p.Token(map[string]any{"email": "alex@acme.example"}), ".")
	other := strings.Split(p.Token(map[string]any{"email": "olivia@acme.example"}), ".")
	tampered[1] = other[1] // alex's signature over olivia's claims

	for i, tc := range []struct {
		name, token, msg string
	}{
		{"expired", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix()})), "the token expired at"},
		{"not yet valid", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"nbf": now.Add(time.Minute).Unix()})), "the token is not valid before"},
		{"issued in the future", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"iat": now.Add(time.Minute).Unix()})), "in the future (iat"},
		{"without an expiry", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"exp": nil})), "when it expires (exp)"},
		{"wrong audience", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"aud": "another-app"})), `is for ["another-app"], not for this server's client id "mspauthz"`},
		{"wrong issuer", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"iss": "https://evil.example"})), `issuer "https://evil.example" is the identity provider of no MSP or customer here`},
		{"another provider's issuer, this one's key", p.Sign(jose.RS256, key, kid, olivia(map[string]any{"iss": northwinds.Issuer})), "is not among the keys identity provider"},
		{"unknown kid", p.Sign(jose.RS256, key, "made-up", olivia(nil)), `signing key "made-up" is not among the keys`},
		{"tampered payload", strings.Join(tampered, "."), "signature does not verify"},
		{"alg none", signintest.Unsigned(olivia(nil)), "no JWT signed with an accepted algorithm"},
		{"HS256 signed with the issuer's public key", p.Sign(jose.HS256, p.PublicKeyBytes(), kid, olivia(nil)), "no JWT signed with an accepted algorithm"},
		{"a user who does not exist here", p.Token(map[string]any{"email": "nobody@acme.example"}), `no user of msp "acme" has the externalId "nobody@acme.example"`},
		{"an email outside the allowed domains", p.Token(map[string]any{"email": "eve@evil.example"}), `email "eve@evil.example" is outside the domains`},
		{"an unverified email", p.Token(map[string]any{"email": "olivia@acme.example", "email_verified": false}), "is not verified"},
		{"no claim naming the user", p.Token(nil), "the token has no email claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("attack-%d", i)
			s.fails(401, tc.msg, tc.token, "POST", "/v1/msps/acme/customers", j{"customerId": id, "displayName": "X"})
			s.fails(404, "not found", a, "GET", "/v1/msps/acme/customers/"+id, nil)
		})
	}
	// A JWT of acme's provider on northwind's paths is 404, as every cross-MSP call.
	s.fails(404, `msp "northwind" not found`, p.Token(map[string]any{"email": "olivia@acme.example"}), "POST", "/v1/msps/northwind/customers", j{"customerId": "x", "displayName": "X"})
	require.Len(t, s.ok(a, "GET", "/v1/msps/northwind/customers", nil)["customers"], 1)
}

// An issuer's keys are fetched on an unknown key id at most once an
// interval; a key the issuer rotated away stops working once they are.
func TestSignIn_KeysAreRefreshedOnAnUnknownKidAtMostOnceAnIntervalAndARotatedKeyStops(t *testing.T) {
	s := startSignIn(t, "--jwks-min-refresh", "1s")
	p := signintest.Start(t)
	s.trust(adminToken, p, "", nil)
	oldKey, oldKid := p.SigningKey()
	s.ok(p.Token(map[string]any{"email": "olivia@acme.example"}), "GET", "/v1/msps/acme", nil)
	require.Equal(t, int64(1), p.KeyFetches())
	for range 20 {
		s.fails(401, "is not among the keys", p.Sign(jose.RS256, oldKey, "made-up-"+time.Now().String(), p.Claims(map[string]any{"email": "olivia@acme.example"})), "GET", "/v1/msps/acme", nil)
	}
	require.LessOrEqual(t, p.KeyFetches(), int64(2), "made-up key ids fetch the keys at most once an interval")

	p.Rotate()
	p.Retire() // the old key is rotated away
	time.Sleep(1100 * time.Millisecond)
	s.ok(p.Token(map[string]any{"email": "olivia@acme.example"}), "GET", "/v1/msps/acme", nil)
	s.fails(401, "rotated away", p.Sign(jose.RS256, oldKey, oldKid, p.Claims(map[string]any{"email": "olivia@acme.example"})), "GET", "/v1/msps/acme", nil)
}

// An identity provider out of reach is a clear 503 for its JWT callers;
// API tokens do not notice.
func TestSignIn_AnIdentityProviderDownIs503ForJWTCallersOnly(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	s.trust(adminToken, p, "", nil)
	token := p.Token(map[string]any{"email": "olivia@acme.example"})
	p.Down(true)
	out := s.fails(503, "cannot be reached", token, "POST", "/v1/msps/acme/customers", j{"customerId": "down", "displayName": "Down"})
	require.Contains(t, out["message"], p.Issuer)
	s.ok(adminToken, "GET", "/v1/msps/acme", nil)
	s.fails(404, "not found", adminToken, "GET", "/v1/msps/acme/customers/down", nil)
	p.Down(false)
	require.Eventually(t, func() bool {
		code, _ := s.call(token, "GET", "/v1/msps/acme", nil)
		return code == 200
	}, 10*time.Second, 200*time.Millisecond, "served again once the provider is back")
}

// browser is an HTTP client with a cookie jar that follows redirects, as a
// browser does.
type browser struct {
	t      *testing.T
	s      *server
	client *http.Client
}

func newBrowser(t *testing.T, s *server) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, s: s, client: &http.Client{Jar: jar}}
}

// get fetches a page (following redirects) and returns its status and body.
func (b *browser) get(rawURL string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

// post submits a form of the service's own pages, with the headers a
// browser adds (header pairs).
func (b *browser) post(path string, form url.Values, header ...string) (int, string) {
	b.t.Helper()
	return b.api("POST", path, form.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

// api makes a REST call with the browser's cookies, and header pairs.
func (b *browser) api(method, path, body string, header ...string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.s.base+path, strings.NewReader(body))
	require.NoError(b.t, err)
	return b.do(b.s.withHeader(req, header...))
}

// do sends a request with the browser's cookies and returns the status and
// body of the answer it ends at.
func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(raw)
}

// session is the browser's session cookie value.
func (b *browser) session() string {
	u, _ := url.Parse(b.s.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "mspauthz_session" {
			return c.Value
		}
	}
	return ""
}

// The whole code flow through HTTP, as a browser: /signin to the provider
// and back, a session that calls the API as the user (cross-site state
// changes refused), and sign-out that ends it.
func TestSignIn_AlexSignsInThroughAcmesProviderAndHisSessionCallsTheAPIAsHim(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	s.trust(adminToken, p, "", nil)
	p.SignIn("alex@acme.example")
	b := newBrowser(t, s)

	code, page := b.get(s.base + "/signin?msp=acme&return=/signin")
	require.Equal(t, 200, code, page)
	require.Contains(t, page, "Signed in as <strong>alex</strong> of acme")
	cookie := b.session()
	require.NotEmpty(t, cookie)
	resp, err := http.Get(s.base + "/signin?msp=acme")
	require.NoError(t, err)
	resp.Body.Close()
	setCookie := resp.Header.Get("Set-Cookie")
	require.Contains(t, setCookie, "HttpOnly")
	require.Contains(t, setCookie, "SameSite=Lax")
	require.NotContains(t, setCookie, "Secure", "plain http on loopback")

	code, body := b.api("GET", "/v1/msps/acme/users/alex/customers", "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"customerId":"zylker"`)
	code, body = b.api("GET", "/v1/msps/acme/users", "")
	require.Equal(t, 403, code, body)
	require.Contains(t, body, `user \"alex\" lacks users.manage`)
	check := `{"resource":"customer:zylker","permission":"access","subject":"user:alex"}`
	code, body = b.api("POST", "/v1/msps/acme/check", check, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, 403, code, body)
	require.Contains(t, body, "from another site: refused")
	code, body = b.api("POST", "/v1/msps/acme/check", check, "Origin", "https://evil.example")
	require.Equal(t, 403, code, body)
	code, body = b.api("POST", "/v1/msps/acme/check", check, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, 200, code, body)

	// Sign-out from another site is refused; from the page it ends the session.
	code, _ = b.post("/signout", nil, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, 403, code)
	code, page = b.post("/signout", nil, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, 200, code)
	require.NotContains(t, page, "Signed in as")
	require.Empty(t, b.session())
	s.fails(401, "unknown or ended session", "", "GET", "/v1/msps/acme", nil, "Cookie", "mspauthz_session="+cookie)
}

// Zylker's administrator signs in through Zylker's own provider and gets
// Zylker's side only; her session is her own credential (her consent).
func TestSignIn_ZaraSignsInThroughZylkersProviderAndGetsZylkersSideOnly(t *testing.T) {
	s := startSignIn(t)
	acmes, zylkers := signintest.Start(t), signintest.Start(t)
	s.trust(adminToken, acmes, "", nil)
	s.trust(adminToken, zylkers, "zylker", nil)
	zylkers.SignIn("zara@zylker.example")
	b := newBrowser(t, s)
	code, page := b.get(s.base + "/signin?msp=acme&customer=zylker")
	require.Equal(t, 200, code, page)
	require.Contains(t, page, "Signed in as <strong>zara</strong> of acme")

	code, body := b.api("PUT", "/v1/msps/acme/customers/zylker/partnerAccess", `{"enabled":false}`)
	require.Equal(t, 200, code, "her session carries her consent: %s", body)
	code, body = b.api("GET", "/v1/msps/acme/customers/globex", "")
	require.Equal(t, 404, code, body)
	code, body = b.api("GET", "/v1/msps/acme/users", "")
	require.Equal(t, 403, code, body)

	// The MSP's provider does not sign her in, nor Zylker's the MSP's staff.
	acmes.SignIn("zara@zylker.example")
	code, page = newBrowser(t, s).get(s.base + "/signin?msp=acme")
	require.Equal(t, 401, code)
	require.Contains(t, page, `user &#34;zara&#34; is no MSP user of msp &#34;acme&#34;`)
	zylkers.SignIn("alex@acme.example")
	code, page = newBrowser(t, s).get(s.base + "/signin?msp=acme&customer=zylker")
	require.Equal(t, 401, code)
	require.Contains(t, page, `is not one of customer &#34;zylker&#34;&#39;s own users`)
}

// The callback refuses every sign-in that is not this browser's own, once,
// with its own PKCE verifier; none opens a session.
func TestSignIn_AForgedOrReplayedCallbackIs401AndOpensNoSession(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	s.trust(adminToken, p, "", nil)
	p.SignIn("olivia@acme.example")

	// begin starts a sign-in in a browser and stops at the callback URL.
	begin := func() (*browser, string) {
		b := newBrowser(t, s)
		b.client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if req.URL.Path == "/signin/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := b.client.Get(s.base + "/signin?msp=acme")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		b.client.CheckRedirect = nil
		return b, resp.Header.Get("Location")
	}
	withQuery := func(raw, key, value string) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	codeOf := func(raw string) string { u, _ := url.Parse(raw); return u.Query().Get("code") }

	b, callback := begin()
	code, page := b.get(withQuery(callback, "state", "forged"))
	require.Equal(t, 401, code)
	require.Contains(t, page, "the state is not this browser&#39;s sign-in (forged)")

	_, callback = begin()
	code, page = newBrowser(t, s).get(callback)
	require.Equal(t, 401, code, "another browser, without the sign-in's cookie")
	require.Contains(t, page, "no sign-in is under way in this browser")

	// A code injected into another sign-in: its PKCE verifier is not the code's.
	_, victimCallback := begin()
	attacker, attackerCallback := begin()
	code, page = attacker.get(withQuery(attackerCallback, "code", codeOf(victimCallback)))
	require.Equal(t, 401, code)
	require.Contains(t, page, "refused the code: invalid_grant code_verifier does not match the code_challenge (PKCE)")
	require.Empty(t, attacker.session())

	// The sign-in completes once; its replay (same cookie, same state) is
	// refused. (The injection burned the victim's code: a new sign-in.)
	victim, victimCallback := begin()
	jarCookies := victim.client.Jar.Cookies(mustURL(s.base + "/signin/callback"))
	code, _ = victim.get(victimCallback)
	require.Equal(t, 200, code)
	require.NotEmpty(t, victim.session())
	replay := newBrowser(t, s)
	replay.client.Jar.SetCookies(mustURL(s.base+"/signin/callback"), jarCookies)
	code, page = replay.get(victimCallback)
	require.Equal(t, 401, code)
	require.Contains(t, page, "this sign-in was completed already (a replayed state)")
	require.Empty(t, replay.session())

	// The provider's own side of PKCE: a code without its verifier is refused.
	_, callback = begin()
	resp, err := http.PostForm(p.Issuer+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {codeOf(callback)},
		"client_id": {p.ClientID}, "client_secret": {p.ClientSecret}, "redirect_uri": {s.base + "/signin/callback"}})
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, string(raw), "code_verifier missing (PKCE)")
}

func mustURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

// A session ends at sign-out (above), with its user, when unused for its
// idle timeout, and at its absolute timeout however much it is used.
func TestSignIn_ASessionEndsWithItsUserAndAtItsTimeouts(t *testing.T) {
	s := startSignIn(t, "--session-idle-timeout", "2s", "--session-max-age", "4s")
	demo := func(user string) string {
		b := newBrowser(t, s)
		code, page := b.post("/signin/demo", url.Values{"user": {user}})
		require.Equal(t, 200, code, page)
		return b.session()
	}
	asCookie := func(cookie string) (int, map[string]any) {
		return s.do(s.withHeader(s.request("", "GET", "/v1/msps/acme", nil), "Cookie", "mspauthz_session="+cookie))
	}

	carol := demo("acme/carol")
	code, _ := asCookie(carol)
	require.Equal(t, 200, code)
	s.ok(adminToken, "DELETE", "/v1/msps/acme/users/carol", nil)
	code, out := asCookie(carol)
	require.Equal(t, 401, code, "deleted with its user")
	require.Contains(t, out["message"], "unknown or ended session")

	idle := demo("acme/alex")
	time.Sleep(2500 * time.Millisecond)
	code, out = asCookie(idle)
	require.Equal(t, 401, code)
	require.Contains(t, out["message"], "session expired: unused for 2s")

	busy := demo("acme/bob")
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline.Add(-500 * time.Millisecond)) {
		code, out = asCookie(busy)
		require.Equal(t, 200, code, "used every half second: %v", out)
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(time.Until(deadline) + 200*time.Millisecond)
	code, out = asCookie(busy)
	require.Equal(t, 401, code)
	require.Contains(t, out["message"], "session expired")
}

// On loopback with the fixtures, the demo sign-in offers their people; off
// loopback it is refused unless --demo-sign-in is given, and the page says
// why; an MSP with an identity provider signs in there only.
func TestSignIn_TheDemoSignInOffersTheFixturesPeopleOnLoopbackOnly(t *testing.T) {
	s := startSignIn(t)
	b := newBrowser(t, s)
	code, page := b.get(s.base + "/signin")
	require.Equal(t, 200, code)
	for _, who := range []string{"olivia</button> account owner (acme)", "Dana</button> technician (acme)", "Zara</button> administrator of Zylker Corp (acme)", "The REST API listens on loopback"} {
		require.Contains(t, page, who)
	}
	code, page = b.post("/signin/demo", url.Values{"user": {"acme/bob"}}, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, 403, code, page)
	require.Empty(t, b.session())
	code, page = b.post("/signin/demo", url.Values{"user": {"acme/bob"}})
	require.Equal(t, 200, code)
	require.Contains(t, page, "Signed in as <strong>bob</strong> of acme")
	code, body := b.api("GET", "/v1/msps/acme/users/bob/customers", "")
	require.Equal(t, 200, code, body)
	code, page = b.post("/signin/demo", url.Values{"user": {"acme/mallory"}})
	require.Equal(t, 404, code, page)

	s.trust(adminToken, signintest.Start(t), "", nil)
	code, page = newBrowser(t, s).post("/signin/demo", url.Values{"user": {"acme/olivia"}})
	require.Equal(t, 403, code)
	require.Contains(t, page, "msp acme signs in through its identity provider")

	off := startSignIn(t, "--http-addr", "0.0.0.0:0")
	code, page = newBrowser(t, off).get(off.base + "/signin")
	require.Equal(t, 200, code)
	require.Contains(t, page, "The demo sign-in is off: the REST API listens on")
	require.Contains(t, page, "off loopback (serve with --demo-sign-in to allow it anyway)")
	code, page = newBrowser(t, off).post("/signin/demo", url.Values{"user": {"acme/olivia"}})
	require.Equal(t, 403, code)
	require.Contains(t, page, "--demo-sign-in")

	// Behind a TLS proxy (an https public URL) the cookies are Secure.
	on := startSignIn(t, "--http-addr", "0.0.0.0:0", "--demo-sign-in", "--public-url", "https://mspauthz.example.com")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(on.base+"/signin/demo", url.Values{"user": {"acme/olivia"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Set-Cookie"), "mspauthz_session=mspzs_")
	require.Contains(t, resp.Header.Get("Set-Cookie"), "; HttpOnly; Secure; SameSite=Lax")
}

// Users map to identities by externalId, set on create and PATCH (staff
// and a customer's own users alike): an identity names one user only, and
// a changed externalId moves the sign-in with it.
func TestSignIn_AnExternalIdNamesOneUserAndMovesWithAPatch(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	a := adminToken
	s.trust(a, p, "", nil)
	carol := p.Token(map[string]any{"email": "carol@acme.example"})
	s.fails(401, `no user of msp "acme" has the externalId "carol@acme.example"`, carol, "GET", "/v1/msps/acme", nil)
	require.Equal(t, "carol@acme.example", s.ok(a, "PATCH", "/v1/msps/acme/users/carol", j{"externalId": "carol@acme.example"})["externalId"])
	s.ok(carol, "GET", "/v1/msps/acme", nil)

	s.fails(409, `"alex@acme.example" is already the externalId of user "alex"`, a, "PATCH", "/v1/msps/acme/users/carol", j{"externalId": "alex@acme.example"})
	s.fails(409, `"alex@acme.example" is already the externalId of user "alex"`, a, "POST", "/v1/msps/acme/users", j{"userId": "erin", "displayName": "Erin", "externalId": "alex@acme.example"})
	s.fails(404, `user "erin" not found`, a, "GET", "/v1/msps/acme/users/erin", nil)
	s.fails(409, `is already the externalId of user "zara"`, a, "POST", "/v1/msps/acme/customers/globex/endCustomerUsers", j{"userId": "gus", "displayName": "Gus", "externalId": "zara@zylker.example"})

	require.Equal(t, "carol.b@acme.example", s.ok(a, "PATCH", "/v1/msps/acme/users/carol?updateMask=externalId", j{"externalId": "carol.b@acme.example"})["externalId"])
	s.fails(401, "has the externalId", carol, "GET", "/v1/msps/acme", nil)
	s.ok(p.Token(map[string]any{"email": "carol.b@acme.example"}), "GET", "/v1/msps/acme", nil)

	zara := s.ok(a, "PATCH", "/v1/msps/acme/customers/zylker/endCustomerUsers/zara", j{"externalId": "zara@zylker.example.org", "displayName": "Zara Z."})
	require.Equal(t, j{"userId": "zara", "displayName": "Zara Z.", "customerId": "zylker", "role": "admin", "externalId": "zara@zylker.example.org"}, zara)
	s.fails(404, `user "carol" is not a user of customer "zylker"`, a, "PATCH", "/v1/msps/acme/customers/zylker/endCustomerUsers/carol", j{"externalId": "c@zylker.example"})
	s.fails(400, "externalId must be printable text", a, "PATCH", "/v1/msps/acme/users/carol", j{"externalId": "a\nb"})
}

// The monitoring system names its users' identities too (seed 002: all
// logins are imported from it): Erin, made there, signs in with the email
// the sync gave her; a new one given by the next sync moves her identity;
// an identity of another user, or twice in one snapshot, is refused naming
// the field, and nothing is written.
func TestSignIn_ASyncGivesItsUsersTheirExternalIds(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	a := adminToken
	s.trust(a, p, "", nil)
	snapshot := func(erin string, extra ...any) j {
		snap := rmmSnapshot()
		users := snap["users"].([]any)
		users[1].(j)["externalId"] = erin
		snap["users"] = append(users, extra...)
		return j{"snapshot": snap}
	}
	s.ok(a, "POST", "/v1/msps/acme/syncs/rmm:run", snapshot("erin@acme.example"))
	require.Equal(t, "erin@acme.example", s.ok(a, "GET", "/v1/msps/acme/users/erin", nil)["externalId"])
	erin := p.Token(map[string]any{"email": "erin@acme.example"})
	require.NotEmpty(t, s.ok(erin, "GET", "/v1/msps/acme/users/erin/customers", nil)["customers"], "she signs in as herself")

	rep := s.ok(a, "POST", "/v1/msps/acme/syncs/rmm:run", snapshot("erin.e@acme.example"))
	require.Equal(t, []any{"erin"}, rep["users"].(map[string]any)["updated"])
	s.fails(401, "externalId", erin, "GET", "/v1/msps/acme/users/erin/customers", nil)
	s.ok(p.Token(map[string]any{"email": "erin.e@acme.example"}), "GET", "/v1/msps/acme/users/erin/customers", nil)

	s.fails(409, `snapshot.users[1].externalId: "alex@acme.example" is already the externalId of user "alex"`, a, "POST", "/v1/msps/acme/syncs/rmm:run", snapshot("alex@acme.example"))
	s.fails(400, `snapshot.users[2].externalId: "erin.e@acme.example" is user "erin"'s too`, a, "POST", "/v1/msps/acme/syncs/rmm:run",
		snapshot("erin.e@acme.example", j{"userId": "fay", "displayName": "Fay", "externalId": "erin.e@acme.example"}))
	require.Equal(t, "erin.e@acme.example", s.ok(a, "GET", "/v1/msps/acme/users/erin", nil)["externalId"], "nothing written")
}
