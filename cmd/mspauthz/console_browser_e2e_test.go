package main_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/signin/signintest"
)

// shotsDir is where the key screenshots also go, for people to look at.
const shotsDir = "/tmp/mspauthz-console-shots"

// chrome is a tab of a real browser (Debian's chromium, driven by chromedp)
// that saves screenshots under the test's artifacts.
type chrome struct {
	t         *testing.T
	tab       context.Context
	artifacts string
}

// newChrome starts chromium for the test; its screenshots go under
// $MSPAUTHZ_ARTIFACTS/<test> (or a temporary directory), and to shotsDir.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	dir := os.Getenv("MSPAUTHZ_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.MkdirAll(shotsDir, 0o755))
	t.Logf("screenshots: %s (and %s)", dir, shotsDir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	c := &chrome{t: t, tab: tab, artifacts: dir}
	// The first call starts the browser, which lives as long as its context:
	// the tab's, without a timeout.
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate("about:blank")))
	return c
}

// do runs steps, each call at most 30 seconds.
func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
	defer cancel()
	require.NoError(c.t, chromedp.Do(ctx, steps...))
}

// text is the text of the element sel selects.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	for err != nil && strings.Contains(err.Error(), "(-32000)") && ctx.Err() == nil { // the page was still being replaced: read the new one
		time.Sleep(50 * time.Millisecond)
		out, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	}
	require.NoError(c.t, err, sel)
	return out
}

// eval is the value of a JavaScript expression in the page.
func eval[T any](c *chrome, expression string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	for err != nil && strings.Contains(err.Error(), "(-32000)") && ctx.Err() == nil {
		// The page's context went with a navigation: ask the new page.
		time.Sleep(50 * time.Millisecond)
		out, err = chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	}
	require.NoError(c.t, err, expression)
	return out
}

// submit sets the fields of the page (id, value, ...) and presses button (a
// CSS selector), which posts its form or follows its link, in one script (no
// node of a page being replaced is held between); then it waits for the
// page the console answers, through any redirect, to show the element want
// selects (the page it left is marked, so that it is not taken for it).
func (c *chrome) submit(button, want string, fields ...string) {
	c.t.Helper()
	script := "window.mspauthzLeft = true;"
	for i := 0; i+1 < len(fields); i += 2 {
		script += fmt.Sprintf(`document.getElementById(%q).value = %q;`, fields[i], fields[i+1])
	}
	// Once, never again: an answer lost to the navigation the click began
	// (CDP -32000) is no reason to click the next page.
	ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script+fmt.Sprintf(`document.querySelector(%q).click(); true`, button))); err != nil && !strings.Contains(err.Error(), "(-32000)") {
		require.NoError(c.t, err, button)
	}
	c.waitUntil(fmt.Sprintf(`!window.mspauthzLeft && document.readyState === "complete" && !!document.querySelector(%q)`, want))
}

