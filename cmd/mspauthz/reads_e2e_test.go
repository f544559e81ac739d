package main_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// zylkerPreferences is what the Edit Customer Preferences form of the demo's
// Zylker shows.
var zylkerPreferences = j{
	"customerGroups":       []any{"site24x7", "zoho"},
	"users":                []any{"carol"},
	"accountContact":       "alex",
	"alertGroups":          []any{j{"customerId": "zylker", "alertGroupId": "ops", "contacts": []any{"alex", "carol"}, "writtenAt": ""}},
	"partnerAccessEnabled": true,
}

// An admin tool shows each form as it stands: Zylker's preferences, Zoho's
// customers, Alex's groups, in gets and in lists, at a save's writtenAt.
func TestEndToEnd_EveryFormCanBeReadBack(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	h := "/v1/msps/acme"

	// Edit Customer Preferences, read back.
	require.Equal(t, j{"customerId": "zylker", "displayName": "Zylker Corp", "preferences": zylkerPreferences}, s.ok(a, "GET", h+"/customers/zylker", nil))
	require.Nil(t, s.ok(a, "GET", h+"/customers/zylker?view=BASIC", nil)["preferences"], "the basic view leaves preferences out")
	initech := s.ok(a, "GET", h+"/customers/initech", nil)["preferences"].(map[string]any)
	require.Equal(t, "", initech["accountContact"], "Initech has no Account Contact: empty, not left out")
	require.Equal(t, []any{"site24x7"}, initech["customerGroups"])

	// Lists: the basic view by default leaves preferences out (null), FULL fills them.
	for _, c := range s.ok(a, "GET", h+"/customers", nil)["customers"].([]any) {
		require.Nil(t, c.(map[string]any)["preferences"], "%v", c)
	}
	full := s.ok(a, "GET", h+"/customers?view=FULL", nil)["customers"].([]any)
	require.Len(t, full, 3)
	require.Equal(t, j{"customerId": "zylker", "displayName": "Zylker Corp", "preferences": zylkerPreferences}, full[2])

	// Edit Customer Group and Edit User, read back; lists carry the same as gets.
	zoho := j{"customerGroupId": "zoho", "displayName": "Zoho", "origin": "local",
		"members":   []any{j{"userId": "alex", "origin": "local"}, j{"userId": "bob", "origin": "local"}},
		"customers": []any{"globex", "zylker"}}
	require.Equal(t, zoho, s.ok(a, "GET", h+"/customerGroups/zoho", nil))
	require.Contains(t, s.ok(a, "GET", h+"/customerGroups", nil)["customerGroups"], zoho, "a list answers a group's members, never an empty list it did not load")
	alex := j{"userId": "alex", "displayName": "Alex", "singleCustomerId": "", "origin": "local", "externalId": "alex@acme.example",
		"customerGroups": []any{j{"customerGroupId": "site24x7", "origin": "local"}, j{"customerGroupId": "zoho", "origin": "local"}},
		"securityGroups": []any{}}
	require.Equal(t, alex, s.ok(a, "GET", h+"/users/alex", nil))
	require.Contains(t, s.ok(a, "GET", h+"/users", nil)["users"], alex, "a list answers a user's groups")

	// A save's writtenAt pins the read: Zoho deselected from Zylker is gone at once.
	rep := s.ok(a, "PUT", h+"/customers/zylker/preferences", j{"customerGroups": []string{"site24x7"}, "users": []string{"carol"}})
	fresh := "?atLeastAsFresh=" + url.QueryEscape(rep["writtenAt"].(string))
	require.Equal(t, []any{"site24x7"}, s.ok(a, "GET", h+"/customers/zylker"+fresh, nil)["preferences"].(map[string]any)["customerGroups"])
	require.Equal(t, []any{"globex"}, s.ok(a, "GET", h+"/customerGroups/zoho"+fresh, nil)["customers"])
	require.Equal(t, []any{j{"customerGroupId": "site24x7", "origin": "local"}, j{"customerGroupId": "zoho", "origin": "local"}},
		s.ok(a, "GET", h+"/users/alex"+fresh, nil)["customerGroups"])
	s.fails(400, "atLeastAsFresh", a, "GET", h+"/customers/zylker?atLeastAsFresh=garbage", nil)
	s.fails(400, "atLeastAsFresh", a, "GET", h+"/customerGroups/zoho?atLeastAsFresh=garbage", nil)

	// Alert groups, one and all.
	ops := j{"customerId": "zylker", "alertGroupId": "ops", "contacts": []any{"alex", "carol"}, "writtenAt": ""}
	require.Equal(t, ops, s.ok(a, "GET", h+"/customers/zylker/alertGroups/ops", nil))
	s.fails(404, `alert group "night" of customer "zylker" not found`, a, "GET", h+"/customers/zylker/alertGroups/night", nil)
	groups := s.ok(a, "GET", h+"/customers/zylker/alertGroups", nil)
	require.Equal(t, []any{ops}, groups["alertGroups"])
	require.NotEmpty(t, groups["checkedAt"])
	require.Equal(t, "", groups["nextPageToken"])
}

