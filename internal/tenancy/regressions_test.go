package tenancy_test

import (
	"strconv"
	"strings"
	"testing"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/authzed/spicedb/pkg/zedtoken"
	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Regressions found in review.

// An MSP named "builtin" once purged the built-in roles every MSP relies on.
func TestAnMSPNamedBuiltinLeavesEveryMSPsRoles(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	q := tenancy.Question{ResourceType: "msp", ResourceID: "acme", Permission: "users.manage", UserID: "olivia"}
	for _, step := range []func() error{
		func() error {
			_, err := w.svc.CreateMSP(w.ctx, tenancy.MSP{ID: "builtin", DisplayName: "Builtin Corp", OwnerUserID: "bo"})
			return err
		},
		func() error { return w.svc.DeleteMSP(w.ctx, "builtin") },
	} {
		require.NoError(t, step())
		res, _, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{q}, "")
		require.NoError(t, err)
		require.True(t, res[0].Allowed)
	}
}

// End-customer users are not MSP users: the forms refuse them (they once
// produced phantom associations that SpiceDB denied), and ListUsers omits them.
func TestEndCustomerUsersAreNotMSPUsers(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	_, err := w.svc.CreateEndCustomerUser(w.ctx, "acme", "globex", tenancy.EndCustomerUser{UserID: "eve", DisplayName: "Eve"})
	require.NoError(t, err)
	before := w.dump()
	_, err = w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", nil, []string{"eve"}, tenancy.SaveOptions{ValidateOnly: true})
	requireKind(t, err, fault.NotFound, `users: user "eve" not found`)
	_, err = w.svc.EditUser(w.ctx, "acme", "eve", []string{"zoho"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.NotFound, `userId: user "eve" not found`)
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "x", DisplayName: "X", RoleID: "read_only", Scope: tenancy.Scope{Associated: true}, Members: []string{"eve"}})
	requireKind(t, err, fault.NotFound, `members: user "eve" not found`)
	require.Equal(t, before, w.dump())
	users, _, err := w.svc.ListUsers(w.ctx, "acme", tenancy.Page{}, tenancy.ViewDefault, "")
	require.NoError(t, err)
	for _, u := range users {
		require.NotEqual(t, "eve", u.ID)
	}
}

// Deleting a user once left creator tuples behind: a new user of the same id
// inherited the old one's "created by" rights.
func TestDeletedCreatorsLeaveNoRights(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	_, err := w.svc.UpdateSettings(w.ctx, "acme", tenancy.Settings{EndCustomerRoleSelection: true})
	require.NoError(t, err)
	_, err = w.svc.CreateEndCustomerUser(w.ctx, "acme", "zylker", tenancy.EndCustomerUser{UserID: "hp", DisplayName: "Old HP", Role: "hosting_provider"})
	require.NoError(t, err)
	_, err = w.svc.CreateMaintenanceWindow(tenancy.WithActor(w.ctx, tenancy.Actor{UserID: "hp"}), "acme", "zylker", "w1", "Window")
	require.NoError(t, err)
	require.NoError(t, w.svc.DeleteEndCustomerUser(w.ctx, "acme", "zylker", "hp"))
	_, err = w.svc.CreateEndCustomerUser(w.ctx, "acme", "zylker", tenancy.EndCustomerUser{UserID: "hp", DisplayName: "New HP", Role: "hosting_provider"})
	require.NoError(t, err)
	res, _, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{{ResourceType: "maintenance_window", ResourceID: "zylker/w1", Permission: "delete", UserID: "hp"}}, "")
	require.NoError(t, err)
	require.False(t, res[0].Allowed)
}

// ListMSPs' second page was once refused (a cursor made at full consistency).
func TestSecondPages(t *testing.T) {
	w := newWorld(t)
	for _, id := range []string{"a1", "a2", "a3"} {
		_, err := w.svc.CreateMSP(w.ctx, tenancy.MSP{ID: id, DisplayName: id, OwnerUserID: "o"})
		require.NoError(t, err)
	}
	first, next, err := w.svc.ListMSPs(w.ctx, "", tenancy.Page{Size: 2})
	require.NoError(t, err)
	require.Len(t, first, 2)
	second, _, err := w.svc.ListMSPs(w.ctx, "", tenancy.Page{Size: 2, Token: next})
	require.NoError(t, err)
	require.Len(t, second, 1)

	w.msp("acme", nil, []string{"c1", "c2", "c3"}, nil)
	customers, next, err := w.svc.ListCustomers(w.ctx, "acme", tenancy.Page{Size: 2}, tenancy.ViewDefault, "")
	require.NoError(t, err)
	require.Len(t, customers, 2)
	customers, _, err = w.svc.ListCustomers(w.ctx, "acme", tenancy.Page{Size: 2, Token: next}, tenancy.ViewDefault, "")
	require.NoError(t, err)
	require.Len(t, customers, 1)
}

// A ZedToken from the future is bad input naming the field, not an internal error.
func TestFutureZedTokenIsInvalid(t *testing.T) {
	if spicedbtest.Backend() != spicedbtest.Memory {
		t.Skip("crafts a revision of the memory datastore's format")
	}
	w := newWorld(t)
	w.seedCast()
	rep := w.editGroup("zoho", "zylker")
	d, err := zedtoken.Decode(&v1.ZedToken{Token: rep.WrittenAt})
	require.NoError(t, err)
	whole, frac, _ := strings.Cut(d.GetV1().Revision, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	require.NoError(t, err)
	d.GetV1().Revision = strconv.FormatInt(n+3600_000_000_000, 10)
	if frac != "" {
		d.GetV1().Revision += "." + frac
	}
	tok, err := zedtoken.Encode(d)
	require.NoError(t, err)
	_, _, err = w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("alex", "zylker")}, tok.Token)
	requireKind(t, err, fault.Invalid, "atLeastAsFresh")
}

// Gil administers the MSP's customer groups with a custom role that holds
// nothing else: the groups he may edit name their customers, so he may know
// of every customer, and the Edit Customer Group form round-trips for him
// (GET shows Zylker, PUT of the same selection is not "Zylker not found").
func TestWhoAdministersTheGroupsSeesTheirCustomers(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"gil"}, []string{"zylker", "globex"}, []string{"zoho"})
	w.editGroup("zoho", "zylker", "globex")
	_, err := w.svc.CreateRole(w.ctx, "acme", tenancy.Role{ID: "grouper", DisplayName: "Groups", Permissions: []string{"customer_groups.manage"}})
	require.NoError(t, err)
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "groupers", DisplayName: "Groupers", RoleID: "grouper",
		Scope: tenancy.Scope{AllCustomers: true}, Members: []string{"gil"}})
	require.NoError(t, err)

	gil := w.as("gil")
	zoho, err := gil.svc.GetCustomerGroup(gil.ctx, "acme", "zoho", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, []string{"globex", "zylker"}, zoho.Customers)
	_, err = gil.svc.EditCustomerGroup(gil.ctx, "acme", "zoho", zoho.Customers, tenancy.SaveOptions{})
	require.NoError(t, err, "the form he was shown saves")
}
