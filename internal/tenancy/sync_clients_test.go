package tenancy_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// withClients is the dashboard with its client logins (seed 002: "All logins
// are imported from the Monitoring Dashboard (staff and client)"): Zara of
// Zylker and Gil of Globex.
func withClients() tenancy.SyncSnapshot {
	snap := dashboard()
	snap.ClientLogins = []tenancy.SyncClientLogin{
		{ID: "zara", DisplayName: "zara@zylker.example", CustomerID: "zylker"},
		{ID: "gil", DisplayName: "gil@globex.example", CustomerID: "globex", ExternalID: "gil-sub"},
	}
	return snap
}

func (w *world) endCustomerUsers(customer string) []tenancy.EndCustomerUser {
	w.t.Helper()
	users, err := w.svc.ListEndCustomerUsers(w.ctx, "acme", customer)
	require.NoError(w.t, err)
	return users
}

// Seed 002 and 001: the dashboard's client logins arrive as end-customer
// users of their customers with the portal role; the system renames, moves
// and removes them; a role given here is local and stays.
func TestSync_ClientLoginsArriveAsEndCustomerUsersWithThePortalRole(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	res := w.sync(withClients(), tenancy.SyncOptions{})
	require.Equal(t, []string{"gil", "zara"}, res.ClientLogins.Created)
	require.Equal(t, []tenancy.EndCustomerUser{{UserID: "zara", DisplayName: "zara@zylker.example", CustomerID: "zylker", Role: "portal"}}, w.endCustomerUsers("zylker"))
	require.Equal(t, []tenancy.EndCustomerUser{{UserID: "gil", DisplayName: "gil@globex.example", CustomerID: "globex", Role: "portal", ExternalID: "gil-sub"}}, w.endCustomerUsers("globex"))

	// The MSP lets roles be chosen and makes Zara Zylker's administrator:
	// her role is local, the next sync leaves it.
	_, err := w.svc.UpdateSettings(w.ctx, "acme", tenancy.Settings{EndCustomerRoleSelection: true, SyncCreatesCustomers: true})
	require.NoError(t, err)
	_, err = w.svc.SetEndCustomerRole(w.ctx, "acme", "zylker", "zara", "admin")
	require.NoError(t, err)
	next := withClients()
	next.ClientLogins[0].DisplayName = "zara.k@zylker.example"
	next.ClientLogins[1].CustomerID = "initech"
	res = w.sync(next, tenancy.SyncOptions{})
	require.Empty(t, res.ClientLogins.Created)
	require.Equal(t, []string{"gil", "zara"}, res.ClientLogins.Updated)
	require.Equal(t, []tenancy.EndCustomerUser{{UserID: "zara", DisplayName: "zara.k@zylker.example", CustomerID: "zylker", Role: "admin"}}, w.endCustomerUsers("zylker"))
	require.Empty(t, w.endCustomerUsers("globex"), "Gil moved to Initech in the dashboard")
	require.Equal(t, []tenancy.EndCustomerUser{{UserID: "gil", DisplayName: "gil@globex.example", CustomerID: "initech", Role: "portal", ExternalID: "gil-sub"}}, w.endCustomerUsers("initech"))

	// The dashboard drops Gil: he goes; Zara stays.
	next.ClientLogins = next.ClientLogins[:1]
	res = w.sync(next, tenancy.SyncOptions{})
	require.Equal(t, []string{"gil"}, res.ClientLogins.Removed)
	require.Empty(t, w.endCustomerUsers("initech"))
	_, err = w.svc.GetUser(w.ctx, "acme", "gil", "", tenancy.ViewDefault)
	requireKind(t, err, fault.NotFound, "gil")
}

// Seed 003's guard holds for a sync: Zara, Zylker's last built-in
// administrator, has switched partner access off; the dashboard dropping
// her cannot remove her.
func TestSync_AClientLoginWhoIsTheLastAdministratorOfAClosedDomainStays(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.sync(withClients(), tenancy.SyncOptions{})
	_, err := w.svc.UpdateSettings(w.ctx, "acme", tenancy.Settings{EndCustomerRoleSelection: true, SyncCreatesCustomers: true})
	require.NoError(t, err)
	_, err = w.svc.SetEndCustomerRole(w.ctx, "acme", "zylker", "zara", "admin")
	require.NoError(t, err)
	_, err = w.svc.SetPartnerAccess(as(w.ctx, "zara"), "acme", "zylker", false)
	require.NoError(t, err)
	before := w.dump()
	next := withClients()
	next.ClientLogins = next.ClientLogins[1:]
	_, err = w.svc.RunSync(w.ctx, "acme", "rmm", next, tenancy.SyncOptions{})
	requireKind(t, err, fault.Blocked, "LAST_BUILTIN_ADMINISTRATOR")
	require.Equal(t, before, w.dump(), "a refused sync writes nothing")
}

