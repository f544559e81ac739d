package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// rmmSnapshot is acme's RMM dashboard: Erin (made there) and Alex in its
// group Servers, with Zylker and Initech; Erin is a technician.
func rmmSnapshot(extraUsers ...string) j {
	users := []any{
		j{"userId": "alex", "displayName": "alex@acme.example"},
		j{"userId": "erin", "displayName": "erin@acme.example", "roles": []string{"technician"}},
	}
	assignments := []any{j{"userId": "alex", "customerGroupId": "servers"}, j{"userId": "erin", "customerGroupId": "servers"}}
	for _, u := range extraUsers {
		users = append(users, j{"userId": u, "displayName": u})
		assignments = append(assignments, j{"userId": u, "customerGroupId": "servers"})
	}
	return j{
		"mspId":          "acme",
		"users":          users,
		"customerGroups": []any{j{"customerGroupId": "servers", "displayName": "Servers", "customers": []string{"zylker", "initech"}}},
		"assignments":    assignments,
	}
}

// syncCLI runs `mspauthz sync` against s with the snapshot written to a file.
func (s *server) syncCLI(snapshot any, args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	file := filepath.Join(s.t.TempDir(), "snapshot.json")
	raw, ok := snapshot.([]byte)
	if !ok {
		var err error
		raw, err = json.Marshal(snapshot)
		require.NoError(s.t, err)
	}
	require.NoError(s.t, os.WriteFile(file, raw, 0o600))
	cmd := exec.Command(binary, append([]string{"sync", "--url", s.base, "--system", "rmm", "--file", file}, args...)...)
	cmd.Env = append(os.Environ(), "MSPAUTHZ_TOKEN="+adminToken)
	var out, errOut safeBuffer
	out.mu, errOut.mu = make(chan struct{}, 1), make(chan struct{}, 1)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(s.t, err)
	return 0, out.String(), errOut.String()
}

// Seed 002 over REST and the sync command: the dashboard's group and users
// arrive only with a sync, carry their origin, and a local edit of them is
// drift that the next sync overwrites.
func TestEndToEnd_SyncWithTheMonitoringDashboard(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	run := "/v1/msps/acme/syncs/rmm:run"

	preview := s.ok(adminToken, "POST", run, j{"snapshot": rmmSnapshot(), "validateOnly": true})
	require.Equal(t, j{"created": []any{"erin"}, "updated": []any{}, "removed": []any{}}, preview["users"])
	require.Equal(t, "", preview["report"].(j)["writtenAt"])
	s.fails(http.StatusNotFound, `user "erin" not found`, adminToken, "GET", "/v1/msps/acme/users/erin", nil)

	code, stdout, stderr := s.syncCLI(rmmSnapshot(), "--dry-run")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "dry run: nothing written")
	require.Contains(t, stderr, "sync rmm -> acme: 2 users, 1 customer groups, 2 assignments")
	var dry j
	require.NoError(t, json.Unmarshal([]byte(stdout), &dry))
	require.Equal(t, preview["users"], dry["users"])

	code, stdout, stderr = s.syncCLI(rmmSnapshot())
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "users +1 ~0 -0, customer groups +1 ~0 -0, assignments +2 -0, role assignments +1 -0")
	var res j
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	report := res["report"].(j)
	require.NotEmpty(t, report["writtenAt"])
	require.Contains(t, report["associated"], j{"userId": "erin", "customerId": "zylker"})

	erin := s.ok(adminToken, "GET", "/v1/msps/acme/users/erin", nil)
	require.Equal(t, "rmm", erin["origin"])
	require.Equal(t, []any{j{"customerGroupId": "servers", "origin": "rmm"}}, erin["customerGroups"])
	alex := s.ok(adminToken, "GET", "/v1/msps/acme/users/alex", nil)
	require.Equal(t, "local", alex["origin"])
	require.Equal(t, []any{
		j{"customerGroupId": "servers", "origin": "rmm"},
		j{"customerGroupId": "site24x7", "origin": "local"},
		j{"customerGroupId": "zoho", "origin": "local"},
	}, alex["customerGroups"])
	require.Equal(t, "local", s.ok(adminToken, "GET", "/v1/msps/acme/customerGroups/zoho", nil)["origin"])
	servers := s.ok(adminToken, "GET", "/v1/msps/acme/customerGroups/servers", nil)
	require.Equal(t, "rmm", servers["origin"])

	// A local edit of the dashboard's group: allowed, and marked with what
	// it changed (Initech taken out, Globex put in), which the next sync
	// puts back as the dashboard has it.
	s.ok(adminToken, "PUT", "/v1/msps/acme/customerGroups/servers/customers", j{"customers": []string{"zylker", "globex"}})
	drift := s.ok(adminToken, "GET", "/v1/msps/acme/syncs/rmm/drift", nil)
	edited := []any{drifted("customerGroup", "servers", "customersAdded", []any{"globex"}, "customersRemoved", []any{"initech"})}
	require.Equal(t, edited, drift["objects"])
	require.NotEmpty(t, drift["lastSyncedAt"])
	again := s.ok(adminToken, "POST", run, j{"snapshot": rmmSnapshot(), "validateOnly": true})
	require.Equal(t, edited, again["overwrites"])
	s.ok(adminToken, "POST", run, j{"snapshot": rmmSnapshot()})
	require.Equal(t, []any{}, s.ok(adminToken, "GET", "/v1/msps/acme/syncs/rmm/drift", nil)["objects"])
}

