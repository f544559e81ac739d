package main_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// POST .../explain over REST: Alex's two paths to Zylker step by step, and
// Bob told what would let him into Initech; it needs users.manage, and
// asks only about access and the catalog's permissions.
func TestExplain_OverRESTAlexsPathsAndWhatBobLacks(t *testing.T) {
	s := startSignIn(t)
	explain := func(user, customer, permission string) map[string]any {
		t.Helper()
		return s.ok(adminToken, "POST", "/v1/msps/acme/explain", j{"resource": "customer:" + customer, "permission": permission, "subject": "user:" + user})
	}
	e := explain("alex", "zylker", "access")
	require.Equal(t, true, e["allowed"])
	require.NotEmpty(t, e["checkedAt"])
	require.Equal(t, []any{
		j{"via": "customer_group:site24x7", "steps": []any{j{"object": "user:alex", "note": ""}, j{"object": "customer_group:site24x7", "note": "member; holds customer:zylker"}, j{"object": "customer:zylker", "note": ""}}},
		j{"via": "customer_group:zoho", "steps": []any{j{"object": "user:alex", "note": ""}, j{"object": "customer_group:zoho", "note": "member; holds customer:zylker"}, j{"object": "customer:zylker", "note": ""}}},
	}, e["paths"])
	require.Equal(t, []any{}, e["missing"])

	e = explain("bob", "initech", "access")
	require.Equal(t, false, e["allowed"])
	missing := e["missing"].([]any)
	require.Len(t, missing, 1)
	require.Equal(t, "NO_PATH", missing[0].(j)["reason"])
	require.Equal(t, j{"change": "user:bob in customer_group:site24x7", "call": "Edit User", "path": "PUT /v1/msps/acme/users/bob/customerGroups"}, missing[0].(j)["remedies"].([]any)[0])

	e = explain("dana", "zylker", "tickets.create")
	require.Equal(t, "SCOPE_NOT_COVERING", e["missing"].([]any)[0].(j)["reason"], "Dana's technician group covers her associated customers, and Zylker is none")

	dana := s.ok(adminToken, "POST", "/v1/msps/acme/users/dana/tokens", j{})["token"].(string)
	s.fails(403, `user "dana" lacks users.manage`, dana, "POST", "/v1/msps/acme/explain", j{"resource": "customer:initech", "permission": "access", "subject": "user:dana"})
	s.fails(400, "explain answers those", adminToken, "POST", "/v1/msps/acme/explain", j{"resource": "customer:zylker", "permission": "receive_alerts", "subject": "user:alex"})
	s.fails(404, `msp "acme" not found`, s.ok(adminToken, "POST", "/v1/msps/northwind/tokens", j{})["token"].(string), "POST", "/v1/msps/acme/explain", j{"resource": "customer:zylker", "permission": "access", "subject": "user:alex"})
}

// GET /v1/caller tells any caller who he is and which MSP-level permissions
// he holds (what a console offers him); GET .../customers?search=
// finds customers by id or name, in any case.
func TestCaller_AndCustomersFoundByIdOrName(t *testing.T) {
	s := startSignIn(t)
	require.Equal(t, j{"platform": true, "mspId": "", "userId": "", "name": "platform", "mspPermissions": []any{}, "ownDomainCustomerId": ""}, s.ok(adminToken, "GET", "/v1/caller", nil))
	dana := s.ok(adminToken, "POST", "/v1/msps/acme/users/dana/tokens", j{})
	got := s.ok(dana["token"].(string), "GET", "/v1/caller", nil)
	require.Equal(t, j{"platform": false, "mspId": "acme", "userId": "dana", "name": "token:" + dana["tokenId"].(string) + "@acme/dana", "mspPermissions": []any{}, "ownDomainCustomerId": ""}, got, "a technician administers nothing")
	s.fails(401, "", "not-a-token", "GET", "/v1/caller", nil)
	olivia := s.ok(adminToken, "POST", "/v1/msps/acme/users/olivia/tokens", j{})["token"].(string)
	require.Equal(t, []any{"users.manage", "customers.manage", "customer_groups.manage", "roles.manage", "security_groups.manage", "settings.manage", "audit.view", "grants.manage"},
		s.ok(olivia, "GET", "/v1/caller", nil)["mspPermissions"], "the owner holds every MSP permission")

	ids := func(token, query string) []string {
		t.Helper()
		var out []string
		for _, c := range s.ok(token, "GET", "/v1/msps/acme/customers"+query, nil)["customers"].([]any) {
			out = append(out, c.(j)["customerId"].(string))
		}
		return out
	}
	require.Equal(t, []string{"zylker"}, ids(adminToken, "?search=CORP"), "Zylker Corp, by its name")
	require.Equal(t, []string{"globex", "zylker"}, ids(adminToken, "?search=o"), "by id or name")
	require.Equal(t, []string{"initech"}, ids(dana["token"].(string), "?search=i"), "Dana sees her customers only")
	require.Empty(t, ids(adminToken, "?search=nothing-like-it"))
}
