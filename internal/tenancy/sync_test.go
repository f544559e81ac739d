package tenancy_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// dashboard is seed 002's Monitoring Dashboard as acme's RMM exports it:
// Alex (a user made here and pushed to it) and Dana (made there) in its
// client access group Servers, which holds Zylker and Globex; Dana is a
// technician.
func dashboard() tenancy.SyncSnapshot {
	return tenancy.SyncSnapshot{
		MSPID: "acme",
		Users: []tenancy.SyncUser{
			{ID: "alex", DisplayName: "alex@acme.example"},
			{ID: "dana", DisplayName: "dana@acme.example", Roles: []string{"technician"}},
		},
		CustomerGroups: []tenancy.SyncCustomerGroup{{ID: "servers", DisplayName: "Servers", Customers: []string{"zylker", "globex"}}},
		Assignments:    []tenancy.Assignment{{UserID: "alex", CustomerGroupID: "servers"}, {UserID: "dana", CustomerGroupID: "servers"}},
	}
}

func (w *world) sync(snap tenancy.SyncSnapshot, opts tenancy.SyncOptions) *tenancy.SyncResult {
	w.t.Helper()
	res, err := w.svc.RunSync(w.ctx, "acme", "rmm", snap, opts)
	require.NoError(w.t, err)
	return res
}

// Seed 002: groups that came from the monitoring system stay synchronized;
// groups created here stay local; each user, group and association knows its
// origin; a change made in the dashboard arrives only with a sync.
func TestSync_TheDashboardsGroupsFollowItAndLocalGroupsStayLocal(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "initech")
	w.editUser("alex", "zoho")

	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Equal(t, []string{"dana"}, res.Users.Created)
	require.Equal(t, []string{"servers"}, res.CustomerGroups.Created)
	require.Equal(t, []tenancy.Assignment{{UserID: "alex", CustomerGroupID: "servers"}, {UserID: "dana", CustomerGroupID: "servers"}}, res.AssignmentsAdded)
	require.Equal(t, []tenancy.RoleAssignment{{UserID: "dana", RoleID: "technician"}}, res.RoleAssignmentsAdded)
	require.Equal(t, []tenancy.Pair{pair("alex", "globex"), pair("dana", "globex"), pair("dana", "zylker")}, res.Associated)
	require.NotEmpty(t, res.WrittenAt)
	require.Equal(t, 1, res.Writes)

	alex, err := w.svc.GetUser(w.ctx, "acme", "alex", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "local", alex.Origin, "a user made here stays local when the dashboard knows him too")
	require.Equal(t, "alex", alex.DisplayName)
	require.Equal(t, []tenancy.Membership{{ID: "servers", Origin: "rmm"}, {ID: "zoho", Origin: "local"}}, alex.CustomerGroups)
	dana, err := w.svc.GetUser(w.ctx, "acme", "dana", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "rmm", dana.Origin)
	require.Equal(t, "dana@acme.example", dana.DisplayName)
	require.Contains(t, dana.SecurityGroups, tenancy.Membership{ID: "rmm-technician", Origin: "rmm"})
	zoho, err := w.svc.GetCustomerGroup(w.ctx, "acme", "zoho", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "local", zoho.Origin)
	servers, err := w.svc.GetCustomerGroup(w.ctx, "acme", "servers", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "rmm", servers.Origin)
	require.Equal(t, []tenancy.Membership{{ID: "alex", Origin: "rmm"}, {ID: "dana", Origin: "rmm"}}, servers.Members)

	// In the dashboard Globex leaves Servers: nothing changes here until
	// someone synchronizes.
	next := dashboard()
	next.CustomerGroups[0].Customers = []string{"zylker"}
	require.True(t, w.reaches("dana", "globex"))
	res = w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, []string{"servers"}, res.CustomerGroups.Updated)
	require.Equal(t, []tenancy.Pair{pair("alex", "globex"), pair("dana", "globex")}, res.Dissociated)
	require.False(t, w.reaches("dana", "globex"))
	require.True(t, w.reaches("dana", "zylker"))

	// The local group Zoho and Alex's local membership were never touched.
	require.True(t, w.reaches("alex", "initech"))
	zoho, err = w.svc.GetCustomerGroup(w.ctx, "acme", "zoho", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, []tenancy.Membership{{ID: "alex", Origin: "local"}}, zoho.Members)

	// The same snapshot again changes nothing.
	res = w.sync(next, tenancy.SyncOptions{})
	require.Empty(t, res.Users.Created)
	require.Empty(t, res.CustomerGroups.Updated)
	require.Empty(t, res.AssignmentsAdded)
	require.Empty(t, res.Associated)
	require.Empty(t, res.Dissociated)
}