// drifted is a drifted object as drift and a sync's overwrites answer it,
// with the given fields (name, value, ...) besides its kind and id.
func drifted(kind, id string, fields ...any) j {
	d := j{"kind": kind, "id": id, "deleted": false, "renamed": nil, "membersAdded": []any{}, "membersRemoved": []any{}, "customersAdded": []any{}, "customersRemoved": []any{}}
	for i := 0; i < len(fields); i += 2 {
		d[fields[i].(string)] = fields[i+1]
	}
	return d
}

// Seed 002: drift says what was edited here. Servers renamed here (twice),
// Erin (the dashboard's member) removed from it and Bob added: drift names
// the dashboard's name and the one here, Bob added, Erin removed; the next
// sync says it puts back the name and Erin (Bob stays, local); after it,
// nothing has drifted.
func TestEndToEnd_DriftSaysWhatWasEditedHereAndTheSyncWhatItPutsBack(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a, h := adminToken, "/v1/msps/acme"
	s.ok(a, "POST", h+"/syncs/rmm:run", j{"snapshot": rmmSnapshot()})
	s.ok(a, "PATCH", h+"/customerGroups/servers", j{"displayName": "All servers"})
	s.ok(a, "PATCH", h+"/customerGroups/servers", j{"displayName": "Servers (here)"})
	s.ok(a, "PUT", h+"/users/erin/customerGroups", j{"customerGroups": []string{}, "allowEmpty": true})
	s.ok(a, "PUT", h+"/users/bob/customerGroups", j{"customerGroups": []string{"zoho", "servers"}})

	renamed := j{"before": "Servers", "after": "Servers (here)"}
	require.Equal(t, []any{drifted("customerGroup", "servers", "renamed", renamed, "membersAdded", []any{"bob"}, "membersRemoved", []any{"erin"})},
		s.ok(a, "GET", h+"/syncs/rmm/drift", nil)["objects"])
	putBack := []any{drifted("customerGroup", "servers", "renamed", renamed, "membersRemoved", []any{"erin"})}
	require.Equal(t, putBack, s.ok(a, "POST", h+"/syncs/rmm:run", j{"snapshot": rmmSnapshot(), "validateOnly": true})["overwrites"])
	res := s.ok(a, "POST", h+"/syncs/rmm:run", j{"snapshot": rmmSnapshot()})
	require.Equal(t, putBack, res["overwrites"])
	require.Equal(t, []any{}, s.ok(a, "GET", h+"/syncs/rmm/drift", nil)["objects"])
	servers := s.ok(a, "GET", h+"/customerGroups/servers?atLeastAsFresh="+url.QueryEscape(res["report"].(j)["writtenAt"].(string)), nil)
	require.Equal(t, "Servers", servers["displayName"])
	require.Equal(t, []any{
		j{"userId": "alex", "origin": "rmm"}, j{"userId": "bob", "origin": "local"}, j{"userId": "erin", "origin": "rmm"},
	}, servers["members"])
}

