package main_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Roles and security groups in the console: the catalog as a matrix of
// roles, a custom role made from Technician's permissions and narrowed,
// bound to Zylker by a security group drawn with what it grants where, to
// Bob, then Alex too; its
// delete refused while that group holds it, naming the group; Admin on
// chosen customers refused with the API's reason.
func TestConsole_OliviaMakesAHelpdeskRoleBindsItToZylkerAndCannotDeleteItWhileHeld(t *testing.T) {
	s := startSignIn(t)
	catalog := s.ok(adminToken, "GET", "/v1/permissions", nil)["permissions"].([]any)
	roles := s.ok(adminToken, "GET", "/v1/msps/acme/roles", nil)["roles"].([]any)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/roles")
	require.Equal(t, len(catalog), eval[int](c, `document.querySelectorAll("#matrix tbody tr[data-permission]").length`), "a row per permission of the catalog")
	require.Equal(t, len(roles), eval[int](c, `document.querySelectorAll("#matrix thead th.role").length`), "a column per role")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('#matrix tr[data-permission="tickets.create"] td.held[data-role="technician"]').length`))
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll('#matrix tr[data-permission="roles.manage"] td.held[data-role="technician"]').length`))
	c.shot("roles-matrix")

	c.do(chromedp.SendKeys(chromedp.ID("role-id"), "helpdesk"), chromedp.SendKeys(chromedp.ID("role-name"), "Helpdesk"),
		chromedp.SetValue(chromedp.ID("role-from"), "technician"))
	c.submit("#create-role", "#notice")
	require.Equal(t, "/roles/helpdesk", eval[string](c, "location.pathname"))
	require.True(t, eval[bool](c, `document.getElementById("perm-tickets.create").checked`), "made from Technician's permissions")
	c.do(chromedp.Click(chromedp.CSS(`[id="perm-tickets.create"]`)))
	c.submit("#save", "#notice")
	require.Contains(t, c.text("#notice"), "Saved")
	require.NotContains(t, s.ok(adminToken, "GET", "/v1/msps/acme/roles/helpdesk", nil)["permissions"], "tickets.create")
	c.shot("role-helpdesk")

	c.do(chromedp.Navigate(s.base+"/securityGroups"), chromedp.WaitVisible(chromedp.ID("new-security-group")))
	c.do(chromedp.SendKeys(chromedp.ID("sg-id"), "zylker-helpdesk"), chromedp.SendKeys(chromedp.ID("sg-name"), "Zylker helpdesk"),
		chromedp.SetValue(chromedp.ID("sg-role"), "helpdesk"), chromedp.Click(chromedp.ID("scope-chosen")), chromedp.Click(chromedp.ID("customers-zylker")),
		chromedp.Click(chromedp.ID("members-bob")))
	c.submit("#create-security-group", "#grants")
	require.Equal(t, "/securityGroups/zylker-helpdesk", eval[string](c, "location.pathname"))
	require.Contains(t, c.text("#grants"), "Helpdesk")
	require.Contains(t, c.text("#grants"), "Zylker Corp")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('path.edge[data-from="user:bob"][data-to="security_group:zylker-helpdesk"]').length`), "Bob is drawn a member")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('path.edge[data-from="security_group:zylker-helpdesk"][data-to="customer:zylker"]').length`), "on Zylker")
	c.do(chromedp.Click(chromedp.ID("users-alex")))
	c.submit("#save", "#notice")
	require.Contains(t, c.text("#notice"), "Members saved")
	require.Equal(t, []any{"alex", "bob"}, s.ok(adminToken, "GET", "/v1/msps/acme/securityGroups/zylker-helpdesk", nil)["members"])
	require.True(t, eval[bool](c, `document.getElementById("users-alex").checked && document.getElementById("users-bob").checked`), "read back as saved")
	c.shot("security-group-zylker-helpdesk")

	c.do(chromedp.Navigate(s.base+"/roles/helpdesk"), chromedp.WaitVisible(chromedp.ID("delete")))
	c.submit("#delete", "#refusal")
	require.Contains(t, c.text("#refusal"), "still assigned")
	require.Contains(t, c.text("#refusal"), "zylker-helpdesk", "the refusal names the group that holds it")
	c.shot("role-delete-refused")
	s.ok(adminToken, "GET", "/v1/msps/acme/roles/helpdesk", nil)

	// A scope that cannot hold a permission: Admin edits policies, which a
	// group on chosen customers never grants.
	c.do(chromedp.Navigate(s.base+"/securityGroups"), chromedp.WaitVisible(chromedp.ID("new-security-group")))
	c.do(chromedp.SendKeys(chromedp.ID("sg-id"), "zylker-admins"), chromedp.SendKeys(chromedp.ID("sg-name"), "Zylker admins"),
		chromedp.SetValue(chromedp.ID("sg-role"), "admin"), chromedp.Click(chromedp.ID("scope-chosen")), chromedp.Click(chromedp.ID("customers-zylker")),
		chromedp.Click(chromedp.ID("create-security-group")), chromedp.WaitVisible(chromedp.ID("refusal")))
	require.Contains(t, c.text("#refusal"), "which a security group scoped to some customers never grants")
	require.True(t, eval[bool](c, `document.getElementById("scope-chosen").checked && document.getElementById("customers-zylker").checked`), "the form stays as posted")
	c.shot("security-group-scope-refused")
	s.fails(404, "", adminToken, "GET", "/v1/msps/acme/securityGroups/zylker-admins", nil)

	c.do(chromedp.Navigate(s.base+"/securityGroups/zylker-helpdesk"), chromedp.WaitVisible(chromedp.ID("delete")))
	c.submit("#delete", "#notice")
	require.Contains(t, c.text("#notice"), "Deleted")
	c.do(chromedp.Navigate(s.base+"/roles/helpdesk"), chromedp.WaitVisible(chromedp.ID("delete")))
	c.submit("#delete", "#notice")
	require.Contains(t, c.text("#notice"), "Deleted")
	require.Equal(t, "/roles", eval[string](c, "location.pathname"))
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll('#matrix th.role[data-role="helpdesk"]').length`))
}

// Seed 004 in the console: Add User with "Put in a Customer-Specific
// Security Group" on Zylker makes Ivan, whose page shows the generated
// group selected; giving him Technician directly is refused with the API's
// reason; deleting his group first, then assigning, reverts him.
func TestConsole_SeedFour_IvanIsConfinedToZylkerAndThenReverted(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/users")
	c.do(chromedp.SendKeys(chromedp.ID("user-id"), "ivan"), chromedp.SendKeys(chromedp.ID("user-name"), "Ivan (Zylker IT)"),
		chromedp.Click(chromedp.ID("single-customer")), chromedp.SendKeys(chromedp.ID("single-customer-id"), "zylker"),
		chromedp.Click(chromedp.CSS("#single-permissions summary")), chromedp.Click(chromedp.CSS(`[id="perm-tickets.delete"]`)))
	c.shot("add-user-single-customer")
	c.submit("#add-user-submit", "#revert")
	require.Equal(t, "/users/ivan", eval[string](c, "location.pathname"))
	require.Contains(t, c.text("#confined"), "confined to Zylker Corp")
	require.True(t, eval[bool](c, `document.getElementById("securityGroups-ivan").checked`), "the generated group appears selected")
	ivan := s.ok(adminToken, "GET", "/v1/msps/acme/users/ivan", nil)
	require.Equal(t, "zylker", ivan["singleCustomerId"])
	perms := s.ok(adminToken, "GET", "/v1/msps/acme/roles/ivan", nil)["permissions"].([]any)
	require.NotContains(t, perms, "tickets.delete", "the subset ticked")
	require.Contains(t, perms, "tickets.create")
	c.shot("single-customer-user")

	c.do(chromedp.Click(chromedp.ID("securityGroups-ivan")), chromedp.Click(chromedp.ID("securityGroups-technician")),
		chromedp.Click(chromedp.ID("save-security-groups")), chromedp.WaitVisible(chromedp.ID("sg-refusal")))
	require.Contains(t, c.text("#sg-refusal"), "delete that group first, then assign a full-permission group; a direct swap is refused")
	require.True(t, eval[bool](c, `document.getElementById("securityGroups-technician").checked && !document.getElementById("securityGroups-ivan").checked`), "the form stays as left")
	c.shot("direct-swap-refused")
	require.Equal(t, "zylker", s.ok(adminToken, "GET", "/v1/msps/acme/users/ivan", nil)["singleCustomerId"], "nothing written")

	c.submit("#release", "#notice")
	require.Contains(t, c.text("#notice"), "no longer confined")
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("#revert, #securityGroups-ivan").length`))
	c.do(chromedp.Click(chromedp.ID("securityGroups-technician")))
	c.submit("#save-security-groups", "#notice")
	require.Contains(t, c.text("#notice"), "Security groups saved")
	require.True(t, eval[bool](c, `document.getElementById("securityGroups-technician").checked`))
	ivan = s.ok(adminToken, "GET", "/v1/msps/acme/users/ivan", nil)
	require.Empty(t, ivan["singleCustomerId"])
	require.Equal(t, "technician", ivan["securityGroups"].([]any)[0].(j)["securityGroupId"])
	c.shot("single-customer-user-reverted")
}