// Large sets are paged sub-collections, and every page reads at the first
// page's revision: a save between two pages does not show in the second.
func TestEndToEnd_SubCollectionsPageAtTheFirstPagesRevision(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	h := "/v1/msps/acme"

	first := s.ok(a, "GET", h+"/customerGroups/zoho/customers?pageSize=1", nil)
	require.Equal(t, []any{j{"customerId": "globex", "displayName": "Globex", "preferences": nil}}, first["customers"])
	require.NotEmpty(t, first["nextPageToken"])
	require.NotEmpty(t, first["checkedAt"])
	s.ok(a, "PUT", h+"/customerGroups/zoho/customers", j{"customers": []string{"initech", "zylker"}})
	second := s.ok(a, "GET", h+"/customerGroups/zoho/customers?pageSize=1&pageToken="+url.QueryEscape(first["nextPageToken"].(string)), nil)
	require.Equal(t, []any{j{"customerId": "zylker", "displayName": "Zylker Corp", "preferences": nil}}, second["customers"])
	require.Equal(t, "", second["nextPageToken"], "Globex and Zylker, as at the first page's revision: not Initech")
	require.Equal(t, first["checkedAt"], second["checkedAt"])
	now := s.ok(a, "GET", h+"/customerGroups/zoho/customers?view=FULL", nil)["customers"].([]any)
	require.Len(t, now, 2)
	require.Equal(t, "initech", now[0].(map[string]any)["customerId"])
	require.NotNil(t, now[0].(map[string]any)["preferences"], "the full view fills each customer's preferences")

	groups := s.ok(a, "GET", h+"/customers/zylker/customerGroups?pageSize=1", nil)
	require.Equal(t, "site24x7", groups["customerGroups"].([]any)[0].(map[string]any)["customerGroupId"])
	require.Equal(t, []any{"initech", "zylker"}, groups["customerGroups"].([]any)[0].(map[string]any)["customers"])
	more := s.ok(a, "GET", h+"/customers/zylker/customerGroups?pageSize=1&pageToken="+url.QueryEscape(groups["nextPageToken"].(string)), nil)
	require.Equal(t, "zoho", more["customerGroups"].([]any)[0].(map[string]any)["customerGroupId"])

	// Bad paging is 400 naming the field; unknown objects 404.
	s.fails(400, "pageToken", a, "GET", h+"/customerGroups/zoho/customers?pageToken=garbage", nil)
	s.fails(400, "pageSize", a, "GET", h+"/customers/zylker/alertGroups?pageSize=-1", nil)
	s.fails(404, `customer group "nosuch" not found`, a, "GET", h+"/customerGroups/nosuch/customers", nil)
	s.fails(404, `customer "nosuch" not found`, a, "GET", h+"/customers/nosuch/customerGroups", nil)
	s.fails(404, `msp "northwind" not found`, s.ok(a, "POST", h+"/tokens", j{})["token"].(string), "GET", "/v1/msps/northwind/customers/contoso/customerGroups", nil)
}