// Initech is deleted here while the dashboard's Servers still holds it: it
// does not block the syncs after, each of which applies the rest and names
// Initech as skipped.
func TestEndToEnd_ACustomerDeletedHereDoesNotBlockLaterSyncs(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a, run := adminToken, "/v1/msps/acme/syncs/rmm:run"
	s.ok(a, "POST", run, j{"snapshot": rmmSnapshot()})
	s.ok(a, "DELETE", "/v1/msps/acme/customers/initech", nil)

	skipped := []any{j{"customerGroupId": "servers", "customerId": "initech", "reason": "DELETED_HERE"}}
	preview := s.ok(a, "POST", run, j{"snapshot": rmmSnapshot("fay"), "validateOnly": true})
	require.Equal(t, skipped, preview["skipped"])
	res := s.ok(a, "POST", run, j{"snapshot": rmmSnapshot("fay")})
	require.Equal(t, skipped, res["skipped"])
	require.Equal(t, []any{"fay"}, res["users"].(j)["created"])
	require.Equal(t, []any{j{"userId": "fay", "customerId": "zylker"}}, res["report"].(j)["associated"])

	code, stdout, stderr := s.syncCLI(rmmSnapshot("fay"))
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "; 1 customers of its groups skipped (see skipped); 1 deleted here, not created again (see deletedHere)")
	var again j
	require.NoError(t, json.Unmarshal([]byte(stdout), &again))
	require.Equal(t, skipped, again["skipped"])
	require.Equal(t, []any{j{"kind": "customer", "id": "initech"}}, again["deletedHere"])
}

func TestEndToEnd_SyncBadInputWritesNothing(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	run := "/v1/msps/acme/syncs/rmm:run"
	other := rmmSnapshot()
	other["mspId"] = "northwind"
	local := rmmSnapshot()
	local["customerGroups"] = []any{j{"customerGroupId": "zoho", "displayName": "Zoho", "customers": []string{"zylker"}}}
	local["assignments"] = []any{}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		msg    string
	}{
		{"malformed JSON", run, `{"snapshot": {"mspId": "acme",`, http.StatusBadRequest, ""},
		{"an unknown field", run, `{"snapshot": {"mspId": "acme", "groups": []}}`, http.StatusBadRequest, "groups"},
		{"no snapshot", run, j{}, http.StatusBadRequest, "snapshot.mspId is required"},
		{"another MSP's snapshot", run, j{"snapshot": other}, http.StatusBadRequest, `the snapshot is for MSP "northwind", not "acme"`},
		{"a local group's id", run, j{"snapshot": local}, http.StatusConflict, `exists here with origin "local"`},
		{"an unknown MSP", "/v1/msps/umbrella/syncs/rmm:run", j{"snapshot": j{"mspId": "umbrella"}}, http.StatusNotFound, `msp "umbrella" not found`},
		{"the local system", "/v1/msps/acme/syncs/local:run", j{"snapshot": rmmSnapshot()}, http.StatusBadRequest, "not a connected system"},
	} {
		code, out := s.call(adminToken, "POST", tc.path, tc.body)
		require.Equal(t, tc.status, code, "%s: %v", tc.name, out)
		require.Contains(t, out["message"], tc.msg, tc.name)
	}
	// Nothing was written by any of them.
	s.fails(http.StatusNotFound, `user "erin" not found`, adminToken, "GET", "/v1/msps/acme/users/erin", nil)

	code, _, stderr := s.syncCLI([]byte(`{"mspId": "acme", "users": [`))
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "is not a snapshot")

	// A snapshot that lost most of the dashboard's users needs consent.
	code, _, stderr = s.syncCLI(rmmSnapshot("u1", "u2", "u3", "u4", "u5"))
	require.Equal(t, 0, code, stderr)
	code, _, stderr = s.syncCLI(j{"mspId": "acme"})
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "MASS_REMOVAL")
	s.ok(adminToken, "GET", "/v1/msps/acme/users/u1", nil)
	code, _, stderr = s.syncCLI(j{"mspId": "acme"}, "--allow-mass-removal")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, fmt.Sprintf("users +0 ~0 -%d", 6))
	s.fails(http.StatusNotFound, `user "u1" not found`, adminToken, "GET", "/v1/msps/acme/users/u1", nil)
}