// Seed 001 in the console: in Zylker's panel, Add User gives the portal
// role while role selection is off (no User Role drop-down); turned on, the
// drop-down picks Operator.
func TestConsole_SeedOne_ZylkersNewUserGetsThePortalRoleThenAChosenOne(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/customers/zylker")
	c.submit("#end-customer-users-link", "#end-customer-users")
	require.Contains(t, c.text(`#end-customer-users tr[data-user="zara"]`), "Admin")
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("#ecu-role").length`), "no User Role drop-down while role selection is off")
	require.Contains(t, c.text("#ecu-default-role"), "White-labeled Client Portal")
	c.do(chromedp.SendKeys(chromedp.ID("ecu-id"), "pat"), chromedp.SendKeys(chromedp.ID("ecu-name"), "Pat"))
	c.submit("#add-ecu", "#notice")
	require.Contains(t, c.text(`#end-customer-users tr[data-user="pat"]`), "White-labeled Client Portal")
	c.shot("end-customer-user-portal")

	c.submit("#toggle-role-selection", "#ecu-role")
	require.Equal(t, true, s.ok(adminToken, "GET", "/v1/msps/acme/settings", nil)["endCustomerRoleSelection"])
	c.do(chromedp.SendKeys(chromedp.ID("ecu-id"), "opal"), chromedp.SendKeys(chromedp.ID("ecu-name"), "Opal"), chromedp.SetValue(chromedp.ID("ecu-role"), "operator"),
		chromedp.Click(chromedp.ID("add-ecu")), chromedp.WaitVisible(chromedp.CSS(`#end-customer-users tr[data-user="opal"]`)))
	require.Contains(t, c.text(`#end-customer-users tr[data-user="opal"]`), "Operator")
	users := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker/endCustomerUsers", nil)["endCustomerUsers"].([]any)
	roles := map[string]any{}
	for _, u := range users {
		roles[u.(j)["userId"].(string)] = u.(j)["role"]
	}
	require.Equal(t, map[string]any{"zara": "admin", "pat": "portal", "opal": "operator"}, roles)
	c.shot("end-customer-user-role-selection")
}

