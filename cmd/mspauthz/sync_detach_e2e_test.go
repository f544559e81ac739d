package main_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Seed 002, keep a local edit, over REST and the sync command: the admin
// narrows the dashboard's Servers here and detaches it, and Erin too; both
// are local from then on, with their memberships, and the dashboard's syncs
// leave them alone while they list them.
func TestEndToEnd_ADetachedGroupAndUserKeepTheirLocalEdits(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a, run := adminToken, "/v1/msps/acme/syncs/rmm:run"
	s.ok(a, "POST", run, j{"snapshot": rmmSnapshot()})
	s.ok(a, "PUT", "/v1/msps/acme/customerGroups/servers/customers", j{"customers": []string{"zylker"}})

	require.Equal(t, j{"kind": "customerGroup", "id": "servers", "system": "rmm", "memberships": []any{
		j{"kind": "customer", "id": "zylker"}, j{"kind": "user", "id": "alex"}, j{"kind": "user", "id": "erin"},
	}}, s.ok(a, "POST", "/v1/msps/acme/customerGroups/servers:detach", j{}), "what the dashboard put in it and is still there: Zylker (Initech was taken out here), Alex and Erin")
	require.Equal(t, j{"kind": "user", "id": "erin", "system": "rmm", "memberships": []any{
		j{"kind": "securityGroup", "id": "rmm-technician"},
	}}, s.ok(a, "POST", "/v1/msps/acme/users/erin:detach", j{}), "her membership of Servers is local already")
	servers := s.ok(a, "GET", "/v1/msps/acme/customerGroups/servers", nil)
	require.Equal(t, "local", servers["origin"])
	for _, m := range servers["members"].([]any) {
		require.Equal(t, "local", m.(j)["origin"], m)
	}
	erin := s.ok(a, "GET", "/v1/msps/acme/users/erin", nil)
	require.Equal(t, "local", erin["origin"])
	require.Equal(t, []any{j{"securityGroupId": "rmm-technician", "origin": "local"}}, erin["securityGroups"])
	require.Equal(t, []any{drifted("securityGroup", "rmm-technician", "membersAdded", []any{"erin"})}, s.ok(a, "GET", "/v1/msps/acme/syncs/rmm/drift", nil)["objects"],
		"local objects are no drift; the dashboard's security group is: Erin's membership of it is local now")

	// The dashboard renames Erin and drops her from Servers: nothing changes here.
	next := rmmSnapshot()
	next["users"].([]any)[1].(j)["displayName"] = "erin.k@acme.example"
	next["assignments"] = next["assignments"].([]any)[:1]
	code, stdout, stderr := s.syncCLI(next)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "; 2 detached here, left alone (see detached)")
	var res j
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Equal(t, []any{j{"kind": "customerGroup", "id": "servers"}, j{"kind": "user", "id": "erin"}}, res["detached"])
	require.Equal(t, []any{}, res["overwrites"])
	require.Equal(t, []any{}, res["assignmentsRemoved"])
	require.Equal(t, "erin@acme.example", s.ok(a, "GET", "/v1/msps/acme/users/erin", nil)["displayName"])
	customers := s.ok(a, "GET", "/v1/msps/acme/customerGroups/servers/customers", nil)["customers"]
	require.Len(t, customers, 1, "the local edit stays: %v", customers)

	// Bad ids, unknown and local objects: clear errors, nothing written.
	s.fails(http.StatusBadRequest, "customerGroupId", a, "POST", "/v1/msps/acme/customerGroups/Servers!:detach", j{})
	s.fails(http.StatusNotFound, `security group "rmm-auditor" not found`, a, "POST", "/v1/msps/acme/securityGroups/rmm-auditor:detach", j{})
	s.fails(http.StatusBadRequest, "ALREADY_LOCAL", a, "POST", "/v1/msps/acme/users/erin:detach", j{})
	s.fails(http.StatusBadRequest, "names one object", a, "POST", "/v1/msps/acme/users/alex:detach", j{"customerGroupId": "zoho"})
	s.fails(http.StatusNotFound, `msp "umbrella" not found`, a, "POST", "/v1/msps/umbrella/users/erin:detach", j{})
	require.Equal(t, "rmm", s.ok(a, "GET", "/v1/msps/acme/securityGroups/rmm-technician", nil)["origin"])
}