// A customer the dashboard names that does not exist here is created with
// the dashboard as its origin (its name from the snapshot's customers), or,
// with syncCreatesCustomers off, left out; a customer made here is never
// deleted by a sync.
func TestSync_CustomersTheDashboardNamesAreCreatedUnlessTheMSPSaysNo(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	snap := withClients()
	snap.CustomerGroups[0].Customers = []string{"zylker", "hooli"}
	snap.ClientLogins = append(snap.ClientLogins, tenancy.SyncClientLogin{ID: "pia", DisplayName: "pia@piedpiper.example", CustomerID: "piedpiper"})
	snap.Customers = []tenancy.SyncCustomer{{ID: "hooli", DisplayName: "Hooli"}}

	off := tenancy.Settings{SyncCreatesCustomers: false}
	_, err := w.svc.UpdateSettings(w.ctx, "acme", off)
	require.NoError(t, err)
	settings, err := w.svc.GetSettings(w.ctx, "acme")
	require.NoError(t, err)
	require.False(t, settings.SyncCreatesCustomers)
	before := w.dump()
	_, err = w.svc.RunSync(w.ctx, "acme", "rmm", snap, tenancy.SyncOptions{})
	requireKind(t, err, fault.Invalid, `snapshot.clientLogins[2].customerId: customer "piedpiper" not found here`)
	require.Equal(t, before, w.dump())
	snap.ClientLogins = snap.ClientLogins[:2]
	res := w.sync(snap, tenancy.SyncOptions{})
	require.Empty(t, res.Customers.Created)
	require.Equal(t, []tenancy.SyncSkip{{CustomerGroupID: "servers", CustomerID: "hooli", Reason: tenancy.SkipCustomerNotFound}}, res.Skipped)

	_, err = w.svc.UpdateSettings(w.ctx, "acme", tenancy.Settings{SyncCreatesCustomers: true})
	require.NoError(t, err)
	snap = withClients()
	snap.CustomerGroups[0].Customers = []string{"zylker", "hooli"}
	snap.ClientLogins = append(snap.ClientLogins, tenancy.SyncClientLogin{ID: "pia", DisplayName: "pia@piedpiper.example", CustomerID: "piedpiper"})
	snap.Customers = []tenancy.SyncCustomer{{ID: "hooli", DisplayName: "Hooli"}}
	res = w.sync(snap, tenancy.SyncOptions{})
	require.Equal(t, []string{"hooli", "piedpiper"}, res.Customers.Created)
	require.Empty(t, res.Skipped)
	require.True(t, w.reaches("dana", "hooli"))
	hooli, err := w.svc.GetCustomer(w.ctx, "acme", "hooli", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "Hooli", hooli.DisplayName)
	pied, err := w.svc.GetCustomer(w.ctx, "acme", "piedpiper", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Equal(t, "piedpiper", pied.DisplayName, "no name in the snapshot: its id")
	require.Equal(t, "pia", w.endCustomerUsers("piedpiper")[0].UserID)

	// The dashboard renames Hooli and drops every customer: none is deleted.
	snap.Customers[0].DisplayName = "Hooli Inc."
	res = w.sync(snap, tenancy.SyncOptions{})
	require.Equal(t, []string{"hooli"}, res.Customers.Updated)
	res = w.sync(tenancy.SyncSnapshot{MSPID: "acme"}, tenancy.SyncOptions{AllowMassRemoval: true})
	require.Empty(t, res.Customers.Removed)
	for _, c := range []string{"zylker", "hooli", "piedpiper"} {
		_, err := w.svc.GetCustomer(w.ctx, "acme", c, "", tenancy.ViewDefault)
		require.NoError(t, err, c)
	}
}

// Bad client logins are refused whole, naming the entry, writing nothing;
// mass-removal protection counts client logins.
func TestSync_BadClientLoginsAreRefusedNamingTheEntry(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	cases := map[string]struct {
		edit func(*tenancy.SyncSnapshot)
		kind fault.Kind
		msg  string
	}{
		"another MSP's customer": {func(s *tenancy.SyncSnapshot) { s.ClientLogins[1].CustomerID = "globex/zylker" }, fault.Invalid, "snapshot.clientLogins[1].customerId"},
		"a staff login's id":     {func(s *tenancy.SyncSnapshot) { s.ClientLogins[1].ID = "dana" }, fault.Invalid, `snapshot.clientLogins[1].userId: "dana" is among the snapshot's users too`},
		"twice":                  {func(s *tenancy.SyncSnapshot) { s.ClientLogins[1].ID = "zara" }, fault.Invalid, `snapshot.clientLogins[1].userId: client login "zara" appears twice`},
		"a local staff user":     {func(s *tenancy.SyncSnapshot) { s.ClientLogins[1].ID = "bob" }, fault.Invalid, `snapshot.clientLogins[1].userId: "bob" is an MSP user here`},
		"no display name":        {func(s *tenancy.SyncSnapshot) { s.ClientLogins[0].DisplayName = "" }, fault.Invalid, "snapshot.clientLogins[0].displayName"},
		"a shared externalId":    {func(s *tenancy.SyncSnapshot) { s.ClientLogins[0].ExternalID = "gil-sub" }, fault.Invalid, "snapshot.clientLogins[1].externalId"},
		"in a customer group":    {func(s *tenancy.SyncSnapshot) { s.Assignments[0].UserID = "zara" }, fault.Invalid, `snapshot.assignments[0].userId: "zara" is a client login`},
		"customers twice":        {func(s *tenancy.SyncSnapshot) { s.Customers = []tenancy.SyncCustomer{{"a", "A"}, {"a", "A"}} }, fault.Invalid, "snapshot.customers[1].customerId"},
	}
	before := w.dump()
	for name, c := range cases {
		snap := withClients()
		c.edit(&snap)
		_, err := w.svc.RunSync(w.ctx, "acme", "rmm", snap, tenancy.SyncOptions{})
		requireKind(t, err, c.kind, c.msg)
		require.Equal(t, before, w.dump(), name)
	}

	// Twelve client logins, then a snapshot without them: MASS_REMOVAL.
	snap := dashboard()
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12"} {
		snap.ClientLogins = append(snap.ClientLogins, tenancy.SyncClientLogin{ID: id, DisplayName: id, CustomerID: "zylker"})
	}
	w.sync(snap, tenancy.SyncOptions{})
	before = w.dump()
	_, err := w.svc.RunSync(w.ctx, "acme", "rmm", dashboard(), tenancy.SyncOptions{})
	requireKind(t, err, fault.Blocked, "MASS_REMOVAL")
	require.Equal(t, before, w.dump())
}