// A membership added here to the dashboard's group is local: the sync leaves
// it, even when the dashboard assigns the same user later and drops him again.
func TestSync_AMembershipAddedHereStaysLocal(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	w.editUser("bob", "servers")
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindCustomerGroup, ID: "servers"}}, w.driftObjects(), "a local edit of the dashboard's group")
	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Empty(t, res.AssignmentsRemoved)
	require.Empty(t, res.Overwrites, "the sync changes nothing of Servers")
	require.Empty(t, w.driftObjects())
	require.True(t, w.reaches("bob", "zylker"))
	g, err := w.svc.GetCustomerGroup(w.ctx, "acme", "servers", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Contains(t, g.Members, tenancy.Membership{ID: "bob", Origin: "local"})
}

func (w *world) driftObjects() []tenancy.ObjectRef {
	w.t.Helper()
	d, err := w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(w.t, err)
	var out []tenancy.ObjectRef
	for _, o := range d.Objects {
		out = append(out, o.ObjectRef)
	}
	return out
}

// A local edit of the dashboard's objects is allowed but marked; the next
// sync says what it will overwrite, overwrites it, and clears the marks.
func TestSync_LocalEditsOfTheDashboardsObjectsAreDriftTheNextSyncOverwrites(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	require.Empty(t, w.driftObjects())

	w.editGroup("servers", "zylker", "initech")
	w.editUser("dana")
	_, err := w.svc.DeleteUser(w.ctx, "acme", "alex")
	require.NoError(t, err)
	w.editGroup("zoho", "globex") // a local group: no drift
	d, err := w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	servers := tenancy.DriftedObject{ObjectRef: tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "servers"}, MembersRemoved: []string{"dana"},
		CustomersAdded: []string{"initech"}, CustomersRemoved: []string{"globex"}}
	require.Equal(t, []tenancy.DriftedObject{
		servers,
		{ObjectRef: tenancy.ObjectRef{Kind: tenancy.KindUser, ID: "alex"}, Deleted: true},
	}, d.Objects, "alex is local but the dashboard lists him: deleted here for good; dana's membership belongs to Servers")
	require.NotEmpty(t, d.LastSyncedAt)

	preview := w.sync(dashboard(), tenancy.SyncOptions{ValidateOnly: true})
	require.Empty(t, preview.WrittenAt)
	require.Equal(t, []tenancy.DriftedObject{servers}, preview.Overwrites, "the sync puts Dana and Globex back, and takes Initech out")
	require.Equal(t, []tenancy.Pair{pair("dana", "globex"), pair("dana", "zylker")}, preview.Associated)
	require.Len(t, w.driftObjects(), 2, "validateOnly writes nothing")

	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Equal(t, preview.Overwrites, res.Overwrites)
	require.Equal(t, preview.Associated, res.Associated)
	require.Empty(t, res.Users.Created, "seed 002: Delete is a permanent action; Alex, deleted here, does not come back")
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindUser, ID: "alex"}}, res.DeletedHere)
	require.Equal(t, []tenancy.Assignment{{UserID: "dana", CustomerGroupID: "servers"}}, res.AssignmentsAdded)
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindUser, ID: "alex"}}, w.driftObjects(), "deleted here, until restored or dropped")
	require.True(t, w.reaches("dana", "globex"))
	require.False(t, w.reaches("dana", "initech"))
	_, err = w.svc.GetUser(w.ctx, "acme", "alex", "", tenancy.ViewDefault)
	requireKind(t, err, fault.NotFound, "alex")
}

