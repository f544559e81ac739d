package main_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// callAs makes a call with extra headers.
func (s *server) callAs(token string, headers map[string]string, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	req := s.request(token, method, path, body)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return s.do(req)
}

// Issue 4's scenarios over REST, each call made as the user it concerns.
func TestEndToEnd_RolesAsDifferentCallers(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	for _, c := range []string{"contoso", "northwind", "zylker"} {
		s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": c, "displayName": c})
	}
	for _, u := range []string{"tina", "sue"} {
		s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": u, "displayName": u})
	}
	userToken := func(user string) string {
		return s.ok(a, "POST", "/v1/msps/acme/users/"+user+"/tokens", j{})["token"].(string)
	}

	// The catalog.
	perms := s.ok(a, "GET", "/v1/permissions", nil)["permissions"].([]any)
	require.Contains(t, perms, j{"permission": "scripts.create", "module": "scripts", "action": "create", "description": "Create scripts (the forum request under seed 004)", "level": "customer", "scoped": true})
	require.Contains(t, perms, j{"permission": "policies.edit", "module": "policies", "action": "edit", "description": "Edit policies: never in a customer-scoped security group", "level": "customer", "scoped": false})

	// The forum scenario: Contoso's internal IT, confined to Contoso.
	ivan := s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": "ivan", "displayName": "Ivan (Contoso IT)",
		"singleCustomer": j{"customerId": "contoso", "permissions": []string{"scripts.create", "scripts.execute", "scripts.list", "customers.view"}}})
	require.Equal(t, "contoso", ivan["singleCustomerId"])
	it := userToken("ivan")
	check := s.ok(it, "POST", "/v1/msps/acme/check", j{"resource": "customer:contoso", "permission": "scripts.create", "subject": "user:ivan"})
	require.Equal(t, j{"allowed": true, "checkedAt": check["checkedAt"], "via": []any{"security_group:ivan"}}, check)
	s.fails(404, `resource: customer "northwind" not found`, it, "POST", "/v1/msps/acme/check", j{"resource": "customer:northwind", "permission": "scripts.create", "subject": "user:ivan"})
	require.Equal(t, false, s.ok(it, "POST", "/v1/msps/acme/check", j{"resource": "customer:contoso", "permission": "policies.edit", "subject": "user:ivan"})["allowed"])
	require.Equal(t, []any{j{"customerId": "contoso", "displayName": "contoso", "preferences": nil}}, s.ok(it, "GET", "/v1/msps/acme/customers", nil)["customers"])
	s.fails(404, `customer "northwind" not found`, it, "GET", "/v1/msps/acme/customers/northwind", nil)
	s.fails(403, "users.manage", it, "GET", "/v1/msps/acme/users", nil)
	s.fails(403, "users.manage", it, "POST", "/v1/msps/acme/check", j{"resource": "customer:contoso", "permission": "access", "subject": "user:tina"})
	s.fails(400, "policies.edit", a, "POST", "/v1/msps/acme/users", j{"userId": "pete", "displayName": "Pete", "singleCustomer": j{"customerId": "contoso", "permissions": []string{"policies.edit"}}})

	// A technician cannot grant himself admin, directly or on someone's behalf.
	s.ok(a, "PUT", "/v1/msps/acme/users/tina/securityGroups", j{"securityGroups": []string{"technician"}})
	tina := userToken("tina")
	s.fails(403, "security_groups.manage", tina, "PUT", "/v1/msps/acme/users/tina/securityGroups", j{"securityGroups": []string{"technician", "admin"}})
	service := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	code, out := s.callAs(service, map[string]string{"X-On-Behalf-Of": "tina"}, "PUT", "/v1/msps/acme/users/tina/securityGroups", j{"securityGroups": []string{"admin"}})
	require.Equal(t, http.StatusForbidden, code, "%v", out)
	code, out = s.callAs(tina, map[string]string{"X-On-Behalf-Of": "olivia"}, "GET", "/v1/msps/acme", nil)
	require.Equal(t, http.StatusForbidden, code, "a user token cannot act for someone else: %v", out)
	s.fails(403, "roles.manage", tina, "POST", "/v1/msps/acme/roles", j{"roleId": "mine", "displayName": "Mine", "permissions": []string{"tickets.create"}})

	// The single-customer user's revert: no direct swap; delete his group, then assign.
	s.fails(400, "delete that group first", a, "PUT", "/v1/msps/acme/users/ivan/securityGroups", j{"securityGroups": []string{"admin"}})
	s.ok(a, "DELETE", "/v1/msps/acme/securityGroups/ivan", nil)
	s.ok(a, "PUT", "/v1/msps/acme/users/ivan/securityGroups", j{"securityGroups": []string{"admin"}})
	require.Equal(t, true, s.ok(it, "POST", "/v1/msps/acme/check", j{"resource": "customer:northwind", "permission": "policies.edit", "subject": "user:ivan"})["allowed"])

	// Custom roles: built-in ones cannot be edited; an assigned one cannot be deleted.
	s.fails(400, "built in", a, "PUT", "/v1/msps/acme/roles/technician", j{"displayName": "T", "permissions": []string{"tickets.create"}})
	s.ok(a, "POST", "/v1/msps/acme/roles", j{"roleId": "scripter", "displayName": "Scripter", "permissions": []string{"scripts.create"}})
	s.fails(400, `"bogus.perm" is not a permission`, a, "PUT", "/v1/msps/acme/roles/scripter", j{"displayName": "S", "permissions": []string{"bogus.perm"}})
	s.ok(a, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "north-scripts", "displayName": "Northwind scripts", "roleId": "scripter",
		"scope": j{"customers": []string{"northwind"}}, "members": []string{"sue"}})
	blocked := s.fails(400, "still assigned", a, "DELETE", "/v1/msps/acme/roles/scripter", nil)
	require.Equal(t, "sue", blocked["details"].([]any)[0].(map[string]any)["userId"])
	require.Equal(t, "ROLE_IN_USE", blocked["details"].([]any)[0].(map[string]any)["reason"])

	// Seed 001: an Operator's window before and after a Super Admin's edit.
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true})
	s.ok(a, "POST", "/v1/msps/acme/customers/zylker/endCustomerUsers", j{"userId": "ollie", "displayName": "Ollie", "role": "operator"})
	s.ok(a, "POST", "/v1/msps/acme/customers/zylker/endCustomerUsers", j{"userId": "alan", "displayName": "Alan", "role": "alert_contact"})
	s.ok(a, "PUT", "/v1/msps/acme/users/sue/securityGroups", j{"securityGroups": []string{"super_admin", "north-scripts"}})
	ollie, sue := userToken("ollie"), userToken("sue")
	w := s.ok(ollie, "POST", "/v1/msps/acme/customers/zylker/maintenanceWindows", j{"maintenanceWindowId": "upgrade", "displayName": "Upgrade"})
	require.Equal(t, "ollie", w["creatorUserId"])
	require.Contains(t, w["editors"], "ollie", "the Operator edits the window he created")
	require.Contains(t, w["deleters"], "ollie")
	window := "/v1/msps/acme/customers/zylker/maintenanceWindows/upgrade"
	require.Equal(t, false, s.ok(ollie, "PUT", window, j{"displayName": "Upgrade, later"})["modifiedByOther"])
	require.Equal(t, true, s.ok(sue, "PUT", window, j{"displayName": "Upgrade, by Sue"})["modifiedByOther"])
	s.fails(403, "may not edit", ollie, "PUT", window, j{"displayName": "Upgrade, again"})
	s.fails(403, "may not delete", ollie, "DELETE", window, nil)
	// Read back, by its creator too: who made it, and who may edit and delete it now.
	got := s.ok(ollie, "GET", window, nil)
	require.Equal(t, j{"customerId": "zylker", "maintenanceWindowId": "upgrade", "displayName": "Upgrade, by Sue", "creatorUserId": "ollie", "modifiedByOther": true,
		"editors": []any{"ivan", "olivia", "sue"}, "deleters": []any{"ivan", "olivia", "sue"}}, got, "Sue's edit ended Ollie's right; Ivan is an admin now")
	windows := s.ok(ollie, "GET", "/v1/msps/acme/customers/zylker/maintenanceWindows", nil)
	require.Equal(t, []any{got}, windows["maintenanceWindows"])
	require.NotEmpty(t, windows["checkedAt"])
	s.fails(404, `maintenance window "nosuch" of customer "zylker" not found`, ollie, "GET", "/v1/msps/acme/customers/zylker/maintenanceWindows/nosuch", nil)
	s.fails(404, `customer "northwind" not found`, ollie, "GET", "/v1/msps/acme/customers/northwind/maintenanceWindows", nil)

	// Outage comments name who posted them and who may edit them.
	c := s.ok(ollie, "POST", "/v1/msps/acme/customers/zylker/outageComments", j{"outageCommentId": "c1", "text": "Investigating"})
	require.Equal(t, j{"customerId": "zylker", "outageCommentId": "c1", "text": "Investigating", "creatorUserId": "ollie", "editors": []any{"ivan", "olivia", "ollie", "sue"}}, c)
	require.Equal(t, c, s.ok(sue, "GET", "/v1/msps/acme/customers/zylker/outageComments/c1", nil))
	require.Equal(t, []any{c}, s.ok(a, "GET", "/v1/msps/acme/customers/zylker/outageComments", nil)["outageComments"])

	// Monitor groups and monitors, with who may edit them (customers.edit on Zylker).
	g := s.ok(a, "PUT", "/v1/msps/acme/customers/zylker/monitorGroups/web", j{"spokespersons": []string{}})
	require.Equal(t, j{"customerId": "zylker", "monitorGroupId": "web", "spokespersons": []any{}, "editors": []any{"ivan", "olivia", "sue"}}, g)
	m := s.ok(a, "PUT", "/v1/msps/acme/customers/zylker/monitors/site", j{"monitorGroupId": "web"})
	require.Equal(t, j{"customerId": "zylker", "monitorId": "site", "monitorGroupId": "web", "editors": []any{"ivan", "olivia", "sue"}}, m)
	require.Equal(t, []any{g}, s.ok(sue, "GET", "/v1/msps/acme/customers/zylker/monitorGroups", nil)["monitorGroups"])
	require.Equal(t, []any{m}, s.ok(sue, "GET", "/v1/msps/acme/customers/zylker/monitors", nil)["monitors"])
	require.Equal(t, m, s.ok(sue, "GET", "/v1/msps/acme/customers/zylker/monitors/site", nil))
	s.fails(400, "records its creator", a, "POST", "/v1/msps/acme/customers/zylker/maintenanceWindows", j{"maintenanceWindowId": "x", "displayName": "X"})

	// The Alert Contact reaches neither channel; he is only alerted.
	for perm, want := range map[string]bool{"access_portal": false, "access_web_client": false, "receive_alerts": true} {
		got := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": perm, "subject": "user:alan"})
		require.Equal(t, want, got["allowed"], perm)
	}
	require.Equal(t, true, s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access_web_client", "subject": "user:ollie"})["allowed"])

	// Without role selection, new end-customer users get the portal role.
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": false})
	s.fails(400, "role selection", a, "POST", "/v1/msps/acme/customers/zylker/endCustomerUsers", j{"userId": "pia", "displayName": "Pia", "role": "admin"})
	require.Equal(t, "portal", s.ok(a, "POST", "/v1/msps/acme/customers/zylker/endCustomerUsers", j{"userId": "pia", "displayName": "Pia"})["role"])
	// Changing a role in one customer changes nothing elsewhere.
	s.ok(a, "POST", "/v1/msps/acme/customers/contoso/endCustomerUsers", j{"userId": "pia", "displayName": "Pia"})
	s.ok(a, "PUT", "/v1/msps/acme/customers/contoso/endCustomerUsers/pia/role", j{"role": "read_only"})
	require.Equal(t, true, s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access_portal", "subject": "user:pia"})["allowed"])
	require.Equal(t, false, s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:contoso", "permission": "access_portal", "subject": "user:pia"})["allowed"])
}

// Seed 004's single-customer user leaves nothing behind: reverting him takes
// his role with his group, deleting him takes both, and his id can be given
// again either way.
func TestEndToEnd_ASingleCustomerUserLeavesNothingBehind(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": "contoso", "displayName": "Contoso"})
	ivan := j{"userId": "ivan", "displayName": "Ivan (Contoso IT)", "singleCustomer": j{"customerId": "contoso"}}
	scripts := j{"resource": "customer:contoso", "permission": "scripts.create", "subject": "user:ivan"}

	// Deleted, he takes his group and his role with him.
	s.ok(a, "POST", "/v1/msps/acme/users", ivan)
	s.ok(a, "DELETE", "/v1/msps/acme/users/ivan", nil)
	s.fails(404, `security group "ivan" not found`, a, "GET", "/v1/msps/acme/securityGroups/ivan", nil)
	s.fails(404, `role "ivan" not found`, a, "GET", "/v1/msps/acme/roles/ivan", nil)
	require.Equal(t, "contoso", s.ok(a, "POST", "/v1/msps/acme/users", ivan)["singleCustomerId"])
	require.Equal(t, []any{"security_group:ivan"}, s.ok(a, "POST", "/v1/msps/acme/check", scripts)["via"])

	// Reverted, he loses his role with his group; deleted then, his id is free again.
	s.ok(a, "DELETE", "/v1/msps/acme/securityGroups/ivan", nil)
	s.fails(404, `role "ivan" not found`, a, "GET", "/v1/msps/acme/roles/ivan", nil)
	require.Equal(t, false, s.ok(a, "POST", "/v1/msps/acme/check", scripts)["allowed"])
	s.ok(a, "DELETE", "/v1/msps/acme/users/ivan", nil)
	require.Equal(t, "contoso", s.ok(a, "POST", "/v1/msps/acme/users", ivan)["singleCustomerId"])
	require.Equal(t, true, s.ok(a, "POST", "/v1/msps/acme/check", scripts)["allowed"])
}

// Seed 001's User Role drop-down lists the seven end-customer roles, which
// any signed-in caller may read (as the permission catalog), with the role
// a new user gets without role selection.
func TestEndToEnd_TheEndCustomerRolesAreListedWithTheDefault(t *testing.T) {
	s := startSignIn(t)
	dana := s.ok(adminToken, "POST", "/v1/msps/acme/users/dana/tokens", j{})["token"].(string)
	out := s.ok(dana, "GET", "/v1/endCustomerRoles", nil)
	require.Equal(t, "portal", out["defaultRole"])
	roles := out["roles"].([]any)
	require.Len(t, roles, 7)
	require.Equal(t, j{"role": "portal", "displayName": "White-labeled Client Portal (read only)", "channel": "portal", "permissions": []any{"monitors.view", "reports.view"}}, roles[0])
	require.Equal(t, j{"role": "alert_contact", "displayName": "Alert Contact (no access to the web client)", "channel": "", "permissions": []any{}}, roles[6])
	s.fails(401, "", "", "GET", "/v1/endCustomerRoles", nil)
}