// Dana, a technician, is offered none of the admin pages, and the API
// refuses them should she type their address; the roles, which the API
// shows any of the MSP's users, she reads without a form to change them.
func TestConsole_ATechnicianSeesNoneOfTheRolesSecurityGroupsOrUsersPages(t *testing.T) {
	s := startSignIn(t)
	c := newChrome(t)
	c.signInAsDemo(s, "dana", "/customers")
	require.Equal(t, []any{"Customers", "Global views"}, eval[[]any](c, `[...document.querySelectorAll("header nav a")].map(a => a.innerText)`))
	for path, want := range map[string]string{
		"/securityGroups":                    `user "dana" lacks security_groups.manage`,
		"/securityGroups/admin":              `user "dana" lacks security_groups.manage`,
		"/users":                             `user "dana" lacks users.manage`,
		"/users/alex":                        `user "dana" lacks users.manage`,
		"/customers/zylker/endCustomerUsers": `customer "zylker" not found`,
	} {
		c.do(chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.ID("problem")))
		require.Contains(t, c.text("#problem"), want, path)
		require.Equal(t, 0, eval[int](c, `document.querySelectorAll("main form").length`), path)
	}
	c.do(chromedp.Navigate(s.base+"/roles"), chromedp.WaitVisible(chromedp.ID("matrix")))
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("main form, main button").length`), "the matrix, read-only")
	c.do(chromedp.Navigate(s.base+"/roles/technician"), chromedp.WaitVisible(chromedp.ID("role-form")))
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("main button, main input:not([disabled])").length`), "a built-in role, read-only")
	c.shot("technician-roles-read-only")
}