// Seed 002: "Delete is a permanent action". Dana, one of the dashboard's
// users, deleted here, stays deleted: the syncs that still list her report
// her, until an admin restores her; then the next sync creates her again.
func TestSync_AUserOfTheDashboardDeletedHereStaysDeletedUntilRestored(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	_, err := w.svc.DeleteUser(w.ctx, "acme", "dana")
	require.NoError(t, err)
	d, err := w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	require.Contains(t, d.Objects, tenancy.DriftedObject{ObjectRef: tenancy.ObjectRef{Kind: tenancy.KindUser, ID: "dana"}, Deleted: true})

	dana := tenancy.ObjectRef{Kind: tenancy.KindUser, ID: "dana"}
	for range 2 {
		res := w.sync(dashboard(), tenancy.SyncOptions{})
		require.Empty(t, res.Users.Created)
		require.Empty(t, res.RoleAssignmentsAdded, "nor her assignments")
		require.Equal(t, []tenancy.ObjectRef{dana}, res.DeletedHere)
		_, err := w.svc.GetUser(w.ctx, "acme", "dana", "", tenancy.ViewDefault)
		requireKind(t, err, fault.NotFound, "dana")
	}

	require.NoError(t, w.svc.RestoreDeletedHere(w.ctx, "acme", "rmm", dana))
	requireKind(t, w.svc.RestoreDeletedHere(w.ctx, "acme", "rmm", dana), fault.NotFound, "not marked deleted here")
	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Equal(t, []string{"dana"}, res.Users.Created)
	require.Empty(t, res.DeletedHere)
	require.True(t, w.reaches("dana", "zylker"))
}

// A deletion here sticks until the system drops what it deleted: then the
// mark goes, and a later snapshot that lists it again creates it.
func TestSync_TheDeletedHereMarkGoesWhenTheDashboardDropsIt(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(withClients(), tenancy.SyncOptions{})
	_, err := w.svc.DeleteCustomerGroup(w.ctx, "acme", "servers")
	require.NoError(t, err)
	require.NoError(t, w.svc.DeleteEndCustomerUser(w.ctx, "acme", "zylker", "zara"))
	res := w.sync(withClients(), tenancy.SyncOptions{})
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindCustomerGroup, ID: "servers"}, {Kind: tenancy.KindUser, ID: "zara"}}, res.DeletedHere)
	require.Empty(t, res.AssignmentsAdded)
	require.Empty(t, res.ClientLogins.Created)

	dropped := withClients()
	dropped.CustomerGroups, dropped.Assignments, dropped.ClientLogins = nil, nil, dropped.ClientLogins[1:]
	res = w.sync(dropped, tenancy.SyncOptions{})
	require.Empty(t, res.DeletedHere)
	res = w.sync(withClients(), tenancy.SyncOptions{})
	require.Equal(t, []string{"servers"}, res.CustomerGroups.Created)
	require.Equal(t, []string{"zara"}, res.ClientLogins.Created)
}

// The dashboard's roles: Dana moves from technician to read only; the
// technician group the sync made for her goes when no one holds it.
func TestSync_RolesFollowTheDashboard(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	next := dashboard()
	next.Users[1].Roles = []string{"read_only"}
	res := w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, []tenancy.RoleAssignment{{UserID: "dana", RoleID: "read_only"}}, res.RoleAssignmentsAdded)
	require.Equal(t, []tenancy.RoleAssignment{{UserID: "dana", RoleID: "technician"}}, res.RoleAssignmentsRemoved)
	_, err := w.svc.GetSecurityGroup(w.ctx, "acme", "rmm-technician")
	requireKind(t, err, fault.NotFound, "rmm-technician")
	g, err := w.svc.GetSecurityGroup(w.ctx, "acme", "rmm-read_only")
	require.NoError(t, err)
	require.Equal(t, "rmm", g.Origin)
	require.Equal(t, "read_only", g.RoleID)
	require.Equal(t, []string{"dana"}, g.Members)
}

// The guards of the core apply: a sync that would dissociate an Account
// Contact is refused whole, with the blocks listed.
func TestSync_RefusedWholeWhenItWouldDissociateAnAccountContact(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	_, err := w.svc.SetAccountContact(w.ctx, "acme", "globex", "dana")
	require.NoError(t, err)
	before := w.dump()

	next := dashboard()
	next.CustomerGroups[0].Customers = []string{"zylker"}
	next.Users = append(next.Users, tenancy.SyncUser{ID: "erin", DisplayName: "erin@acme.example"})
	_, err = w.svc.RunSync(w.ctx, "acme", "rmm", next, tenancy.SyncOptions{})
	require.Equal(t, []tenancy.Block{{UserID: "dana", CustomerID: "globex", Reason: tenancy.BlockAccountContact}}, blocksOf(t, err))
	require.Equal(t, before, w.dump(), "a refused sync writes nothing")
}