// The change feed shows the dashboard's client logins as they come and go:
// the sync that imports Zara writes her (her name, her customer's portal
// role) with the dashboard as its origin; the one that no longer lists her
// deletes them.
func TestSync_TheFeedShowsTheDashboardsClientLoginsComeAndGo(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	f := w.feed("")
	w.sync(withClients(), tenancy.SyncOptions{})
	c := next(t, f)
	require.Equal(t, "rmm", c.Origin)
	require.Contains(t, c.Relationships, tenancy.RelationshipChange{Operation: tenancy.ChangeTouch, Resource: "customer:zylker", Relation: "end_customer_portal", Subject: "user:zara"})
	require.True(t, slices.ContainsFunc(c.Relationships, func(r tenancy.RelationshipChange) bool {
		return r.Operation == tenancy.ChangeTouch && r.Resource == "user:zara" && r.Relation == "attributes" && r.DisplayName == "zara@zylker.example"
	}), "her name, %v", c.Relationships)
	for _, e := range c.Events {
		require.NotEqual(t, "zara", e.UserID, "a client login is no MSP user: no user event")
	}

	next2 := withClients()
	next2.ClientLogins = next2.ClientLogins[1:]
	w.sync(next2, tenancy.SyncOptions{})
	c = next(t, f)
	require.Equal(t, "rmm", c.Origin)
	require.Contains(t, c.Relationships, tenancy.RelationshipChange{Operation: tenancy.ChangeDelete, Resource: "customer:zylker", Relation: "end_customer_portal", Subject: "user:zara"})
	require.True(t, slices.ContainsFunc(c.Relationships, func(r tenancy.RelationshipChange) bool {
		return r.Operation == tenancy.ChangeDelete && r.Resource == "user:zara" && r.Relation == "attributes"
	}), "she is gone, %v", c.Relationships)
}