// Bob, with no admin role, sees the customers he reaches but not their
// forms; a customer he does not reach does not exist for him.
func TestEndToEnd_ATechnicianSeesNoForms(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	h := "/v1/msps/acme"
	bob := s.ok(adminToken, "POST", h+"/users/bob/tokens", j{})["token"].(string)

	require.Equal(t, j{"customerId": "zylker", "displayName": "Zylker Corp", "preferences": nil}, s.ok(bob, "GET", h+"/customers/zylker", nil),
		"preferences are for those who may manage customers")
	s.fails(403, "customers.manage", bob, "GET", h+"/customers/zylker/customerGroups", nil)
	s.fails(403, "customers.edit", bob, "GET", h+"/customers/zylker/alertGroups", nil)
	s.fails(403, "customer_groups.manage", bob, "GET", h+"/customerGroups/zoho/customers", nil)
	s.fails(404, `customer "initech" not found`, bob, "GET", h+"/customers/initech/customerGroups", nil)
	s.fails(404, `customer "initech" not found`, bob, "GET", h+"/customers/initech/alertGroups/night", nil)
	for _, c := range s.ok(bob, "GET", h+"/customers?view=FULL", nil)["customers"].([]any) {
		require.Nil(t, c.(map[string]any)["preferences"])
	}
}

