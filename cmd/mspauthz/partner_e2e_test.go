package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// customerIDs lists the customerId of each customer of a list answer.
func customerIDs(out map[string]any) []string {
	var ids []string
	for _, c := range out["customers"].([]any) {
		ids = append(ids, c.(map[string]any)["customerId"].(string))
	}
	slices.Sort(ids)
	return ids
}

// auditEvents reads every event a query of an MSP's audit trail selects.
func (s *server) auditEvents(token, msp string, query url.Values) []map[string]any {
	s.t.Helper()
	return s.auditEventsAt(token, "/v1/msps/"+msp+"/auditEvents", query)
}

// Issue 5's scenarios over REST: seed 003's partner lockout and its guards,
// the MSP's own domain, Login As, time-bound grants, and the audit trail that
// finds each of them. A grant day lasts 2 s, so a one-day grant expires
// during the test.
func TestEndToEnd_PartnerAccessGrantsAndAudit(t *testing.T) {
	const day = 2 * time.Second
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--grant-day", day.String())
	a := adminToken
	s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	for _, c := range []string{"contoso", "fabrikam", "initech", "acme-internal"} {
		s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": c, "displayName": c})
	}
	for _, u := range []string{"pat", "adam", "gus"} {
		s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": u, "displayName": u})
	}
	for _, u := range []string{"pat", "adam"} {
		s.ok(a, "PUT", "/v1/msps/acme/users/"+u+"/securityGroups", j{"securityGroups": []string{"partner"}})
	}
	settings := s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true, "ownDomainCustomerId": "acme-internal"})
	require.Equal(t, "acme-internal", settings["ownDomainCustomerId"])
	for _, u := range [][2]string{{"cara", "contoso"}, {"fred", "fabrikam"}, {"adam", "acme-internal"}} {
		s.ok(a, "POST", "/v1/msps/acme/customers/"+u[1]+"/endCustomerUsers", j{"userId": u[0], "displayName": u[0], "role": "admin"})
	}
	token := map[string]string{}
	for _, u := range []string{"pat", "adam", "gus", "cara", "fred", "olivia"} {
		token[u] = s.ok(a, "POST", "/v1/msps/acme/users/"+u+"/tokens", j{})["token"].(string)
	}
	pat, cara := token["pat"], token["cara"]
	views := []string{"email_tracker", "policies", "rules"}

	// Before: Pat may Login As Contoso and sees it in every global view.
	grant := s.ok(pat, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{})
	require.Equal(t, "pat", grant["userId"])
	require.Equal(t, "contoso", grant["customerId"])
	expires, err := time.Parse(time.RFC3339, grant["expiresAt"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Hour), expires, time.Minute)
	for _, v := range views {
		require.Equal(t, []string{"acme-internal", "contoso", "fabrikam", "initech"}, customerIDs(s.ok(pat, "GET", "/v1/msps/acme/globalViews/"+v+"/customers", nil)), v)
	}
	s.fails(400, `"inbox" is not a global view`, pat, "GET", "/v1/msps/acme/globalViews/inbox/customers", nil)

	// Only the customer's own administrator switches it: Initech has none, so nobody may.
	blocked := s.fails(403, "CUSTOMER_CONSENT_REQUIRED", a, "PUT", "/v1/msps/acme/customers/initech/partnerAccess", j{"enabled": false})
	require.Equal(t, "CUSTOMER_CONSENT_REQUIRED", blocked["details"].([]any)[0].(map[string]any)["reason"])
	require.Equal(t, true, s.ok(a, "GET", "/v1/msps/acme/customers/initech/partnerAccess", nil)["enabled"])
	s.fails(403, "CUSTOMER_CONSENT_REQUIRED", pat, "PUT", "/v1/msps/acme/customers/contoso/partnerAccess", j{"enabled": false})
	s.fails(404, "fabrikam", cara, "PUT", "/v1/msps/acme/customers/fabrikam/partnerAccess", j{"enabled": false})

	// The seed's lockout.
	off := s.ok(cara, "PUT", "/v1/msps/acme/customers/contoso/partnerAccess", j{"enabled": false})
	require.Equal(t, false, off["enabled"])
	require.NotEmpty(t, off["writtenAt"])
	denied := s.fails(403, "PARTNER_ACCESS_DISABLED", pat, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{})
	require.Equal(t, "PARTNER_ACCESS_DISABLED", denied["details"].([]any)[0].(map[string]any)["reason"])
	for _, v := range views {
		require.Equal(t, []string{"acme-internal", "fabrikam", "initech"}, customerIDs(s.ok(pat, "GET", "/v1/msps/acme/globalViews/"+v+"/customers", nil)), v)
	}
	check := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:contoso", "permission": "customers.login_as", "subject": "user:pat"})
	require.Equal(t, false, check["allowed"], "a check answers as Login As would")
	// While it is off, Cara cannot leave Contoso without an administrator.
	last := s.fails(400, "LAST_BUILTIN_ADMINISTRATOR", a, "PUT", "/v1/msps/acme/customers/contoso/endCustomerUsers/cara/role", j{"role": "read_only"})
	require.Equal(t, "cara", last["details"].([]any)[0].(map[string]any)["userId"])
	// Back after re-enabling.
	s.ok(cara, "PUT", "/v1/msps/acme/customers/contoso/partnerAccess", j{"enabled": true})
	s.ok(pat, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{})
	for _, v := range views {
		require.Equal(t, []string{"acme-internal", "contoso", "fabrikam", "initech"}, customerIDs(s.ok(pat, "GET", "/v1/msps/acme/globalViews/"+v+"/customers", nil)), v)
	}
	// Paged: one customer a page, at one revision.
	page := s.ok(pat, "GET", "/v1/msps/acme/globalViews/rules/customers?pageSize=1", nil)
	require.Len(t, page["customers"], 1)
	require.NotEmpty(t, page["nextPageToken"])

	// Login As by a non-partner, and by a partner of another MSP.
	s.fails(404, "contoso", token["gus"], "POST", "/v1/msps/acme/customers/contoso:loginAs", j{})
	s.ok(a, "POST", "/v1/msps", j{"mspId": "globex", "displayName": "Globex", "ownerUserId": "gina"})
	s.ok(a, "POST", "/v1/msps/globex/users", j{"userId": "pete", "displayName": "Pete"})
	s.ok(a, "PUT", "/v1/msps/globex/users/pete/securityGroups", j{"securityGroups": []string{"partner"}})
	pete := s.ok(a, "POST", "/v1/msps/globex/users/pete/tokens", j{})["token"].(string)
	s.fails(404, `msp "acme" not found`, pete, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{})

	// The MSP's own domain restricted: partner staff lose its email logs; its administrators enter.
	adam := token["adam"]
	s.ok(adam, "PUT", "/v1/msps/acme/customers/acme-internal/partnerAccess", j{"enabled": false})
	s.fails(403, "PARTNER_ACCESS_DISABLED", pat, "POST", "/v1/msps/acme/customers/acme-internal:loginAs", j{})
	require.Equal(t, false, s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:acme-internal", "permission": "email_logs.view", "subject": "user:pat"})["allowed"])
	require.Equal(t, true, s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:acme-internal", "permission": "email_logs.view", "subject": "user:adam"})["allowed"])
	s.ok(adam, "POST", "/v1/msps/acme/customers/acme-internal:loginAs", j{})
	// Who may switch between the partner view and the MSP's own domain, and
	// why; every MSP permission names the security group that grants it.
	switchAs := func(user string) map[string]any {
		return s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "msp:acme", "permission": "switch_to_own_domain", "subject": "user:" + user})
	}
	adamSwitches := switchAs("adam")
	require.Equal(t, j{"allowed": true, "checkedAt": adamSwitches["checkedAt"], "via": []any{"end_customer_role:admin"}}, adamSwitches)
	require.Equal(t, false, switchAs("pat")["allowed"])
	// The caller's own view names the domain to whoever may switch to it.
	adamIs := s.ok(adam, "GET", "/v1/caller", nil)
	require.Contains(t, adamIs["mspPermissions"], "switch_to_own_domain")
	require.Equal(t, "acme-internal", adamIs["ownDomainCustomerId"])
	require.Equal(t, "", s.ok(pat, "GET", "/v1/caller", nil)["ownDomainCustomerId"], "partner staff are not told which customer is the own domain")
	require.Equal(t, "", s.ok(adam, "GET", "/v1/caller?view=BASIC", nil)["ownDomainCustomerId"])
	owner := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "msp:acme", "permission": "grants.manage", "subject": "user:olivia"})
	require.Equal(t, []any{"security_group:account_owner"}, owner["via"])

	// Time-bound grants. Gus's support group scopes no customer of its own.
	s.ok(a, "POST", "/v1/msps/acme/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	s.ok(a, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "support", "displayName": "Support", "roleId": "helpdesk", "scope": j{"customers": []string{"initech"}}, "members": []string{"gus"}})
	gusOnFabrikam := j{"resource": "customer:fabrikam", "permission": "tickets.create", "subject": "user:gus"}
	require.Equal(t, false, s.ok(a, "POST", "/v1/msps/acme/check", gusOnFabrikam)["allowed"])
	for _, days := range []int{0, 731} {
		s.fails(400, "durationDays", a, "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": days})
	}
	s.fails(400, "TOP_ROLE_NOT_EXTENDABLE", a, "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "account_owner", "durationDays": 30, "autoExtend": true})
	s.fails(403, "grants.manage", pat, "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 1})
	s.fails(404, `customer "fabrikam" not found`, token["gus"], "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 1})
	requested := s.ok(token["olivia"], "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 1})
	require.Equal(t, "PENDING", requested["status"])
	require.Equal(t, "olivia", requested["requestedBy"])
	id := requested["grantId"].(string)
	s.fails(403, "CUSTOMER_CONSENT_REQUIRED", pat, "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	// What Fred decides on: what the grant gives, and to whom.
	asked := s.ok(token["fred"], "GET", "/v1/msps/acme/grants/"+id, nil)
	require.Equal(t, []any{"tickets.create"}, asked["permissions"])
	require.Equal(t, []any{"gus"}, asked["members"])
	require.Equal(t, []any{"gus"}, s.ok(token["fred"], "GET", "/v1/msps/acme/grants?customerId=fabrikam", nil)["grants"].([]any)[0].(j)["members"])
	approved := s.ok(token["fred"], "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	require.Equal(t, "ACTIVE", approved["status"])
	s.fails(400, "GRANT_NOT_PENDING", token["fred"], "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	allowed := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:fabrikam", "permission": "tickets.create", "subject": "user:gus", "atLeastAsFresh": approved["writtenAt"]})
	require.Equal(t, j{"allowed": true, "checkedAt": allowed["checkedAt"], "via": []any{"grant:" + id}}, allowed)
	soon := s.ok(a, "GET", "/v1/msps/acme/grants?expiringWithinDays=1", nil)["grants"].([]any)
	require.Len(t, soon, 1)
	require.Equal(t, id, soon[0].(map[string]any)["grantId"])
	// The grant expires during the test, and then denies, even at the token of an allowed answer.
	expiry, err := time.Parse(time.RFC3339Nano, approved["expiresAt"].(string))
	require.NoError(t, err)
	time.Sleep(time.Until(expiry) + 10*time.Millisecond)
	for _, fresh := range []any{nil, allowed["checkedAt"]} {
		q := j{"resource": "customer:fabrikam", "permission": "tickets.create", "subject": "user:gus"}
		if fresh != nil {
			q["atLeastAsFresh"] = fresh
		}
		require.Equal(t, false, s.ok(a, "POST", "/v1/msps/acme/check", q)["allowed"], "after expiry (atLeastAsFresh %v)", fresh)
	}
	require.Equal(t, "EXPIRED", s.ok(a, "GET", "/v1/msps/acme/grants/"+id, nil)["status"])

	// The audit trail finds each of these events.
	auditor := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	s.fails(403, "audit.view", pat, "GET", "/v1/msps/acme/auditEvents", nil)
	find := func(query url.Values, outcome string) map[string]any {
		t.Helper()
		events := s.auditEvents(auditor, "acme", query)
		for _, e := range events {
			if strings.HasPrefix(e["outcome"].(string), outcome) {
				return e
			}
		}
		t.Fatalf("no %s event with outcome %q among %v", query.Encode(), outcome, events)
		return nil
	}
	switched := find(url.Values{"action": {"PartnerService/SetPartnerAccess"}, "actor": {"cara"}, "target": {"customer:contoso"}}, "OK")
	require.Equal(t, off["writtenAt"], switched["zedToken"])
	require.NotEmpty(t, switched["tokenId"])
	find(url.Values{"action": {"PartnerService/SetPartnerAccess"}, "target": {"customer:initech"}}, "PermissionDenied: switching partner access is customer \"initech\"'s own decision")
	loginOK := find(url.Values{"action": {"PartnerService/LoginAs"}, "actor": {"pat"}, "target": {"customer:contoso"}}, "OK")
	require.NotEmpty(t, loginOK["zedToken"])
	find(url.Values{"action": {"PartnerService/LoginAs"}, "actor": {"pat"}}, "PermissionDenied: Login As \"contoso\" refused")
	find(url.Values{"action": {"PartnerService/LoginAs"}, "actor": {"gus"}}, "NotFound")
	find(url.Values{"action": {"GrantService/RequestGrant"}, "actor": {"olivia"}, "target": {"grant:" + id}}, "OK")
	find(url.Values{"action": {"GrantService/RequestGrant"}, "target": {"role:account_owner"}}, "FailedPrecondition")
	find(url.Values{"action": {"GrantService/ApproveGrant"}, "actor": {"fred"}, "target": {"grant:" + id + " customer:fabrikam"}}, "OK")
	find(url.Values{"action": {"GrantService/ApproveGrant"}, "actor": {"pat"}, "target": {"customer:fabrikam"}}, "PermissionDenied")
	find(url.Values{"actor": {"pat"}, "action": {"PartnerService/SetPartnerAccess"}}, "PermissionDenied")
	// Pete's attempt on acme is on Globex's trail, not acme's.
	require.Empty(t, s.auditEvents(auditor, "acme", url.Values{"actor": {"pete"}}))
	globexAuditor := s.ok(a, "POST", "/v1/msps/globex/tokens", j{})["token"].(string)
	peteTried := s.auditEvents(globexAuditor, "globex", url.Values{"actor": {"pete"}, "action": {"PartnerService/LoginAs"}})
	require.Len(t, peteTried, 1)
	require.Contains(t, peteTried[0]["outcome"], "NotFound")
	// Reads are not audited unless refused; time filters bound the trail.
	require.Empty(t, s.auditEvents(auditor, "acme", url.Values{"action": {"PartnerService/ListGlobalViewCustomers"}}))
	require.Empty(t, s.auditEvents(auditor, "acme", url.Values{"since": {time.Now().Add(time.Hour).Format(time.RFC3339)}}))
	all := s.auditEvents(auditor, "acme", url.Values{"pageSize": {"7"}})
	require.Greater(t, len(all), 30)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1]["eventId"], all[i]["eventId"], "oldest first, no repeats across pages")
	}

	// The export: JSON Lines of the same events.
	req := s.request(auditor, "GET", "/v1/msps/acme/auditEvents:export?actor=cara", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	lines := 0
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		require.Equal(t, "cara", e["actor"])
		lines++
	}
	require.Equal(t, len(s.auditEvents(auditor, "acme", url.Values{"actor": {"cara"}})), lines)
	_, _ = io.Copy(io.Discard, resp.Body)

	// No call edits or deletes an event.
	for _, method := range []string{"DELETE", "PUT", "PATCH"} {
		code, _ := s.call(a, method, "/v1/msps/acme/auditEvents/"+all[0]["eventId"].(string), j{})
		require.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented}, code, method)
	}
}