// Bad snapshots are refused with the field named, and nothing is written.
func TestSync_BadSnapshotsWriteNothing(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.msp("globex-msp", []string{"gina"}, []string{"hooli"}, []string{"west"})
	w.sync(dashboard(), tenancy.SyncOptions{})
	before := w.dump()
	edit := func(f func(*tenancy.SyncSnapshot)) tenancy.SyncSnapshot {
		s := dashboard()
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name   string
		system string
		snap   tenancy.SyncSnapshot
		kind   fault.Kind
		msg    string
	}{
		{"another MSP's snapshot", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.MSPID = "globex-msp" }), fault.Invalid, `snapshot.mspId: the snapshot is for MSP "globex-msp", not "acme"`},
		{"no MSP named", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.MSPID = "" }), fault.Invalid, "snapshot.mspId is required"},
		{"a bad system", "RMM!", dashboard(), fault.Invalid, "system"},
		{"the local origin as a system", "local", dashboard(), fault.Invalid, `"local" is the origin of what is made here`},
		{"a bad user id", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Users[0].ID = "Alex" }), fault.Invalid, "snapshot.users[0].userId"},
		{"a user twice", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Users[1].ID = "alex" }), fault.Invalid, `snapshot.users[1].userId: user "alex" appears twice`},
		{"no display name", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Users[1].DisplayName = " " }), fault.Invalid, "snapshot.users[1].displayName"},
		{"a group twice", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.CustomerGroups = append(s.CustomerGroups, s.CustomerGroups[0]) }), fault.Invalid, `customer group "servers" appears twice`},
		{"a customer twice", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.CustomerGroups[0].Customers = []string{"zylker", "zylker"} }), fault.Invalid, "snapshot.customerGroups[0].customers"},
		{"an assignment twice", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Assignments = append(s.Assignments, s.Assignments[0]) }), fault.Invalid, "snapshot.assignments[2]"},
		{"an assignment of a stranger", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Assignments[0].UserID = "zed" }), fault.Invalid, `user "zed" is not among the snapshot's users`},
		{"an assignment to a local group", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Assignments[0].CustomerGroupID = "zoho" }), fault.Invalid, "only the system's own groups are synced"},
		{"the owner's role", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Users[0].Roles = []string{"account_owner"} }), fault.Invalid, "never synced"},
		{"an unknown role", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.Users[0].Roles = []string{"wizard"} }), fault.NotFound, `role "wizard" not found`},
		{"a local group's id", "rmm", edit(func(s *tenancy.SyncSnapshot) { s.CustomerGroups[0].ID = "zoho"; s.Assignments = nil }), fault.AlreadyExists, `customer group "zoho" exists here with origin "local"`},
		{"a user of another system's", "psa", dashboard(), fault.AlreadyExists, `customer group "servers" exists here with origin "rmm"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.RunSync(w.ctx, "acme", tc.system, tc.snap, tenancy.SyncOptions{})
			requireKind(t, err, tc.kind, tc.msg)
			require.Equal(t, before, w.dump())
		})
	}
}

// Globex is deleted here while the dashboard's Servers still holds it: every
// later sync leaves Globex out of Servers, names it as skipped (deleted
// here), and applies the rest. Hooli, a customer of another MSP's, is
// another customer here: the sync creates acme's own Hooli.
func TestSync_ACustomerDeletedHereIsSkippedAndTheRestApplies(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.msp("globex-msp", []string{"gina"}, []string{"hooli"}, nil)
	w.sync(dashboard(), tenancy.SyncOptions{})
	_, err := w.svc.DeleteCustomer(w.ctx, "acme", "globex")
	require.NoError(t, err)

	next := dashboard()
	next.Users = append(next.Users, tenancy.SyncUser{ID: "erin", DisplayName: "erin@acme.example"})
	next.Assignments = append(next.Assignments, tenancy.Assignment{UserID: "erin", CustomerGroupID: "servers"})
	next.CustomerGroups[0].Customers = append(next.CustomerGroups[0].Customers, "hooli")
	skipped := []tenancy.SyncSkip{{CustomerGroupID: "servers", CustomerID: "globex", Reason: tenancy.SkipDeletedHere}}
	preview := w.sync(next, tenancy.SyncOptions{ValidateOnly: true})
	require.Equal(t, skipped, preview.Skipped)
	res := w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, skipped, res.Skipped)
	require.Equal(t, []tenancy.ObjectRef{{Kind: tenancy.KindCustomer, ID: "globex"}}, res.DeletedHere)
	require.Equal(t, []string{"hooli"}, res.Customers.Created)
	require.Equal(t, []string{"erin"}, res.Users.Created)
	require.Contains(t, res.Associated, pair("erin", "zylker"))
	require.NotContains(t, res.Associated, pair("erin", "globex"))
	require.True(t, w.reaches("erin", "zylker"))
	require.Equal(t, skipped, w.sync(next, tenancy.SyncOptions{}).Skipped, "and at every sync after")
}

// An export that lost most of the dashboard's users and groups must not wipe
// the MSP: past the threshold the sync needs explicit consent.
func TestSync_MassRemovalNeedsConsent(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	snap := dashboard()
	for _, id := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"} {
		snap.Users = append(snap.Users, tenancy.SyncUser{ID: id, DisplayName: id})
		snap.Assignments = append(snap.Assignments, tenancy.Assignment{UserID: id, CustomerGroupID: "servers"})
	}
	w.sync(snap, tenancy.SyncOptions{})
	before := w.dump()

	empty := tenancy.SyncSnapshot{MSPID: "acme"}
	_, err := w.svc.RunSync(w.ctx, "acme", "rmm", empty, tenancy.SyncOptions{})
	requireKind(t, err, fault.Blocked, "MASS_REMOVAL")
	require.Equal(t, before, w.dump())

	res := w.sync(empty, tenancy.SyncOptions{AllowMassRemoval: true})
	require.Len(t, res.Users.Removed, 9, "dana and u1..u8; alex is local")
	require.Equal(t, []string{"servers"}, res.CustomerGroups.Removed)
	_, err = w.svc.GetUser(w.ctx, "acme", "u1", "", tenancy.ViewDefault)
	requireKind(t, err, fault.NotFound, "u1")
	_, err = w.svc.GetUser(w.ctx, "acme", "alex", "", tenancy.ViewDefault)
	require.NoError(t, err, "a local user survives every sync")
}

// A sync larger than one write's limit is written as a chain of writes, with
// the same outcome as one.
func TestSync_LargerThanOneWriteIsChained(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.svc.SetMaxUpdatesPerWrite(5, 3)
	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Greater(t, res.Writes, 3)
	require.Equal(t, []tenancy.Pair{pair("alex", "globex"), pair("alex", "zylker"), pair("dana", "globex"), pair("dana", "zylker")}, res.Associated)
	res = w.sync(dashboard(), tenancy.SyncOptions{})
	require.Empty(t, res.Associated)
	require.Equal(t, 1, res.Writes)
}

// A username changed in the dashboard renames its user here.
func TestSync_ARenameInTheDashboardRenamesItsUser(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	next := dashboard()
	next.Users[1].DisplayName = "dana.new@acme.example"
	next.Users[0].DisplayName = "alex.new@acme.example"
	res := w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, []string{"dana"}, res.Users.Updated, "Alex is local: his name here is his own")
	dana, err := w.svc.GetUser(w.ctx, "acme", "dana", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "dana.new@acme.example", dana.DisplayName)
}

// The dashboard's own changes reach the change feed marked with its origin,
// so that its automatic direction can skip them; a local edit is "local".
func TestSync_TheFeedNamesTheDashboardAsTheOriginOfItsSync(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	f := w.feed("")
	w.sync(dashboard(), tenancy.SyncOptions{})
	c := next(t, f)
	require.Equal(t, "rmm", c.Origin)
	require.Contains(t, c.Events, tenancy.ChangeEvent{Kind: tenancy.UserCreated, UserID: "dana", DisplayName: "dana@acme.example"})
	w.editGroup("servers", "zylker")
	require.Equal(t, tenancy.OriginLocal, next(t, f).Origin)
}

// failingWrites fails the write calls whose numbers (from 1) are in fail.
type failingWrites struct {
	graph.Graph
	calls int
	fail  map[int]bool
}

func (f *failingWrites) Write(ctx context.Context, u []graph.Update, p []graph.Precondition) (graph.Revision, error) {
	f.calls++
	if f.fail[f.calls] {
		return "", fault.New(fault.Unavailable, "SpiceDB unavailable (injected)")
	}
	return f.Graph.Write(ctx, u, p)
}

// A chain of writes broken halfway (here with Dana half written: her
// relationships without her attributes) says the sync was partly written;
// the same sync run again completes it.
func TestSync_AChainBrokenHalfwayIsCompletedByRunningItAgain(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	failing := &failingWrites{Graph: w.g}
	svc := tenancy.New(failing)
	svc.SetMaxUpdatesPerWrite(5, 3)
	failing.fail = map[int]bool{failing.calls + 3: true}
	_, err := svc.RunSync(w.ctx, "acme", "rmm", dashboard(), tenancy.SyncOptions{})
	requireKind(t, err, fault.Unavailable, "the save was partly written: 2 of its")

	res, err := svc.RunSync(w.ctx, "acme", "rmm", dashboard(), tenancy.SyncOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, res.Users.Created)
	again := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Empty(t, again.Users.Created)
	require.Empty(t, again.AssignmentsAdded)
	require.Empty(t, again.RoleAssignmentsAdded)
	require.True(t, w.reaches("dana", "globex"))
	require.True(t, w.reaches("alex", "zylker"))
}

// Seed 002: drift says what was edited here. Servers, renamed here twice,
// with Dana (the dashboard's member) removed and Bob added here: drift names
// the dashboard's name and the one here, Bob added and Dana removed; the next
// sync says it puts back the name and Dana (Bob stays, local), and after it
// nothing has drifted.
func TestSync_DriftSaysWhatWasEditedHereAndTheSyncWhatItPutsBack(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	for _, name := range []string{"All servers", "Servers (here)"} {
		_, err := w.svc.RenameCustomerGroup(w.ctx, "acme", "servers", name)
		require.NoError(t, err)
	}
	w.editUser("dana")
	w.editUser("bob", "servers")

	d, err := w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	servers := tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "servers"}
	renamed := &tenancy.Renamed{Before: "Servers", After: "Servers (here)"}
	require.Equal(t, []tenancy.DriftedObject{{ObjectRef: servers, Renamed: renamed, MembersAdded: []string{"bob"}, MembersRemoved: []string{"dana"}}}, d.Objects,
		"the dashboard's name is the one before the first rename here")
	g, err := w.svc.GetCustomerGroup(w.ctx, "acme", "servers", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, []tenancy.Membership{{ID: "alex", Origin: "rmm"}, {ID: "bob", Origin: "local"}}, g.Members, "Dana's removal is kept for drift, not as a membership")

	want := []tenancy.DriftedObject{{ObjectRef: servers, Renamed: renamed, MembersRemoved: []string{"dana"}}}
	require.Equal(t, want, w.sync(dashboard(), tenancy.SyncOptions{ValidateOnly: true}).Overwrites)
	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Equal(t, want, res.Overwrites)
	require.Equal(t, []tenancy.Assignment{{UserID: "dana", CustomerGroupID: "servers"}}, res.AssignmentsAdded)
	require.Empty(t, w.driftObjects())
	g, err = w.svc.GetCustomerGroup(w.ctx, "acme", "servers", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "Servers", g.DisplayName)
	require.Equal(t, []tenancy.Membership{{ID: "alex", Origin: "rmm"}, {ID: "bob", Origin: "local"}, {ID: "dana", Origin: "rmm"}}, g.Members)

	// Dana removed here again, and the dashboard drops her too: nothing is
	// put back, and her removal's record goes with the sync.
	w.editUser("dana")
	next := dashboard()
	next.Assignments = next.Assignments[:1]
	res = w.sync(next, tenancy.SyncOptions{})
	require.Empty(t, res.Overwrites)
	require.Empty(t, res.AssignmentsRemoved, "she was removed here already")
	w.editUser("bob")
	d, err = w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	require.Equal(t, []tenancy.DriftedObject{{ObjectRef: servers}}, d.Objects, "Bob's removal is drift; Dana's record went with the sync")
}

// Seed 002, a customer group's customers: the dashboard's Servers holds
// Zylker and Globex, and "stays synchronized". Here Globex is taken out and
// Initech put in: drift says both, and so does the next sync, which puts
// the dashboard's list back. When the dashboard itself lists Initech by
// then, the sync keeps it and says only what it puts back.
func TestSync_DriftNamesTheCustomersPutInAndTakenOutOfTheDashboardsGroupHere(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	w.editGroup("servers", "zylker", "initech")

	d, err := w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	servers := tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "servers"}
	edited := []tenancy.DriftedObject{{ObjectRef: servers, CustomersAdded: []string{"initech"}, CustomersRemoved: []string{"globex"}}}
	require.Equal(t, edited, d.Objects)
	require.Equal(t, edited, w.sync(dashboard(), tenancy.SyncOptions{ValidateOnly: true}).Overwrites, "the sync takes Initech out and puts Globex back")
	res := w.sync(dashboard(), tenancy.SyncOptions{})
	require.Equal(t, edited, res.Overwrites)
	customersOf := func() []string {
		g, err := w.svc.GetCustomerGroup(w.ctx, "acme", "servers", "", tenancy.ViewDefault)
		require.NoError(t, err)
		return g.Customers
	}
	require.ElementsMatch(t, []string{"globex", "zylker"}, customersOf())
	require.Empty(t, w.driftObjects())

	// Taken out and put back here: no drift.
	w.editGroup("servers", "zylker")
	w.editGroup("servers", "zylker", "globex")
	d, err = w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	require.Equal(t, []tenancy.DriftedObject{{ObjectRef: servers}}, d.Objects, "edited, and as the dashboard has it")

	// Initech put in here, and the dashboard lists it too by its next sync,
	// which also drops Zylker: nothing of the edit is overwritten.
	w.editGroup("servers", "zylker", "globex", "initech")
	next := dashboard()
	next.CustomerGroups[0].Customers = []string{"globex", "initech"}
	res = w.sync(next, tenancy.SyncOptions{})
	require.Empty(t, res.Overwrites, "Initech is the dashboard's now")
	require.ElementsMatch(t, []string{"globex", "initech"}, customersOf())
	w.editGroup("servers", "globex")
	d, err = w.svc.Drift(w.ctx, "acme", "rmm")
	require.NoError(t, err)
	require.Equal(t, []tenancy.DriftedObject{{ObjectRef: servers, CustomersRemoved: []string{"initech"}}}, d.Objects, "drift compares with the dashboard's last list")

	// A customer deleted here leaves no record of the dashboard's list behind.
	_, err = w.svc.DeleteCustomer(w.ctx, "acme", "initech")
	require.NoError(t, err)
	for _, r := range w.dump() {
		require.NotContains(t, r, "system_customer:acme/initech")
		require.False(t, strings.Contains(r, "system_customer") && strings.HasSuffix(r, "customer:acme/initech"), r)
	}
}

// Detaching the dashboard's group makes its customers local too.
func TestSync_DetachingTheDashboardsGroupKeepsItsCustomersHere(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(dashboard(), tenancy.SyncOptions{})
	require.True(t, slices.ContainsFunc(w.dump(), func(r string) bool { return strings.Contains(r, "system_customer") }), "the sync records the dashboard's customers of Servers")
	det, err := w.svc.Detach(w.ctx, "acme", tenancy.ObjectRef{Kind: tenancy.KindCustomerGroup, ID: "servers"})
	require.NoError(t, err)
	require.Contains(t, det.Memberships, tenancy.ObjectRef{Kind: tenancy.KindCustomer, ID: "zylker"})
	require.Contains(t, det.Memberships, tenancy.ObjectRef{Kind: tenancy.KindUser, ID: "alex"})
	for _, r := range w.dump() {
		require.NotContains(t, r, "system_customer", "no marker is left")
	}
}