// Names are edited with PATCH and an update mask (AIP-134): the mask names
// what changes, and nothing else can.
func TestEndToEnd_RenamesArePatchesWithAnUpdateMask(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	h := "/v1/msps/acme"

	feed := s.watch(a, "")
	feed.start()
	renamed := s.ok(a, "PATCH", h+"/users/alex", j{"displayName": "Alex Brown"})
	require.Equal(t, "Alex Brown", renamed["displayName"])
	require.Len(t, renamed["customerGroups"], 2, "the answer is the whole user")
	require.Equal(t, []any{j{"userRenamed": j{"userId": "alex", "displayName": "Alex Brown"}}}, feed.change()["events"], "pushed to the monitoring system (seed 002)")
	require.Equal(t, "Alex B.", s.ok(a, "PATCH", h+"/users/alex?updateMask=displayName", j{"displayName": "Alex B."})["displayName"])
	require.Equal(t, "Alex B.", s.ok(a, "GET", h+"/users/alex", nil)["displayName"])

	require.Equal(t, "Zylker Inc", s.ok(a, "PATCH", h+"/customers/zylker", j{"displayName": "Zylker Inc"})["displayName"])
	require.Equal(t, "Zoho One", s.ok(a, "PATCH", h+"/customerGroups/zoho", j{"displayName": "Zoho One"})["displayName"])
	require.Equal(t, "Zoho One", s.ok(a, "GET", h+"/customerGroups/zoho", nil)["displayName"])

	// A custom role: its name alone, or its permissions alone.
	s.ok(a, "POST", h+"/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	role := s.ok(a, "PATCH", h+"/roles/helpdesk", j{"displayName": "Help desk"})
	require.Equal(t, j{"roleId": "helpdesk", "displayName": "Help desk", "builtIn": false, "permissions": []any{"tickets.create"}}, role)
	role = s.ok(a, "PATCH", h+"/roles/helpdesk?updateMask=permissions", j{"permissions": []string{"tickets.create", "tickets.edit"}})
	require.Equal(t, j{"roleId": "helpdesk", "displayName": "Help desk", "builtIn": false, "permissions": []any{"tickets.create", "tickets.edit"}}, role)
	require.Equal(t, "Helpdesk", s.ok(a, "PUT", h+"/roles/helpdesk", j{"displayName": "Helpdesk", "permissions": []string{"tickets.create"}})["displayName"], "PUT still replaces the whole role")
	s.fails(400, "built in", a, "PATCH", h+"/roles/technician", j{"displayName": "Tech"})

	// A security group.
	s.ok(a, "POST", h+"/securityGroups", j{"securityGroupId": "desk", "displayName": "Desk", "roleId": "helpdesk", "scope": j{"allCustomers": true}})
	require.Equal(t, "Service desk", s.ok(a, "PATCH", h+"/securityGroups/desk", j{"displayName": "Service desk"})["displayName"])
	s.fails(400, "built in", a, "PATCH", h+"/securityGroups/admin", j{"displayName": "Admins"})

	// The mask: empty, unknown, immutable and output-only paths are 400 naming them; nothing is written.
	for _, tc := range []struct{ path, body, message string }{
		{h + "/users/alex", `{}`, "updateMask: empty; name the fields to change (displayName, externalId)"},
		{h + "/users/alex?updateMask=nickname", `{"displayName":"X"}`, `updateMask: "nickname" is not a field of User`},
		{h + "/users/alex", `{"userId":"alexander"}`, "updateMask: userId cannot be changed by an update"},
		{h + "/users/alex", `{"displayName":"X","origin":"rmm"}`, "updateMask: origin cannot be changed by an update"},
		{h + "/users/alex", `{"customerGroups":[]}`, "updateMask: customerGroups cannot be changed by an update"},
		{h + "/customers/zylker", `{"customerId":"zylker2"}`, "updateMask: customerId cannot be changed"},
		{h + "/customers/zylker", `{"preferences":{}}`, "updateMask: preferences cannot be changed"},
		{h + "/customerGroups/zoho", `{"origin":"local"}`, "updateMask: origin cannot be changed"},
		{h + "/roles/helpdesk", `{"builtIn":true}`, "updateMask: builtIn cannot be changed"},
		{h + "/securityGroups/desk", `{"roleId":"admin"}`, "updateMask: roleId cannot be changed"},
		{h + "/users/alex", `{"displayName":""}`, "displayName is required"},
	} {
		s.fails(400, tc.message, a, "PATCH", tc.path, tc.body)
	}
	s.fails(404, `user "nosuch" not found`, a, "PATCH", h+"/users/nosuch", j{"displayName": "X"})
	require.Equal(t, "Alex B.", s.ok(a, "GET", h+"/users/alex", nil)["displayName"])

	// Who may rename: Bob holds no users.manage.
	bob := s.ok(a, "POST", h+"/users/bob/tokens", j{})["token"].(string)
	s.fails(403, "users.manage", bob, "PATCH", h+"/users/alex", j{"displayName": "Al"})
	s.fails(404, `customer "initech" not found`, bob, "PATCH", h+"/customers/initech", j{"displayName": "I"})
	s.fails(403, "customers.edit", bob, "PATCH", h+"/customers/zylker", j{"displayName": "Z"})
}

// A local rename of a synced object marks it as drifted (seed 002): the
// next sync overwrites it and names the overwrite.
func TestEndToEnd_RenamingASyncedGroupMarksDrift(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	h := "/v1/msps/acme"
	s.ok(a, "POST", h+"/syncs/rmm:run", j{"snapshot": rmmSnapshot()})
	s.ok(a, "PATCH", h+"/customerGroups/servers", j{"displayName": "All servers"})
	s.ok(a, "PATCH", h+"/users/erin", j{"displayName": "Erin E."})
	drift := s.ok(a, "GET", h+"/syncs/rmm/drift", nil)
	require.Equal(t, []any{
		drifted("customerGroup", "servers", "renamed", j{"before": "Servers", "after": "All servers"}),
		drifted("user", "erin", "renamed", j{"before": "erin@acme.example", "after": "Erin E."}),
	}, drift["objects"])
	rep := s.ok(a, "POST", h+"/syncs/rmm:run", j{"snapshot": rmmSnapshot()})
	require.Contains(t, rep["overwrites"], drifted("customerGroup", "servers", "renamed", j{"before": "Servers", "after": "All servers"}))
	written := rep["report"].(map[string]any)["writtenAt"].(string)
	require.Equal(t, "Servers", s.ok(a, "GET", h+"/customerGroups/servers?atLeastAsFresh="+url.QueryEscape(written), nil)["displayName"])
}