// A membership and a role assignment the dashboard made, removed here and
// added back here, are local from then on: the next sync that no longer
// lists them keeps them.
func TestEndToEnd_AMembershipAddedBackHereIsLocal(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a, run := adminToken, "/v1/msps/acme/syncs/rmm:run"
	snapshot := func(withAlex bool) j {
		alex := j{"userId": "alex", "displayName": "alex@acme.example"}
		assignments := []any{j{"userId": "erin", "customerGroupId": "servers"}}
		if withAlex {
			alex["roles"] = []string{"technician"}
			assignments = append(assignments, j{"userId": "alex", "customerGroupId": "servers"})
		}
		return j{"mspId": "acme",
			"users":          []any{alex, j{"userId": "erin", "displayName": "erin@acme.example", "roles": []string{"technician"}}},
			"customerGroups": []any{j{"customerGroupId": "servers", "displayName": "Servers", "customers": []string{"zylker", "initech"}}},
			"assignments":    assignments}
	}
	memberships := func() (customerGroups, securityGroups any) {
		alex := s.ok(a, "GET", "/v1/msps/acme/users/alex", nil)
		return alex["customerGroups"], alex["securityGroups"]
	}

	s.ok(a, "POST", run, j{"snapshot": snapshot(true)})
	groups, roles := memberships()
	require.Contains(t, groups, j{"customerGroupId": "servers", "origin": "rmm"})
	require.Equal(t, []any{j{"securityGroupId": "rmm-technician", "origin": "rmm"}}, roles)

	// Removed here, then added back here.
	s.ok(a, "PUT", "/v1/msps/acme/users/alex/customerGroups", j{"customerGroups": []string{"zoho", "site24x7"}})
	s.ok(a, "PUT", "/v1/msps/acme/users/alex/customerGroups", j{"customerGroups": []string{"zoho", "site24x7", "servers"}})
	s.ok(a, "PUT", "/v1/msps/acme/users/alex/securityGroups", j{"securityGroups": []string{}, "allowEmpty": true})
	s.ok(a, "PUT", "/v1/msps/acme/securityGroups/rmm-technician/members", j{"members": []string{"erin", "alex"}})
	groups, roles = memberships()
	require.Contains(t, groups, j{"customerGroupId": "servers", "origin": "local"})
	require.Equal(t, []any{j{"securityGroupId": "rmm-technician", "origin": "local"}}, roles)

	// The dashboard no longer lists them: they stay, local.
	res := s.ok(a, "POST", run, j{"snapshot": snapshot(false)})
	require.Equal(t, []any{}, res["assignmentsRemoved"])
	require.Equal(t, []any{}, res["roleAssignmentsRemoved"])
	groups, roles = memberships()
	require.Contains(t, groups, j{"customerGroupId": "servers", "origin": "local"})
	require.Equal(t, []any{j{"securityGroupId": "rmm-technician", "origin": "local"}}, roles)
}

