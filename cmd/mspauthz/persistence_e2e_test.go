package main_test

import (
	"net/url"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/pgtest"
)

// On PostgreSQL, what mspauthz stores outlives the process: a restarted
// server answers the same access, grant and audit trail. An unmigrated
// database is refused with the command that fixes it. Fixtures loaded at a
// restart leave an MSP that exists as it is.
func TestEndToEnd_PostgresKeepsEverythingAcrossARestart(t *testing.T) {
	uri := pgtest.Unmigrated(t)
	out, err := exec.Command(binary, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--datastore", uri).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "mspauthz migrate --datastore URI")
	out, err = exec.Command(binary, "migrate", "--datastore", uri).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "datastore migrated to")
	out, err = exec.Command(binary, "migrate", "--datastore", uri).CombinedOutput()
	require.NoError(t, err, "a second migration is harmless: %s", out)

	env := []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}
	s := start(t, env, "--datastore", uri)
	a := adminToken
	s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": "fabrikam", "displayName": "Fabrikam"})
	s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": "gus", "displayName": "Gus"})
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true})
	s.ok(a, "POST", "/v1/msps/acme/customers/fabrikam/endCustomerUsers", j{"userId": "fred", "displayName": "Fred", "role": "admin"})
	s.ok(a, "POST", "/v1/msps/acme/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	s.ok(a, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": "none", "displayName": "None"})
	s.ok(a, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "support", "displayName": "Support", "roleId": "helpdesk", "scope": j{"customerGroups": []string{"none"}}, "members": []string{"gus"}})
	id := s.ok(a, "POST", "/v1/msps/acme/grants", j{"customerId": "fabrikam", "securityGroupId": "support", "roleId": "helpdesk", "durationDays": 30})["grantId"].(string)
	fred := s.ok(a, "POST", "/v1/msps/acme/users/fred/tokens", j{})["token"].(string)
	s.ok(fred, "POST", "/v1/msps/acme/grants/"+id+":approve", j{})
	auditor := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	before := s.auditEvents(auditor, "acme", url.Values{})
	require.NotEmpty(t, before)
	s.stop()

	s = start(t, env, "--datastore", uri, "--fixtures", "../../fixtures/demo.yaml")
	require.Contains(t, s.logs.String(), `"msg":"fixtures: these MSPs exist already and were left as they are","msps":["acme"]`)
	allowed := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:fabrikam", "permission": "tickets.create", "subject": "user:gus"})
	require.Equal(t, []any{"grant:" + id}, allowed["via"])
	require.Equal(t, "ACTIVE", s.ok(a, "GET", "/v1/msps/acme/grants/"+id, nil)["status"])
	require.Equal(t, before, s.auditEvents(auditor, "acme", url.Values{}), "the audit trail and the tokens outlive the process")
	s.ok(fred, "POST", "/v1/msps/acme/grants/"+id+":revoke", j{})
}
