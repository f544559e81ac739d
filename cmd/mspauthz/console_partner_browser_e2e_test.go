package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// signOut ends the browser's session from the console's header.
func (c *chrome) signOut() {
	c.t.Helper()
	c.do(chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.CSS("form[action='/signin/demo']")))
}

// Seed 003 in the console: Olivia logs in as Zylker; Zara, Zylker's own
// administrator, signs in on Zylker's own side and switches MSP Management
// off; Olivia's Login As button is then disabled with the reason and Zylker
// has left her global views; Zara's "who logged in as us" lists Olivia's
// Login As and the attempt refused after the switch.
func TestConsole_ZaraSwitchesMSPManagementOffAndOliviasLoginAsStops(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/zylker")
	c.waitText("#partner-state", "ON")
	c.submit("#login-as", "#notice")
	require.Contains(t, c.text("#notice"), "Login As granted: olivia may act as zylker until")
	c.do(chromedp.Navigate(s.base+"/globalViews/email_tracker"), chromedp.WaitVisible(chromedp.ID("view-customers")))
	require.Contains(t, c.text("#view-customers"), "Zylker Corp")
	c.signOut()

	c.do(chromedp.Click(chromedp.ID("demo-acme-zara")), chromedp.WaitVisible(chromedp.ID("partner-access")))
	require.Equal(t, "/customers/zylker/own", eval[string](c, "location.pathname"), "a customer's own user lands on its own side")
	require.Contains(t, c.text("#logins"), "olivia")
	c.submit("#switch-partner-access", "#notice")
	require.Contains(t, c.text("#notice"), "MSP Management is off")
	require.Equal(t, "OFF", c.text("#partner-state"))
	c.shot("zara-switched-off")
	c.do(chromedp.Reload())
	c.waitText("#notice", "MSP Management is off") // a refresh reads the switch again; it does not switch it
	require.Equal(t, "OFF", c.text("#partner-state"))
	c.signOut()

	c.signInAsDemo(s, "olivia", "/customers/zylker")
	c.waitText("#partner-state", "OFF")
	require.True(t, eval[bool](c, `document.getElementById("login-as").disabled`), "Login As is disabled")
	require.Contains(t, c.text("#login-as-why"), "has switched MSP Management off")
	c.shot("login-as-disabled")
	olivia := s.ok(adminToken, "POST", "/v1/msps/acme/users/olivia/tokens", j{})["token"].(string)
	s.fails(403, "PARTNER_ACCESS_DISABLED", olivia, "POST", "/v1/msps/acme/customers/zylker:loginAs", j{})
	c.do(chromedp.Navigate(s.base+"/globalViews/email_tracker"), chromedp.WaitVisible(chromedp.ID("view-customers")))
	require.NotContains(t, c.text("#view-customers"), "Zylker Corp", "Zylker left the global views")
	c.signOut()

	c.do(chromedp.Click(chromedp.ID("demo-acme-zara")), chromedp.WaitVisible(chromedp.ID("logins")))
	rows := eval[[]any](c, `[...document.querySelectorAll("#logins tbody tr")].map(tr => tr.innerText)`)
	require.Len(t, rows, 2, "the granted Login As and the refused attempt")
	require.Contains(t, rows[0], "olivia")
	require.Contains(t, rows[0], "refused")
	require.Contains(t, rows[1], "logged in")
	c.shot("who-logged-in-as-us")
}