// Every new form: a post from another site is refused before any call and
// writes nothing; names that are markup render as text on the new pages.
func TestConsole_TheNewFormsRefuseCrossSitePostsAndShowNamesAsText(t *testing.T) {
	s := startSignIn(t)
	const markup = "<img src=x onerror=alert(1)>"
	s.ok(adminToken, "POST", "/v1/msps/acme/roles", j{"roleId": "evilrole", "displayName": markup, "permissions": []string{"tickets.view"}})
	s.ok(adminToken, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "evilgroup", "displayName": markup, "roleId": "evilrole", "scope": j{"customers": []string{"zylker"}}, "members": []string{"bob"}})
	s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": "eve", "displayName": markup})
	s.ok(adminToken, "POST", "/v1/msps/acme/customers/zylker/endCustomerUsers", j{"userId": "mallory", "displayName": markup})

	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/roles")
	for _, path := range []string{"/roles", "/roles/evilrole", "/securityGroups", "/securityGroups/evilgroup", "/users", "/users/bob", "/customers/zylker/endCustomerUsers"} {
		c.do(chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		require.Equal(t, 0, eval[int](c, `document.querySelectorAll("main img").length`), "%s renders the name as text", path)
		require.Contains(t, eval[string](c, `document.querySelector("main").textContent`), markup, path)
	}
	c.shot("new-pages-markup-as-text")

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s%s"><input type="hidden" name="selection" value="1"><input type="hidden" name="roleId" value="evil2"><input type="hidden" name="displayName" value="x"><input type="hidden" name="from" value="admin"><input type="hidden" name="userId" value="evil3"><input type="hidden" name="on" value="1"><button id="go">win a prize</button></form>`, s.base, r.URL.Query().Get("action"))
	}))
	defer evil.Close()
	for _, action := range []string{"/roles", "/roles/evilrole", "/roles/evilrole/delete", "/securityGroups", "/securityGroups/evilgroup/members", "/securityGroups/evilgroup/delete",
		"/users", "/users/bob/securityGroups", "/users/bob/release", "/customers/zylker/endCustomerUsers", "/customers/zylker/endCustomerUsers/roleSelection"} {
		c.do(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)+"/?action="+action), chromedp.Click(chromedp.ID("go")), chromedp.WaitVisible(chromedp.ID("problem")))
		require.Contains(t, c.text("#problem"), "from another site was refused", action)
	}
	c.shot("new-forms-cross-site-refused")
	s.ok(adminToken, "GET", "/v1/msps/acme/roles/evilrole", nil)
	require.Equal(t, []any{"bob"}, s.ok(adminToken, "GET", "/v1/msps/acme/securityGroups/evilgroup", nil)["members"])
	s.fails(404, "", adminToken, "GET", "/v1/msps/acme/roles/evil2", nil)
	s.fails(404, "", adminToken, "GET", "/v1/msps/acme/users/evil3", nil)
	require.NotEqual(t, true, s.ok(adminToken, "GET", "/v1/msps/acme/settings", nil)["endCustomerRoleSelection"])
	require.Len(t, s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker/endCustomerUsers", nil)["endCustomerUsers"], 2, "Zara and Mallory")
}