// waitText waits until the element sel selects holds want.
func (c *chrome) waitText(sel, want string) {
	c.t.Helper()
	if err := c.poll(fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText.includes(%q)`, sel, want)); err != nil {
		c.t.Fatalf("%s never read %q: %v; it reads %q", sel, want, err, c.text(sel))
	}
}

// waitUntil waits until a JavaScript expression is true in the page.
func (c *chrome) waitUntil(expression string) {
	c.t.Helper()
	if err := c.poll(expression); err != nil {
		c.t.Fatalf("never true: %s: %v", expression, err)
	}
}

// poll evaluates expression until it is true, across the pages a click or a
// post navigates to (45 seconds at most).
func (c *chrome) poll(expression string) error {
	ctx, cancel := context.WithTimeout(c.tab, 45*time.Second)
	defer cancel()
	poll := chromedp.Poll[bool](expression)
	_, err := chromedp.Run(ctx, poll)
	for err != nil && ctx.Err() == nil { // the page it polled gave way to the next: poll that one
		time.Sleep(50 * time.Millisecond)
		_, err = chromedp.Run(ctx, poll)
	}
	return err
}

// shot saves a full-page screenshot as name.png.
func (c *chrome) shot(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	for err != nil && strings.Contains(err.Error(), "(-32000)") && ctx.Err() == nil { // a page still being laid out
		time.Sleep(50 * time.Millisecond)
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	require.NoError(c.t, err)
	for _, dir := range []string{c.artifacts, shotsDir} {
		require.NoError(c.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
	}
}

// signInAsDemo opens path and, sent to the sign-in page, picks one of the
// demo's people, who lands back on path.
func (c *chrome) signInAsDemo(s *server, user, path string) {
	c.t.Helper()
	c.do(chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.ID("demo-acme-"+user)))
	c.do(chromedp.Click(chromedp.ID("demo-acme-"+user)), chromedp.WaitVisible(chromedp.ID("signed-in")))
	require.Contains(c.t, eval[string](c, "location.pathname"), strings.SplitN(path, "?", 2)[0])
}

// Seed 000 in the console: opening Zylker and unticking Zoho shows, before
// any save, that Bob loses Zylker and Alex keeps it through Site24x7, drawn
// with Zoho's path struck through; Save shows the report and its ZedToken.
// Emptying Alex's groups shows the Account Contact block beside the rows
// concerned, keeps the form as left, and writes nothing.
func TestConsole_UntickingZohoShowsThatBobLosesZylkerBeforeTheSave(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/zylker")
	c.waitText("h1", "Zylker Corp")
	require.True(t, eval[bool](c, `document.getElementById("customerGroups-zoho").checked`))
	c.shot("customer-zylker")

	c.do(chromedp.Click(chromedp.ID("customerGroups-zoho")))
	c.waitText("#preview", "Bob loses Zylker Corp")
	c.waitText("#preview", "Alex keeps Zylker Corp through Site24x7")
	require.Contains(t, c.text("#preview"), "If you save now")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('#preview path.edge.cut[data-from="customer_group:zoho"][data-to="customer:zylker"]').length`), "Zoho's path to Zylker is drawn cut")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('#preview g.node.loses[data-key="user:bob"]').length`), "Bob is drawn losing it")
	c.shot("preview-untick-zoho")
	prefs := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker", nil)["preferences"].(j)
	require.Equal(t, []any{"site24x7", "zoho"}, prefs["customerGroups"], "a preview writes nothing")

	c.submit("#save", "#written-at")
	require.Contains(t, c.text("#preview"), "Saved")
	require.Contains(t, c.text("#preview"), "Bob loses Zylker Corp")
	require.Contains(t, c.text("#preview"), "Alex keeps Zylker Corp through Site24x7")
	written := c.text("#written-at")
	require.NotEmpty(t, written)
	prefs = s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker?atLeastAsFresh="+written, nil)["preferences"].(j)
	require.Equal(t, []any{"site24x7"}, prefs["customerGroups"])
	require.False(t, eval[bool](c, `document.getElementById("customerGroups-zoho").checked`), "the form reads back as saved")
	c.shot("saved-report")

	c.do(chromedp.Navigate(s.base+"/users/alex"), chromedp.WaitVisible(chromedp.ID("customerGroups-zoho")))
	c.do(chromedp.Click(chromedp.ID("customerGroups-zoho")))
	c.waitText("#preview", "Alex loses Globex")
	c.do(chromedp.Click(chromedp.ID("customerGroups-site24x7")))
	c.waitText("#preview", "Alex is Zylker Corp's Account Contact")
	require.Contains(t, c.text("#preview"), "A save would be refused")
	c.submit("#save", ".row.blocked")
	require.Contains(t, c.text("#preview"), "Refused: nothing was written")
	require.Contains(t, c.text(".row.blocked"), "Alex is Zylker Corp's Account Contact")
	require.Contains(t, c.text(".row.blocked"), "Site24x7", "beside Site24x7, his last path to Zylker")
	require.False(t, eval[bool](c, `document.getElementById("customerGroups-site24x7").checked || document.getElementById("customerGroups-zoho").checked`), "the form stays as he left it")
	c.shot("refused-account-contact")
	groups := s.ok(adminToken, "GET", "/v1/msps/acme/users/alex", nil)["customerGroups"].([]any)
	require.Len(t, groups, 2, "nothing written")
}

// Signing in through the MSP's identity provider (the in-test OpenID
// Connect provider) lands on the page that sent the browser there.
func TestConsole_OliviaSignsInThroughAcmesProviderAndSeesTheCustomers(t *testing.T) {
	s := startSignIn(t)
	p := signintest.Start(t)
	s.trust(adminToken, p, "", nil)
	p.SignIn("olivia@acme.example")
	c := newChrome(t)
	c.do(chromedp.Navigate(s.base+"/customers?search=e"), chromedp.WaitVisible(chromedp.CSS(`input[name="msp"]`)))
	c.do(chromedp.SendKeys(chromedp.CSS(`input[name="msp"]`), "acme"), chromedp.Submit(chromedp.CSS(`input[name="msp"]`)), chromedp.WaitVisible(chromedp.ID("customers")))
	require.Equal(t, "/customers", eval[string](c, "location.pathname"))
	require.Contains(t, c.text("#signed-in"), "olivia of acme")
	require.Contains(t, c.text("#customers"), "Globex")
	require.Contains(t, c.text("#customers"), "Zylker Corp")
	require.Equal(t, 3, eval[int](c, `document.querySelectorAll("#customers tbody tr").length`), "Globex, Initech and Zylker Corp hold an e")
	c.shot("customers-signed-in-oidc")

	// The README's address, the console's first page, is the customers.
	c.do(chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(chromedp.ID("customers")))
	require.Equal(t, "/customers", eval[string](c, "location.pathname"))
}

// Dana, a technician, sees only her customers, and no admin form: every
// refusal is the API's.
func TestConsole_ATechnicianSeesOnlyHerCustomersAndNoAdminForm(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "dana", "/customers")
	require.Equal(t, []any{"Initech"}, eval[[]any](c, `[...document.querySelectorAll("#customers tbody td:first-child")].map(td => td.innerText)`))
	require.Equal(t, []any{"Customers", "Global views"}, eval[[]any](c, `[...document.querySelectorAll("header nav a")].map(a => a.innerText)`), "the navigation offers her no admin page")
	require.Equal(t, 2, eval[int](c, `document.querySelectorAll("#customers thead th").length`), "nor a reach she may not read")
	c.shot("technician-customers")
	c.do(chromedp.Navigate(s.base+"/customers/initech"), chromedp.WaitVisible(chromedp.ID("read-only")))
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("form#form, input[type=checkbox]").length`), "no admin form")
	c.shot("technician-customer")
	c.do(chromedp.Navigate(s.base+"/customers/zylker"), chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, c.text("#problem"), `customer "zylker" not found`)
	c.do(chromedp.Navigate(s.base+"/customerGroups"), chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, c.text("#problem"), `user "dana" lacks customer_groups.manage`)
}