// A GDAP-style grant in the console: Olivia requests the technician role on
// Zylker for the technicians, one day (here a grant day lasts 6 s); Zara
// sees what it would give and to whom, approves it in her own session, and
// sees it expired once its day has passed; Olivia's list says so too.
func TestConsole_OliviaRequestsAGrantZaraApprovesItAndItExpires(t *testing.T) {
	s := startSignIn(t, "--grant-day", "6s")
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/grants")
	c.do(chromedp.SendKeys(chromedp.ID("grant-customer"), "zylker"),
		chromedp.SetValue(chromedp.ID("grant-group"), "technician"), chromedp.SetValue(chromedp.ID("grant-role"), "technician"),
		chromedp.SetValue(chromedp.ID("grant-days"), "1"))
	// The top role may not extend itself: the API refuses, the form stays.
	c.do(chromedp.SetValue(chromedp.ID("grant-role"), "account_owner"), chromedp.Click(chromedp.ID("grant-extend")))
	c.submit("#request-grant", "#refusal")
	require.Contains(t, c.text("#refusal"), "Refused, nothing written")
	require.Contains(t, c.text("#refusal"), "TOP_ROLE_NOT_EXTENDABLE")
	require.Equal(t, "zylker", eval[string](c, `document.getElementById("grant-customer").value`), "the form as she left it")
	c.shot("grant-refused-top-role")
	c.do(chromedp.SetValue(chromedp.ID("grant-role"), "technician"), chromedp.Click(chromedp.ID("grant-extend")), chromedp.Click(chromedp.ID("request-grant")))
	c.waitText("#notice", "requested: it waits for Zylker Corp's administrator")
	require.Contains(t, c.text("#grants"), "PENDING")
	c.shot("grant-requested")
	// A refresh reads the page again; it does not request a second grant.
	c.do(chromedp.Reload())
	c.waitText("#notice", "requested: it waits for Zylker Corp's administrator")
	require.Len(t, s.ok(adminToken, "GET", "/v1/msps/acme/grants", nil)["grants"], 1, "one grant requested")
	c.signOut()

	c.do(chromedp.Click(chromedp.ID("demo-acme-zara")), chromedp.WaitVisible(chromedp.ID("grant-requests")))
	require.Contains(t, c.text("#grant-requests"), "Role technician for the security group technician, 1 day")
	require.Contains(t, c.text("#grant-requests"), "tickets.create", "what it would give")
	require.Contains(t, c.text("#grant-requests"), "dana", "to whom")
	c.shot("grant-to-approve")
	c.submit("button[id^=approve-]", "#notice")
	require.Contains(t, c.text("#notice"), "is now active")
	require.Contains(t, c.text("#active-grants"), "technician, for technician")
	dana := j{"resource": "customer:zylker", "permission": "tickets.create", "subject": "user:dana"}
	require.Equal(t, true, s.ok(adminToken, "POST", "/v1/msps/acme/check", dana)["allowed"], "Dana may work on Zylker")

	deadline := time.Now().Add(30 * time.Second)
	for !eval[bool](c, `!!document.querySelector("#past-grants .status.EXPIRED")`) {
		require.True(t, time.Now().Before(deadline), "the grant never showed as expired")
		time.Sleep(time.Second)
		c.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("grant-requests")))
	}
	require.Contains(t, c.text("#active-grants"), "No active grant.")
	require.False(t, eval[bool](c, `!!document.getElementById("refusal")`), "the refreshes read; none approved again")
	require.Contains(t, c.text("#notice"), "is now expired", "the notice says what the grant is now")
	require.Equal(t, false, s.ok(adminToken, "POST", "/v1/msps/acme/check", dana)["allowed"], "an expired grant denies")
	c.shot("grant-expired")
	c.signOut()
	c.signInAsDemo(s, "olivia", "/grants")
	require.Contains(t, c.text("#grants"), "EXPIRED")
}

