package main_test

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 17, section 5: Tina, a technician, reaches Contoso only. Fabrikam,
// which she cannot see, is on every call exactly what a customer that does
// not exist is: 404, with the same message — never 403, never an answer.
func TestEndToEnd_ACustomerTinaCannotSeeIsNotFoundOnEveryCall(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.acme([]string{"contoso", "fabrikam"}, []string{"tina"})
	s.ok(a, "PUT", "/v1/msps/acme/users/tina/securityGroups", j{"securityGroups": []string{"technician"}})
	s.ok(a, "PUT", "/v1/msps/acme/customers/contoso/preferences", j{"users": []string{"tina"}})
	s.ok(a, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": "east", "displayName": "East"})
	s.ok(a, "POST", "/v1/msps/acme/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	s.ok(a, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "support", "displayName": "Support", "roleId": "helpdesk", "scope": j{"customers": []string{"contoso"}}})
	olivia := s.ok(a, "POST", "/v1/msps/acme/users/olivia/tokens", j{})["token"].(string)
	s.ok(olivia, "POST", "/v1/msps/acme/customers/fabrikam/maintenanceWindows", j{"maintenanceWindowId": "w1", "displayName": "W1"})
	grant := s.ok(olivia, "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 7})["grantId"].(string)
	tina := s.ok(a, "POST", "/v1/msps/acme/users/tina/tokens", j{})["token"].(string)

	// {c} is the customer; {g} a grant of it.
	calls := []struct{ method, path, body string }{
		{"POST", "/v1/msps/acme/check", `{"resource":"customer:{c}","permission":"access","subject":"user:tina"}`},
		{"POST", "/v1/msps/acme/check", `{"resource":"customer:{c}","permission":"tickets.create","subject":"user:tina"}`},
		{"POST", "/v1/msps/acme/check", `{"resource":"maintenance_window:{c}/w1","permission":"edit","subject":"user:tina"}`},
		{"POST", "/v1/msps/acme/check:bulk", `{"items":[{"resource":"customer:contoso","permission":"access","subject":"user:tina"},{"resource":"customer:{c}","permission":"access","subject":"user:tina"}]}`},
		{"GET", "/v1/msps/acme/customers/{c}", ""},
		{"PATCH", "/v1/msps/acme/customers/{c}", `{"displayName":"Mine"}`},
		{"GET", "/v1/msps/acme/customers/{c}/users", ""},
		{"PUT", "/v1/msps/acme/customers/{c}/preferences", `{"users":["tina"]}`},
		{"PUT", "/v1/msps/acme/customers/{c}/preferences", `{"users":["tina"],"validateOnly":true}`},
		{"PUT", "/v1/msps/acme/customerGroups/east/customers", `{"customers":["contoso","{c}"]}`},
		{"POST", "/v1/msps/acme/securityGroups", `{"securityGroupId":"mine","displayName":"Mine","roleId":"helpdesk","scope":{"customers":["{c}"]}}`},
		{"POST", "/v1/msps/acme/users", `{"userId":"ivan","displayName":"Ivan","singleCustomer":{"customerId":"{c}"}}`},
		{"DELETE", "/v1/msps/acme/customers/{c}", ""},
		{"PUT", "/v1/msps/acme/customers/{c}/accountContact", `{"userId":"tina"}`},
		{"PUT", "/v1/msps/acme/customers/{c}/alertGroups/ops", `{"contacts":["tina"]}`},
		{"GET", "/v1/msps/acme/customers/{c}/endCustomerUsers", ""},
		{"POST", "/v1/msps/acme/customers/{c}/endCustomerUsers", `{"userId":"eve","displayName":"Eve"}`},
		{"DELETE", "/v1/msps/acme/customers/{c}/endCustomerUsers/eve", ""},
		{"PUT", "/v1/msps/acme/customers/{c}/maintenanceWindows/w1", `{"displayName":"Mine"}`},
		{"DELETE", "/v1/msps/acme/customers/{c}/maintenanceWindows/w1", ""},
		{"GET", "/v1/msps/acme/customers/{c}/partnerAccess", ""},
		{"PUT", "/v1/msps/acme/customers/{c}/partnerAccess", `{"enabled":false}`},
		{"POST", "/v1/msps/acme/customers/{c}:loginAs", `{}`},
		{"POST", "/v1/msps/acme/grants", `{"customerId":"{c}","securityGroupId":"support","roleId":"helpdesk","durationDays":7}`},
		{"GET", "/v1/msps/acme/grants?customerId={c}", ""},
		{"GET", "/v1/msps/acme/grants/{g}", ""},
		{"POST", "/v1/msps/acme/grants/{g}:approve", `{}`},
		{"GET", "/v1/msps/acme/customers/{c}/auditEvents", ""},
		{"GET", "/v1/msps/acme/customers/{c}/customerGroups", ""},
		{"GET", "/v1/msps/acme/customers/{c}/alertGroups", ""},
		{"GET", "/v1/msps/acme/customers/{c}/maintenanceWindows", ""},
		{"GET", "/v1/msps/acme/customers/{c}/maintenanceWindows/w1", ""},
	}
	answer := func(c, g string, call struct{ method, path, body string }) (int, string) {
		fill := strings.NewReplacer("{c}", c, "{g}", g)
		var body any
		if call.body != "" {
			body = fill.Replace(call.body)
		}
		code, out := s.call(tina, call.method, fill.Replace(call.path), body)
		msg, _ := out["message"].(string)
		return code, strings.NewReplacer(c, "{c}", g, "{g}").Replace(msg)
	}
	for _, call := range calls {
		hiddenCode, hidden := answer("fabrikam", grant, call)
		unknownCode, unknown := answer("nosuch", "g0000000000000000", call)
		require.Equal(t, http.StatusNotFound, hiddenCode, "%s %s: %s", call.method, call.path, hidden)
		require.Equal(t, http.StatusNotFound, unknownCode, "%s %s: %s", call.method, call.path, unknown)
		require.Equal(t, unknown, hidden, "%s %s: a hidden customer answers as one that does not exist", call.method, call.path)
	}

	// Contoso she sees: what she may not do there is 403.
	s.fails(403, "customers.manage", tina, "PUT", "/v1/msps/acme/customers/contoso/preferences", j{"users": []string{"tina"}})
	require.Equal(t, []string{"contoso"}, customerIDs(s.ok(tina, "GET", "/v1/msps/acme/customers", nil)))
	require.Equal(t, true, s.ok(tina, "POST", "/v1/msps/acme/check", j{"resource": "customer:contoso", "permission": "access", "subject": "user:tina"})["allowed"])
}

// Issue 17, section 6 (as GDAP): switching partner access, and answering or
// revoking a grant from the customer's side, are Fred's — Fabrikam's own
// built-in administrator — and need his own user token. The platform token,
// a service token, a service token acting for Fred, the account owner and
// partner staff are all refused, and nothing is written.
func TestEndToEnd_OnlyFabrikamsOwnAdministratorConsentsForIt(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.acme([]string{"fabrikam", "acme-internal"}, []string{"pat", "adam", "gus"})
	s.ok(a, "PUT", "/v1/msps/acme/users/pat/securityGroups", j{"securityGroups": []string{"partner"}})
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true, "ownDomainCustomerId": "acme-internal"})
	s.ok(a, "POST", "/v1/msps/acme/customers/fabrikam/endCustomerUsers", j{"userId": "fred", "displayName": "Fred", "role": "admin"})
	s.ok(a, "POST", "/v1/msps/acme/customers/acme-internal/endCustomerUsers", j{"userId": "adam", "displayName": "Adam", "role": "admin"})
	s.ok(a, "POST", "/v1/msps/acme/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	s.ok(a, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "support", "displayName": "Support", "roleId": "helpdesk", "scope": j{"customers": []string{"acme-internal"}}, "members": []string{"gus"}})
	token := map[string]string{}
	for _, u := range []string{"fred", "olivia", "pat", "adam"} {
		token[u] = s.ok(a, "POST", "/v1/msps/acme/users/"+u+"/tokens", j{})["token"].(string)
	}
	service := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	request := func() string {
		return s.ok(token["olivia"], "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 7})["grantId"].(string)
	}
	id := request()

	type caller struct {
		who     string
		token   string
		headers map[string]string
	}
	others := []caller{
		{"the platform token", a, nil},
		{"a service token", service, nil},
		{"a service token acting for Fred", service, map[string]string{"X-On-Behalf-Of": "fred"}},
		{"the platform token acting for Fred", a, map[string]string{"X-On-Behalf-Of": "fred"}},
		{"the account owner", token["olivia"], nil},
		{"Pat, partner staff", token["pat"], nil},
	}
	decisions := []struct{ method, path, body string }{
		{"PUT", "/v1/msps/acme/customers/fabrikam/partnerAccess", `{"enabled":false}`},
		{"PUT", "/v1/msps/acme/customers/fabrikam/partnerAccess", `{"enabled":true}`},
		{"POST", "/v1/msps/acme/grants/" + id + ":approve", `{}`},
		{"POST", "/v1/msps/acme/grants/" + id + ":decline", `{}`},
	}
	for _, d := range decisions {
		for _, c := range others {
			code, out := s.callAs(c.token, c.headers, d.method, d.path, d.body)
			require.Equal(t, http.StatusForbidden, code, "%s %s by %s: %v", d.method, d.path, c.who, out)
			require.Contains(t, out["message"], "CUSTOMER_CONSENT_REQUIRED")
			require.Equal(t, "CUSTOMER_CONSENT_REQUIRED", out["details"].([]any)[0].(map[string]any)["reason"])
		}
	}
	require.Equal(t, true, s.ok(a, "GET", "/v1/msps/acme/customers/fabrikam/partnerAccess", nil)["enabled"], "nothing was written")
	require.Equal(t, "PENDING", s.ok(a, "GET", "/v1/msps/acme/grants/"+id, nil)["status"])

	// Fred, with his own token, decides.
	off := s.ok(token["fred"], "PUT", "/v1/msps/acme/customers/fabrikam/partnerAccess", j{"enabled": false})
	require.Equal(t, false, off["enabled"])
	approved := s.ok(token["fred"], "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	require.Equal(t, "olivia", approved["requestedBy"])
	require.Equal(t, "fred", approved["decidedBy"])
	// Revoking from the customer's side needs his consent too; the MSP ends its own grants.
	code, out := s.callAs(service, map[string]string{"X-On-Behalf-Of": "fred"}, "POST", "/v1/msps/acme/grants/"+id+":revoke", `{}`)
	require.Equal(t, http.StatusForbidden, code, "%v", out)
	require.Contains(t, out["message"], "CUSTOMER_CONSENT_REQUIRED")
	require.Equal(t, "fred", s.ok(token["fred"], "POST", "/v1/msps/acme/grants/"+id+":revoke", j{})["decidedBy"])
	other := request()
	s.ok(token["fred"], "POST", "/v1/msps/acme/grants/"+other+":approve", j{})
	require.Equal(t, "REVOKED", s.ok(service, "POST", "/v1/msps/acme/grants/"+other+":revoke", j{})["status"], "the MSP ends its own grant")

	// The MSP's own domain: its built-in administrators are staff, with their own user tokens.
	code, out = s.callAs(service, map[string]string{"X-On-Behalf-Of": "adam"}, "PUT", "/v1/msps/acme/customers/acme-internal/partnerAccess", `{"enabled":false}`)
	require.Equal(t, http.StatusForbidden, code, "%v", out)
	s.ok(token["adam"], "PUT", "/v1/msps/acme/customers/acme-internal/partnerAccess", j{"enabled": false})
}

// Issue 17, section 6: Fabrikam sees what was done to it — Login As granted
// and refused, its partner-access switches, the grants asked of it, approved
// and revoked, and the saves that touched it — and nothing done to Contoso.
// The trail names the user whose rights each call had, and a preview is no
// save: it is recorded as PREVIEW and not counted as a form save.
func TestEndToEnd_FabrikamSeesWhatWasDoneToIt(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.acme([]string{"contoso", "fabrikam"}, []string{"pat", "hugo", "gus"})
	s.ok(a, "PUT", "/v1/msps/acme/users/pat/securityGroups", j{"securityGroups": []string{"partner"}})
	s.ok(a, "PUT", "/v1/msps/acme/users/hugo/securityGroups", j{"securityGroups": []string{"admin"}})
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true})
	s.ok(a, "POST", "/v1/msps/acme/customers/fabrikam/endCustomerUsers", j{"userId": "fred", "displayName": "Fred", "role": "admin"})
	s.ok(a, "POST", "/v1/msps/acme/customers/contoso/endCustomerUsers", j{"userId": "cara", "displayName": "Cara", "role": "admin"})
	s.ok(a, "POST", "/v1/msps/acme/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	s.ok(a, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "support", "displayName": "Support", "roleId": "helpdesk", "scope": j{"customers": []string{"contoso"}}, "members": []string{"gus"}})
	s.ok(a, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": "west", "displayName": "West"})
	token := map[string]string{}
	for _, u := range []string{"fred", "cara", "pat", "olivia"} {
		token[u] = s.ok(a, "POST", "/v1/msps/acme/users/"+u+"/tokens", j{})["token"].(string)
	}
	service := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})
	asHugo := map[string]string{"X-On-Behalf-Of": "hugo"}
	savesBefore := formSaves(t, s, "EditCustomerPreferences")
	since := url.Values{"since": {time.Now().UTC().Format(time.RFC3339Nano)}}

	// What is done to Fabrikam.
	s.ok(token["pat"], "POST", "/v1/msps/acme/customers/fabrikam:loginAs", j{})
	s.ok(token["fred"], "PUT", "/v1/msps/acme/customers/fabrikam/partnerAccess", j{"enabled": false})
	s.fails(403, "PARTNER_ACCESS_DISABLED", token["pat"], "POST", "/v1/msps/acme/customers/fabrikam:loginAs", j{})
	s.ok(token["fred"], "PUT", "/v1/msps/acme/customers/fabrikam/partnerAccess", j{"enabled": true})
	id := s.ok(token["olivia"], "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 7})["grantId"].(string)
	s.fails(403, "CUSTOMER_CONSENT_REQUIRED", token["pat"], "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	s.ok(token["fred"], "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	s.ok(token["olivia"], "POST", "/v1/msps/acme/grants/"+id+":revoke", j{})
	code, out := s.callAs(service["token"].(string), asHugo, "PUT", "/v1/msps/acme/customers/fabrikam/preferences", `{"users":["gus"],"validateOnly":true}`)
	require.Equal(t, http.StatusOK, code, "%v", out)
	code, out = s.callAs(service["token"].(string), asHugo, "PUT", "/v1/msps/acme/customers/fabrikam/preferences", `{"users":["gus"]}`)
	require.Equal(t, http.StatusOK, code, "%v", out)
	s.ok(a, "PUT", "/v1/msps/acme/customerGroups/west/customers", j{"customers": []string{"fabrikam", "contoso"}})
	// And to Contoso only.
	s.ok(token["cara"], "PUT", "/v1/msps/acme/customers/contoso/partnerAccess", j{"enabled": false})

	own := "/v1/msps/acme/customers/fabrikam/auditEvents"
	events := s.auditEventsAt(token["fred"], own, since)
	var seen []string
	for _, e := range events {
		require.Contains(t, e["target"], "customer:fabrikam", "%v", e)
		seen = append(seen, e["action"].(string)+" "+e["actor"].(string)+" "+strings.SplitN(e["outcome"].(string), ":", 2)[0])
	}
	require.Equal(t, []string{
		"PartnerService/LoginAs pat OK",
		"PartnerService/SetPartnerAccess fred OK",
		"PartnerService/LoginAs pat PermissionDenied",
		"PartnerService/SetPartnerAccess fred OK",
		"GrantService/RequestGrant olivia OK",
		"GrantService/ApproveGrant pat PermissionDenied",
		"GrantService/ApproveGrant fred OK",
		"GrantService/RevokeGrant olivia OK",
		"TenancyService/EditCustomerPreferences hugo PREVIEW",
		"TenancyService/EditCustomerPreferences hugo OK",
		"TenancyService/EditCustomerGroup platform OK",
	}, seen)
	// The trail names the user whose rights a service token's call had, with the token beside him.
	saved := events[9]
	require.Equal(t, "hugo", saved["onBehalfOf"])
	require.Equal(t, service["tokenId"], saved["tokenId"])
	require.NotEmpty(t, saved["zedToken"])
	require.Equal(t, "customer_group:west customer:fabrikam", events[10]["target"], "Fabrikam's own trail names no other customer (the save touched Contoso too)")
	// A preview is not a save.
	require.Equal(t, savesBefore+1, formSaves(t, s, "EditCustomerPreferences"))

	// Its filters apply; the MSP's auditors read it too; Contoso's administrator
	// does not know of Fabrikam; Pat, who sees Fabrikam, may not read it.
	require.Len(t, s.auditEventsAt(token["fred"], own, url.Values{"action": {"GrantService/ApproveGrant"}}), 2)
	require.Equal(t, events, s.auditEventsAt(token["olivia"], own, since))
	s.fails(404, `customer "fabrikam" not found`, token["cara"], "GET", own, nil)
	s.fails(403, "audit.view", token["pat"], "GET", own, nil)
	contoso := s.auditEventsAt(token["cara"], "/v1/msps/acme/customers/contoso/auditEvents", url.Values{"action": {"PartnerService/SetPartnerAccess"}})
	require.Len(t, contoso, 1)
	require.Equal(t, "cara", contoso[0]["actor"])

	// Pat's attempt to read it is on it too.
	tried := s.auditEventsAt(token["fred"], own, url.Values{"action": {"AuditService/ListAuditEvents"}})
	require.Len(t, tried, 1)
	require.Equal(t, "pat", tried[0]["actor"])

	// Its export: the same events as JSON Lines.
	resp, err := http.DefaultClient.Do(s.request(token["fred"], "GET", own+":export?"+since.Encode(), nil))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	lines := 0
	for sc.Scan() {
		require.Contains(t, sc.Text(), `"target":"`)
		require.Contains(t, sc.Text(), "customer:fabrikam")
		lines++
	}
	require.Equal(t, len(events)+len(tried), lines)
}

// A save that touches many customers names the first twenty in the MSP's
// trail; each customer's own trail finds it all the same, naming that
// customer alone.
func TestEndToEnd_EveryCustomerASaveTouchedFindsIt(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	var customers []string
	for i := range 25 {
		customers = append(customers, "c"+string(rune('a'+i)))
	}
	s.acme(customers, nil)
	s.ok(a, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": "all", "displayName": "All"})
	s.ok(a, "PUT", "/v1/msps/acme/customerGroups/all/customers", j{"customers": customers})
	for _, c := range customers {
		events := s.auditEventsAt(a, "/v1/msps/acme/customers/"+c+"/auditEvents", url.Values{"action": {"TenancyService/EditCustomerGroup"}})
		require.Len(t, events, 1, c)
		require.Equal(t, "customer_group:all customer:"+c, events[0]["target"])
	}
	all := s.auditEventsAt(a, "/v1/msps/acme/auditEvents", url.Values{"action": {"TenancyService/EditCustomerGroup"}})
	require.True(t, strings.HasSuffix(all[0]["target"].(string), "customer:ct (and 5 more customers)"), "%v", all[0]["target"])
}

// acme creates the MSP acme, owned by Olivia, with customers and MSP users
// (each named after his id).
func (s *server) acme(customers, users []string) {
	s.t.Helper()
	s.ok(adminToken, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	for _, c := range customers {
		s.ok(adminToken, "POST", "/v1/msps/acme/customers", j{"customerId": c, "displayName": c})
	}
	for _, u := range users {
		s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": u, "displayName": u})
	}
}

// auditEventsAt reads every event of an audit trail's path that query selects.
func (s *server) auditEventsAt(token, path string, query url.Values) []map[string]any {
	s.t.Helper()
	var events []map[string]any
	for {
		out := s.ok(token, "GET", path+"?"+query.Encode(), nil)
		for _, e := range out["events"].([]any) {
			events = append(events, e.(map[string]any))
		}
		next, _ := out["nextPageToken"].(string)
		if next == "" {
			return events
		}
		query.Set("pageToken", next)
	}
}

// formSaves is the count of mspauthz_form_saves_total for form, outcome OK.
func formSaves(t *testing.T, s *server, form string) int {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	prefix := `mspauthz_form_saves_total{form="` + form + `",outcome="OK"} `
	for _, line := range strings.Split(string(raw), "\n") {
		if n, ok := strings.CutPrefix(line, prefix); ok {
			count, err := strconv.Atoi(n)
			require.NoError(t, err)
			return count
		}
	}
	return 0
}