// The picture of Zylker draws one node per user and customer group the API
// lists, and explain draws Alex's paths and tells what Bob lacks.
func TestConsole_ThePictureOfZylkerHasOneNodePerUserAndGroupTheAPILists(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/zylker/picture")
	users := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker/users", nil)["users"].([]any)
	groups := map[string]bool{}
	for _, u := range users {
		require.Equal(t, 1, eval[int](c, fmt.Sprintf(`document.querySelectorAll('g.node[data-key="user:%s"]').length`, u.(j)["userId"])))
		for _, via := range u.(j)["via"].([]any) {
			if g, ok := strings.CutPrefix(via.(string), "customer_group:"); ok {
				groups[g] = true
			}
		}
	}
	require.Equal(t, len(users), eval[int](c, `document.querySelectorAll("g.node.user").length`))
	require.Equal(t, len(groups), eval[int](c, `document.querySelectorAll("g.node.customer_group").length`))
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('g.node.customer[data-key="customer:zylker"]').length`))
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('path.edge[data-from="user:carol"][data-to="direct"]').length`), "Carol's direct path")
	c.shot("picture-zylker")

	c.do(chromedp.Navigate(s.base+"/explain?user=alex&permission=access&customer=zylker"), chromedp.WaitVisible(chromedp.ID("verdict")))
	require.Contains(t, c.text("#verdict"), "Allowed")
	require.Equal(t, 2, eval[int](c, `document.querySelectorAll("ol.paths li").length`))
	c.do(chromedp.Navigate(s.base+"/explain?user=dana&permission=tickets.create&customer=zylker"), chromedp.WaitVisible(chromedp.ID("verdict")))
	require.Contains(t, c.text("#verdict"), "Denied")
	require.Contains(t, c.text(".missing"), "SCOPE_NOT_COVERING")
	c.shot("explain-dana-denied")
}