// Seed 002's client logins over REST and the sync command: Zed arrives as
// Zylker's end-customer user with the portal role, with Hooli, a customer
// only the dashboard knew; deleted here he stays deleted (deletedHere)
// until an admin restores him.
func TestEndToEnd_SyncBringsClientLoginsAndCustomersAndADeletionHereSticks(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a, run := adminToken, "/v1/msps/acme/syncs/rmm:run"
	snapshot := func() j {
		snap := rmmSnapshot()
		snap["clientLogins"] = []any{
			j{"userId": "zed", "displayName": "zed@zylker.example", "customerId": "zylker"},
			j{"userId": "hana", "displayName": "hana@hooli.example", "customerId": "hooli"},
		}
		snap["customers"] = []any{j{"customerId": "hooli", "displayName": "Hooli"}}
		return snap
	}
	require.Equal(t, true, s.ok(a, "GET", "/v1/msps/acme/settings", nil)["syncCreatesCustomers"], "the default")

	code, stdout, stderr := s.syncCLI(snapshot())
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "; client logins +2 ~0 -0; customers +1 ~0")
	var res j
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Equal(t, j{"created": []any{"hana", "zed"}, "updated": []any{}, "removed": []any{}}, res["clientLogins"])
	require.Equal(t, []any{"hooli"}, res["customers"].(j)["created"])
	require.Equal(t, "Hooli", s.ok(a, "GET", "/v1/msps/acme/customers/hooli", nil)["displayName"])
	users := s.ok(a, "GET", "/v1/msps/acme/customers/zylker/endCustomerUsers", nil)
	require.Contains(t, users["endCustomerUsers"], j{"userId": "zed", "displayName": "zed@zylker.example", "customerId": "zylker", "role": "portal", "externalId": ""})

	// Bad input: 400 naming the entry, nothing written.
	bad := snapshot()
	bad["clientLogins"] = append(bad["clientLogins"].([]any), j{"userId": "erin", "displayName": "erin", "customerId": "zylker"})
	s.fails(http.StatusBadRequest, "snapshot.clientLogins[2].userId", a, "POST", run, j{"snapshot": bad})
	bad = snapshot()
	bad["clientLogins"].([]any)[1].(j)["customerId"] = "northwind/hooli"
	s.fails(http.StatusBadRequest, "snapshot.clientLogins[1].customerId", a, "POST", run, j{"snapshot": bad})
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"syncCreatesCustomers": false})
	bad = snapshot()
	bad["clientLogins"].([]any)[1].(j)["customerId"] = "umbrella"
	s.fails(http.StatusBadRequest, `snapshot.clientLogins[1].customerId: customer "umbrella" not found here`, a, "POST", run, j{"snapshot": bad})
	s.fails(http.StatusNotFound, "umbrella", a, "GET", "/v1/msps/acme/customers/umbrella", nil)
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{})
	require.Equal(t, true, s.ok(a, "GET", "/v1/msps/acme/settings", nil)["syncCreatesCustomers"])

	// Zara deleted here stays deleted.
	s.ok(a, "DELETE", "/v1/msps/acme/customers/zylker/endCustomerUsers/zed", nil)
	drift := s.ok(a, "GET", "/v1/msps/acme/syncs/rmm/drift", nil)
	require.Contains(t, drift["objects"], drifted("user", "zed", "deleted", true))
	code, stdout, stderr = s.syncCLI(snapshot())
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "; 1 deleted here, not created again (see deletedHere)")
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Equal(t, []any{j{"kind": "user", "id": "zed"}}, res["deletedHere"])
	require.Equal(t, []any{}, res["clientLogins"].(j)["created"])

	restore := "/v1/msps/acme/syncs/rmm/deletedHere/user/zed:restore"
	require.Equal(t, j{"kind": "user", "id": "zed"}, s.ok(a, "POST", restore, j{}))
	s.fails(http.StatusNotFound, "not marked deleted here", a, "POST", restore, j{})
	s.fails(http.StatusBadRequest, "kind", a, "POST", "/v1/msps/acme/syncs/rmm/deletedHere/monitor/zed:restore", j{})
	res = s.ok(a, "POST", run, j{"snapshot": snapshot()})
	require.Equal(t, []any{"zed"}, res["clientLogins"].(j)["created"])

	// The dashboard drops its client logins: they go.
	snap := snapshot()
	delete(snap, "clientLogins")
	res = s.ok(a, "POST", run, j{"snapshot": snap})
	require.Equal(t, []any{"hana", "zed"}, res["clientLogins"].(j)["removed"])
	for _, u := range s.ok(a, "GET", "/v1/msps/acme/customers/zylker/endCustomerUsers", nil)["endCustomerUsers"].([]any) {
		require.NotEqual(t, "zed", u.(j)["userId"])
	}
}
