package tenancy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Seed 002, keep a local edit: the admin refills the dashboard's group
// Servers here and detaches it; it is local from then on, with its members,
// and the dashboard's syncs leave it alone while they list it.
func TestSync_AGroupDetachedHereKeepsItsLocalEdit(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	w.editGroup("servers", "zylker", "initech")
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindCustomerGroup, ID: "servers"}}, w.driftObjects())

	servers := tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "servers"}
	det, err := w.svc.Detach(w.ctx, "acme", servers)
	require.NoError(t, err)
	require.Equal(t, &tenancy.Detachment{ObjectRef: servers, System: "rmm", Memberships: []tenancy.ObjectRef{
		{Kind: tenancy.KindCustomer, ID: "zylker"}, {Kind: tenancy.KindUser, ID: "alex"}, {Kind: tenancy.KindUser, ID: "dana"},
	}}, det, "Zylker is the dashboard's customer still in it; Globex was taken out here, Initech put in here")
	g, err := w.svc.GetCustomerGroup(w.ctx, "acme", "servers", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "local", g.Origin)
	require.Equal(t, []tenancy.Membership{{ID: "alex", Origin: "local"}, {ID: "dana", Origin: "local"}}, g.Members)
	require.Empty(t, w.driftObjects(), "a local group is no drift")

	for range 2 {
		res := w.sync(dashboard(), tenancy.SyncOptions{})
		require.Equal(t, []tenancy.ObjectRef{servers}, res.Detached)
		require.Empty(t, res.Overwrites)
		require.Empty(t, res.CustomerGroups.Updated)
		require.True(t, w.reaches("dana", "initech"), "the local edit stays")
		require.False(t, w.reaches("dana", "globex"))
	}

	// The dashboard drops Servers: the group stays, local, and so do its members.
	next := dashboard()
	next.CustomerGroups, next.Assignments = nil, nil
	res := w.sync(next, tenancy.SyncOptions{})
	require.Empty(t, res.Detached)
	require.Empty(t, res.CustomerGroups.Removed)
	require.Empty(t, res.AssignmentsRemoved)
	require.True(t, w.reaches("alex", "initech"))
}

// Detaching Dana, one of the dashboard's users, keeps her name and her roles
// here whatever the dashboard says of her later.
func TestSync_AUserDetachedHereIsLeftAloneByTheDashboard(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	dana := tenancy.ObjectRef{Kind: tenancy.KindUser, ID: "dana"}
	det, err := w.svc.Detach(w.ctx, "acme", dana)
	require.NoError(t, err)
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindCustomerGroup, ID: "servers"}, {Kind: tenancy.KindSecurityGroup, ID: "rmm-technician"}}, det.Memberships)
	u, err := w.svc.GetUser(w.ctx, "acme", "dana", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "local", u.Origin)
	require.Equal(t, []tenancy.Membership{{ID: "servers", Origin: "local"}}, u.CustomerGroups)
	require.Contains(t, u.SecurityGroups, tenancy.Membership{ID: "rmm-technician", Origin: "local"})

	next := dashboard()
	next.Users[1].DisplayName = "dana.k@acme.example"
	next.Assignments = next.Assignments[:1]
	res := w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, []tenancy.ObjectRef{dana}, res.Detached)
	require.Empty(t, res.Users.Updated)
	require.Empty(t, res.AssignmentsRemoved)
	require.Empty(t, res.RoleAssignmentsRemoved)
	u, err = w.svc.GetUser(w.ctx, "acme", "dana", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "dana@acme.example", u.DisplayName)
	require.True(t, w.reaches("dana", "zylker"))

	// The dashboard drops her role: its security group goes (it holds none of its users).
	next.Users[1].Roles = nil
	res = w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, []tenancy.ObjectRef{dana}, res.Detached)
	_, err = w.svc.GetSecurityGroup(w.ctx, "acme", "rmm-technician")
	requireKind(t, err, fault.NotFound, "rmm-technician")
}

// Bad ids, unknown objects and local ones are refused, and nothing is written.
func TestSync_DetachRefusesWhatItCannotDetach(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	before := w.dump()
	for _, tc := range []struct {
		ref  tenancy.ObjectRef
		kind fault.Kind
		msg  string
	}{
		{tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "Servers!"}, fault.Invalid, "customerGroupId"},
		{tenancy.ObjectRef{Kind: tenancy.KindUser, ID: ""}, fault.Invalid, "userId"},
		{tenancy.ObjectRef{Kind: tenancy.KindCustomer, ID: "zylker"}, fault.Invalid, "kind"},
		{tenancy.ObjectRef{Kind: tenancy.KindSecurityGroup, ID: "rmm-auditor"}, fault.NotFound, `security group "rmm-auditor" not found`},
		{tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "zoho"}, fault.Blocked, "ALREADY_LOCAL"},
		{tenancy.ObjectRef{Kind: tenancy.KindUser, ID: "alex"}, fault.Blocked, `user "alex" is local already`},
	} {
		_, err := w.svc.Detach(w.ctx, "acme", tc.ref)
		requireKind(t, err, tc.kind, tc.msg)
	}
	require.Equal(t, before, w.dump(), "a refused detach writes nothing")
	_, err := w.svc.Detach(w.ctx, "acme", tenancy.ObjectRef{Kind: tenancy.KindSecurityGroup, ID: "rmm-technician"})
	require.NoError(t, err)
	before = w.dump()
	_, err = w.svc.Detach(w.ctx, "acme", tenancy.ObjectRef{Kind: tenancy.KindSecurityGroup, ID: "rmm-technician"})
	requireKind(t, err, fault.Blocked, "ALREADY_LOCAL")
	require.Equal(t, before, w.dump())
}