// The partner's and the customer's side, like the forms before them: names
// are text on every page of part 2, and another site's posts to each of its
// forms (the switch, a grant's request and decisions, Login As, a sync, the
// contacts) are refused before any call, with nothing written.
func TestConsole_TheOwnSideGrantsLoginAsAndSyncRefuseCrossSitePostsAndShowNamesAsText(t *testing.T) {
	s := startSignIn(t)
	const markup = "<img src=x onerror=alert(1)>"
	s.ok(adminToken, "POST", "/v1/msps/acme/customers", j{"customerId": "evilcorp", "displayName": markup})
	grant := s.ok(adminToken, "POST", "/v1/msps/acme/grants", j{"customerId": "zylker", "securityGroupId": "technician", "roleId": "technician", "durationDays": 1})["grantId"].(string)
	s.ok(adminToken, "POST", "/v1/msps/acme/grants", j{"customerId": "evilcorp", "securityGroupId": "technician", "roleId": "technician", "durationDays": 1})

	c := newChrome(t)
	c.signInAsDemo(s, "olivia", "/grants")
	for _, path := range []string{"/grants", "/customers/evilcorp/own", "/customers/evilcorp", "/audit", "/globalViews/email_tracker", "/syncs/rmm"} {
		c.do(chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		require.Equal(t, 0, eval[int](c, `document.querySelectorAll("main img").length`), "%s renders the name as text", path)
	}
	for _, path := range []string{"/grants", "/customers/evilcorp/own", "/globalViews/email_tracker"} {
		c.do(chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		require.Contains(t, eval[string](c, `document.querySelector("main").textContent`), markup, path)
	}
	c.shot("part-two-markup-as-text")

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s%s"><input type="hidden" name="enabled" value="false"><input type="hidden" name="customerId" value="zylker"><input type="hidden" name="securityGroupId" value="technician"><input type="hidden" name="roleId" value="technician"><input type="hidden" name="durationDays" value="1"><input type="hidden" name="snapshot" value='{"mspId":"acme"}'><input type="hidden" name="apply" value="1"><input type="hidden" name="userId" value="carol"><input type="hidden" name="contacts" value="carol"><button id="go">win a prize</button></form>`, s.base, r.URL.Query().Get("action"))
	}))
	defer evil.Close()
	for _, action := range []string{"/customers/zylker/own/partnerAccess", "/customers/zylker/own/grants/" + grant + "/approve", "/customers/zylker/own/grants/" + grant + "/decline",
		"/grants", "/grants/" + grant + "/revoke", "/customers/zylker/loginAs", "/syncs/rmm", "/customers/zylker/accountContact", "/customers/zylker/alertGroups/ops"} {
		c.do(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)+"/?action="+action), chromedp.Click(chromedp.ID("go")), chromedp.WaitVisible(chromedp.ID("problem")))
		require.Contains(t, c.text("#problem"), "from another site was refused", action)
	}
	c.shot("part-two-cross-site-refused")
	require.Equal(t, true, s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker/partnerAccess", nil)["enabled"], "MSP Management still on")
	require.Equal(t, "PENDING", s.ok(adminToken, "GET", "/v1/msps/acme/grants/"+grant, nil)["status"])
	require.Len(t, s.ok(adminToken, "GET", "/v1/msps/acme/grants", nil)["grants"], 2, "no grant requested")
	require.Empty(t, s.ok(adminToken, "GET", "/v1/msps/acme/syncs/rmm/drift", nil)["lastSyncedAt"], "no sync ran")
	prefs := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker", nil)["preferences"].(j)
	require.Equal(t, "alex", prefs["accountContact"])
	logins := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker/auditEvents?action=PartnerService/LoginAs", nil)
	events, _ := logins["events"].([]any)
	require.Empty(t, events, "no Login As was tried")
}