// The audit trail in the console: Olivia filters it to the Login As
// attempts, pages through it, and exports what the filter selects; a
// technician is refused both the trail and the grants by the API.
func TestConsole_OliviaFiltersTheAuditTrailAndExportsIt(t *testing.T) {
	s := startSignIn(t)
	olivia := s.ok(adminToken, "POST", "/v1/msps/acme/users/olivia/tokens", j{})["token"].(string)
	for range 3 {
		s.ok(olivia, "POST", "/v1/msps/acme/customers/zylker:loginAs", j{})
	}
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/audit")
	c.do(chromedp.SendKeys(chromedp.ID("audit-action"), "PartnerService/LoginAs"), chromedp.Click(chromedp.ID("filter")))
	c.waitUntil(`new URLSearchParams(location.search).get("action") === "PartnerService/LoginAs" && !!document.getElementById("events")`) // the filter is in the address: a deep link
	rows := eval[[]any](c, `[...document.querySelectorAll("#events tbody tr")].map(tr => tr.innerText)`)
	require.Len(t, rows, 3)
	for _, r := range rows {
		require.Contains(t, r, "olivia")
		require.Contains(t, r, "customer:zylker")
	}
	c.shot("audit-login-as")
	exported, err := chromedp.Run(c.tab, chromedp.Evaluate[string](`fetch(document.getElementById("export").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Len(t, strings.Split(strings.TrimSpace(exported), "\n"), 3, "the export is the filtered events as JSON Lines: %s", exported)
	c.signOut()

	c.signInAsDemo(s, "dana", "/customers")
	c.do(chromedp.Navigate(s.base+"/audit"), chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, c.text("#problem"), `lacks audit.view`)
	c.do(chromedp.Navigate(s.base+"/grants"), chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, c.text("#problem"), `lacks grants.manage`)
}

// Seed 002's "Synchronize MSP RMM" in the console: Olivia pastes the RMM's
// snapshot, and its dry run shows the diff and that Ann would gain Zylker,
// writing nothing; Sync writes it; a group renamed here is drift, which the
// next dry run says it would put back.
func TestConsole_OliviaDryRunsAndAppliesTheRMMSnapshot(t *testing.T) {
	s := startSignIn(t)
	snapshot := `{"mspId":"acme","users":[{"userId":"ann","displayName":"Ann"}],"customerGroups":[{"customerGroupId":"servers","displayName":"Servers","customers":["zylker"]}],"assignments":[{"userId":"ann","customerGroupId":"servers"}]}`
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/syncs/rmm")
	c.waitText("#drift", "Never synced yet")
	c.do(chromedp.SetValue(chromedp.ID("snapshot"), snapshot), chromedp.Click(chromedp.ID("dry-run")))
	c.waitText("#sync-result", "A sync would")
	require.Contains(t, c.text("#sync-diff"), "ann")
	require.Contains(t, c.text("#sync-diff"), "servers")
	require.Contains(t, c.text("#sync-result"), "ann gains Zylker Corp", "(Ann is no user here yet: the page names her by her id)")
	require.Equal(t, snapshot, eval[string](c, `document.getElementById("snapshot").value`), "the snapshot stays in the form")
	c.shot("sync-dry-run")
	s.fails(404, `user "ann" not found`, adminToken, "GET", "/v1/msps/acme/users/ann", nil)

	c.do(chromedp.Click(chromedp.ID("apply")))
	c.waitText("#sync-result", "Synced")
	require.NotEmpty(t, c.text("#sync-written-at"))
	require.Equal(t, "rmm", s.ok(adminToken, "GET", "/v1/msps/acme/users/ann", nil)["origin"])

	s.ok(adminToken, "PATCH", "/v1/msps/acme/customerGroups/servers?updateMask=displayName", j{"customerGroupId": "servers", "displayName": "Our servers"})
	s.ok(adminToken, "PUT", "/v1/msps/acme/customerGroups/servers/customers", j{"customers": []string{"zylker", "globex"}})
	c.do(chromedp.Navigate(s.base + "/syncs/rmm"))
	c.waitText("#drift-list", "customerGroup servers")
	require.Contains(t, c.text("#drift-list"), "renamed here from “Servers” to “Our servers”")
	require.Contains(t, c.text("#drift-list"), "customers added here: globex")
	c.do(chromedp.SetValue(chromedp.ID("snapshot"), snapshot), chromedp.Click(chromedp.ID("dry-run")))
	c.waitText("#sync-overwrites", "customerGroup servers")
	require.Contains(t, c.text("#sync-overwrites"), "customers added here: globex", "the sync takes Globex out again")
	c.shot("sync-drift-overwrites")

	c.do(chromedp.SetValue(chromedp.ID("snapshot"), `{"mspId":"acme","users":[{"userId":"Bad Id!"}]}`), chromedp.Click(chromedp.ID("dry-run")))
	c.waitText("#sync-refusal", "Refused, nothing written")
}

// Seed 003's partner admin: Olivia also administers Acme's own domain, so
// the console offers her the switch between the partner view and it; on the
// own domain she restricts it as its administrator. Dana, partner staff,
// is offered no switch.
func TestConsole_OliviaSwitchesBetweenThePartnerViewAndAcmesOwnDomain(t *testing.T) {
	s := startSignIn(t)
	s.ok(adminToken, "POST", "/v1/msps/acme/customers", j{"customerId": "acme-internal", "displayName": "Acme IT (internal)"})
	s.ok(adminToken, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true, "ownDomainCustomerId": "acme-internal"})
	s.ok(adminToken, "POST", "/v1/msps/acme/customers/acme-internal/endCustomerUsers", j{"userId": "olivia", "displayName": "Olivia", "role": "admin"})
	s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": "pat", "displayName": "Pat"})
	s.ok(adminToken, "PUT", "/v1/msps/acme/users/pat/securityGroups", j{"securityGroups": []string{"partner"}})
	patReadsLogs := j{"resource": "customer:acme-internal", "permission": "email_logs.view", "subject": "user:pat"}
	require.Equal(t, true, s.ok(adminToken, "POST", "/v1/msps/acme/check", patReadsLogs)["allowed"], "partner staff read its email logs")

	c := newChrome(t)
	c.signInAsDemo(s, "dana", "/customers")
	require.False(t, eval[bool](c, `!!document.getElementById("own-domain")`), "partner staff are offered no switch")
	c.signOut()

	c.signInAsDemo(s, "olivia", "/customers")
	require.Equal(t, "true", eval[string](c, `document.getElementById("partner-view").getAttribute("aria-current")`), "she works in the partner view")
	c.submit("#own-domain", "#own-domain-summary")
	require.Equal(t, "/customers/acme-internal/own", eval[string](c, "location.pathname"))
	require.Contains(t, c.text("h1"), "Acme IT (internal): your MSP's own domain")
	require.Equal(t, "true", eval[string](c, `document.getElementById("own-domain").getAttribute("aria-current")`))
	c.submit("#switch-partner-access", "#notice")
	require.Contains(t, c.text("#notice"), "MSP Management is off")
	c.shot("own-domain-restricted")
	require.Equal(t, false, s.ok(adminToken, "POST", "/v1/msps/acme/check", patReadsLogs)["allowed"], "partner staff lose its email logs")

	c.submit("#partner-view", "#customers")
	require.Equal(t, "/customers", eval[string](c, "location.pathname"))
	require.Equal(t, "true", eval[string](c, `document.getElementById("partner-view").getAttribute("aria-current")`))
	c.shot("partner-view")
}