// In the browser: a cross-site form post is refused and writes nothing;
// names that are markup render as text; the console sends its security
// headers; the session cookie is never readable from script.
func TestConsole_CrossSitePostsAreRefusedAndNamesAreText(t *testing.T) {
	s := startSignIn(t)
	const markup = "<img src=x onerror=alert(1)>"
	s.ok(adminToken, "POST", "/v1/msps/acme/customers", j{"customerId": "evilcorp", "displayName": markup})
	s.ok(adminToken, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": "evilgroup", "displayName": markup})
	s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": "eve", "displayName": markup})
	s.ok(adminToken, "PUT", "/v1/msps/acme/customerGroups/evilgroup/customers", j{"customers": []string{"evilcorp"}})
	s.ok(adminToken, "PUT", "/v1/msps/acme/users/eve/customerGroups", j{"customerGroups": []string{"evilgroup"}})

	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/evilcorp")
	for _, path := range []string{"/customers/evilcorp", "/customers/evilcorp/picture", "/customerGroups/evilgroup", "/users/eve", "/customers?search=evil"} {
		c.do(chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		require.Equal(t, 0, eval[int](c, `document.querySelectorAll("main img").length`), "%s renders the name as text", path)
		require.Contains(t, eval[string](c, `document.querySelector("main").textContent`), markup, path)
	}
	c.shot("markup-as-text")
	require.NotContains(t, eval[string](c, "document.cookie"), "mspauthz_session", "the session cookie is HttpOnly")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(s.base + "/customers")
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "to sign in")
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))

	// Another site's page posts the Edit Customer Preferences form with the
	// browser's session: refused before any call.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/customers/zylker"><input type="hidden" name="selection" value="1"><button id="go">win a prize</button></form>`, s.base)
	}))
	defer evil.Close()
	c.do(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)), chromedp.Click(chromedp.ID("go")), chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, c.text("#problem"), "from another site was refused")
	c.shot("cross-site-refused")
	prefs := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker", nil)["preferences"].(j)
	require.Equal(t, []any{"site24x7", "zoho"}, prefs["customerGroups"], "nothing written")
	require.Equal(t, []any{"carol"}, prefs["users"])
}

// Past the first options of a choice, a form finds the others by id or name:
// among 66 users, Olivia finds Yusuf by his surname, ticks him, reads that he
// would gain Zylker, and saves him onto it.
func TestConsole_OliviaFindsYusufAmongManyUsersAndAssociatesHimWithZylker(t *testing.T) {
	s := startSignIn(t)
	for i := range 60 {
		s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": fmt.Sprintf("u%02d", i), "displayName": fmt.Sprintf("User %02d", i)})
	}
	s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": "yusuf", "displayName": "Yusuf Demir"})
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/zylker")
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("#users-yusuf, #users-found-yusuf").length`), "Yusuf is past the first options")
	require.Equal(t, 50, eval[int](c, `document.querySelectorAll("input[name=users]").length`), "the first 50 (Carol, who is selected, among them)")

	c.do(chromedp.SendKeys(chromedp.ID("find-users"), "demir"))
	c.do(chromedp.WaitVisible(chromedp.ID("users-found-yusuf")))
	require.Contains(t, c.text("#found-users"), "Yusuf Demir")
	c.do(chromedp.Click(chromedp.ID("users-found-yusuf")))
	c.waitText("#preview", "Yusuf Demir gains Zylker Corp")
	c.shot("found-yusuf")

	c.submit("#save", "#written-at")
	require.Contains(t, c.text("#preview"), "Yusuf Demir gains Zylker Corp")
	prefs := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker?atLeastAsFresh="+c.text("#written-at"), nil)["preferences"].(j)
	require.Equal(t, []any{"carol", "yusuf"}, prefs["users"])
	require.True(t, eval[bool](c, `document.getElementById("users-yusuf").checked`), "the form reads him back, selected")

	c.do(chromedp.SendKeys(chromedp.ID("find-users"), "nobody-at-all"))
	c.waitText("#found-users", "Nothing else matches “nobody-at-all”")
}

// Olivia makes Carol Zylker's Account Contact: the page says so and reads
// it back; a refresh reads again and writes nothing more; a contact the API
// refuses leaves the contact as it was, with the reason.
func TestConsole_OliviaMakesCarolZylkersAccountContactAndARefreshSavesNothing(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/zylker")
	c.submit("#set-account-contact", "#notice", "account-contact-user", "carol")
	require.Contains(t, c.text("#notice"), "The Account Contact is now Carol.")
	require.Equal(t, "Carol", c.text("#account-contact"))
	require.Contains(t, eval[string](c, "location.search"), "done=contact", "the save answered with a redirect to the page")
	c.shot("account-contact-set")
	events := func() int {
		q := "/v1/msps/acme/auditEvents?action=TenancyService/SetAccountContact&pageSize=1000"
		listed, _ := s.ok(adminToken, "GET", q, nil)["events"].([]any)
		return len(listed)
	}
	before := events()
	require.Positive(t, before, "the save is on the trail")
	c.do(chromedp.Reload())
	c.waitText("#notice", "The Account Contact is now Carol.")
	require.Equal(t, before, events(), "a refresh saves nothing")

	// As a page left open while Dana lost Zylker would offer her.
	eval[bool](c, `(s => { s.add(new Option("Dana", "dana")); s.value = "dana"; return true })(document.getElementById("account-contact-user"))`)
	c.submit("#set-account-contact", "#refusal")
	require.Contains(t, c.text("#refusal"), "Refused, nothing written")
	require.Equal(t, "Carol", c.text("#account-contact"), "the contact as it was")
	c.shot("account-contact-refused")
}
