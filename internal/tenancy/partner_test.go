package tenancy_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// partnerWorld is seed 003's cast in MSP acme: Pat is partner-role staff (the
// built-in partner group spans every customer), Gus a technician with no
// customer; Contoso's own administrator is Cara, Fabrikam's is Fred; the MSP's
// own domain acme-internal is administered by Adam, staff and a partner too.
func partnerWorld(t *testing.T) *world {
	w := newWorld(t)
	w.msp("acme", []string{"pat", "adam", "gus"}, []string{"contoso", "fabrikam", "acme-internal"}, nil)
	_, err := w.svc.SetSecurityGroupMembers(w.ctx, "acme", "partner", []string{"pat", "adam"}, tenancy.SaveOptions{})
	require.NoError(t, err)
	_, err = w.svc.UpdateSettings(w.ctx, "acme", tenancy.Settings{EndCustomerRoleSelection: true, OwnDomainCustomerID: "acme-internal"})
	require.NoError(t, err)
	for _, u := range []tenancy.EndCustomerUser{{UserID: "cara", CustomerID: "contoso"}, {UserID: "fred", CustomerID: "fabrikam"}, {UserID: "adam", CustomerID: "acme-internal"}} {
		_, err := w.svc.CreateEndCustomerUser(w.ctx, "acme", u.CustomerID, tenancy.EndCustomerUser{UserID: u.UserID, DisplayName: u.UserID, Role: "admin"})
		require.NoError(t, err)
	}
	return w
}

// as acts as user with his own credential (a user token).
func as(ctx context.Context, user string) context.Context {
	return tenancy.WithActor(ctx, tenancy.Actor{UserID: user, OwnCredential: true})
}

// onBehalfOf acts as a service acting for user (X-On-Behalf-Of): his rights,
// not his consent.
func onBehalfOf(ctx context.Context, user string) context.Context {
	return tenancy.WithActor(ctx, tenancy.Actor{UserID: user})
}

func (w *world) globalView(user, view string) []string {
	w.t.Helper()
	customers, _, _, err := w.svc.GlobalViewCustomers(as(w.ctx, user), "acme", view, tenancy.Page{}, "")
	require.NoError(w.t, err)
	var ids []string
	for _, c := range customers {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func (w *world) may(resource graph.Object, permission, user string) bool {
	w.t.Helper()
	ok, _, err := w.g.Check(w.ctx, []graph.Check{{Resource: resource, Permission: permission, Subject: graph.Object{Type: "user", ID: "acme/" + user}}}, graph.Full())
	require.NoError(w.t, err)
	return ok[0]
}

func customerObj(id string) graph.Object { return graph.Object{Type: "customer", ID: "acme/" + id} }

func TestPartnerLockout_PatLosesContosoUntilCaraReenablesIt(t *testing.T) {
	w := partnerWorld(t)
	ctx := w.ctx
	_, err := w.svc.LoginAs(as(ctx, "pat"), "acme", "contoso", "")
	require.NoError(t, err)
	for view := range tenancy.GlobalViews {
		require.Equal(t, []string{"acme-internal", "contoso", "fabrikam"}, w.globalView("pat", view), view)
	}

	// Only the customer's own administrator switches partner access.
	_, err = w.svc.SetPartnerAccess(as(ctx, "pat"), "acme", "contoso", false)
	requireKind(t, err, fault.PermissionDenied, "CUSTOMER_CONSENT_REQUIRED")
	_, err = w.svc.SetPartnerAccess(as(ctx, "cara"), "acme", "fabrikam", false)
	requireKind(t, err, fault.NotFound, "fabrikam")

	pa, err := w.svc.SetPartnerAccess(as(ctx, "cara"), "acme", "contoso", false)
	require.NoError(t, err)
	require.False(t, pa.Enabled)
	_, err = w.svc.LoginAs(as(ctx, "pat"), "acme", "contoso", "")
	requireKind(t, err, fault.PermissionDenied, "PARTNER_ACCESS_DISABLED")
	for view := range tenancy.GlobalViews {
		require.Equal(t, []string{"acme-internal", "fabrikam"}, w.globalView("pat", view), view)
		trusted, _, _, err := w.svc.GlobalViewCustomers(ctx, "acme", view, tenancy.Page{}, "")
		require.NoError(t, err)
		require.Len(t, trusted, 2, "a trusted service sees the open customers only")
	}
	// Cara, the domain's own administrator, still may.
	require.True(t, w.may(customerObj("contoso"), "builtin_administrator", "cara"))

	_, err = w.svc.SetPartnerAccess(as(ctx, "cara"), "acme", "contoso", true)
	require.NoError(t, err)
	_, err = w.svc.LoginAs(as(ctx, "pat"), "acme", "contoso", "")
	require.NoError(t, err)
	for view := range tenancy.GlobalViews {
		require.Equal(t, []string{"acme-internal", "contoso", "fabrikam"}, w.globalView("pat", view), view)
	}
}

func TestLoginAs_GusHoldsNoLoginAsAndLearnsNothingOfCustomersHeCannotSee(t *testing.T) {
	w := partnerWorld(t)
	_, err := w.svc.LoginAs(as(w.ctx, "gus"), "acme", "contoso", "")
	requireKind(t, err, fault.NotFound, "contoso")
	_, err = w.svc.SetSecurityGroupMembers(w.ctx, "acme", "read_only", []string{"gus"}, tenancy.SaveOptions{})
	require.NoError(t, err)
	// The read-only group spans each member's associated customers: associate Gus to Contoso.
	_, err = w.svc.EditCustomerPreferences(w.ctx, "acme", "contoso", nil, []string{"gus"}, tenancy.SaveOptions{AllowEmpty: true})
	require.NoError(t, err)
	_, err = w.svc.LoginAs(as(w.ctx, "gus"), "acme", "contoso", "")
	requireKind(t, err, fault.PermissionDenied, "NOT_PERMITTED")
}

// Consent is the customer's (as GDAP): its partner access and its answers to
// grant requests are decided by its own built-in administrator, with his own
// credential, and by nobody else — not the platform, not a service token,
// not a service acting on his behalf, not the MSP's staff.
func TestConsent_OnlyTheCustomersOwnAdministratorDecidesForIt(t *testing.T) {
	w := grantWorld(t, 24*time.Hour)
	ctx := w.ctx
	g, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 7})
	require.NoError(t, err)
	decisions := map[string]func(context.Context) error{
		"switch partner access off": func(ctx context.Context) error {
			_, err := w.svc.SetPartnerAccess(ctx, "acme", "fabrikam", false)
			return err
		},
		"approve the request": func(ctx context.Context) error { _, err := w.svc.ApproveGrant(ctx, "acme", g.ID); return err },
		"decline the request": func(ctx context.Context) error { _, err := w.svc.DeclineGrant(ctx, "acme", g.ID); return err },
	}
	callers := []struct {
		who   string
		ctx   context.Context
		actor string
	}{
		{"a trusted service (the platform, a service token)", ctx, ""},
		{"a service acting for Fred", onBehalfOf(ctx, "fred"), "fred"},
		{"the account owner", as(ctx, "olivia"), "olivia"},
		{"Pat, partner staff", as(ctx, "pat"), "pat"},
	}
	before := w.dump()
	for name, decide := range decisions {
		for _, c := range callers {
			err := decide(c.ctx)
			requireKind(t, err, fault.PermissionDenied, "CUSTOMER_CONSENT_REQUIRED")
			var f *fault.Error
			require.True(t, errors.As(err, &f))
			require.Equal(t, []tenancy.Block{{UserID: c.actor, CustomerID: "fabrikam", Reason: tenancy.BlockCustomerConsentRequired}}, f.Details, "%s: %s", name, c.who)
		}
		// Cara administers Contoso: Fabrikam does not exist for her.
		requireKind(t, decide(as(ctx, "cara")), fault.NotFound, "not found")
	}
	require.Equal(t, before, w.dump(), "a refused decision writes nothing")

	approved, err := w.svc.ApproveGrant(as(ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	require.Equal(t, "fred", approved.DecidedBy)
	_, err = w.svc.SetPartnerAccess(as(ctx, "fred"), "acme", "fabrikam", false)
	require.NoError(t, err)

	// Revoking: the MSP (grants.manage) may; from the customer's side, only with its consent.
	_, err = w.svc.RevokeGrant(onBehalfOf(ctx, "fred"), "acme", g.ID)
	requireKind(t, err, fault.PermissionDenied, "CUSTOMER_CONSENT_REQUIRED")
	revoked, err := w.svc.RevokeGrant(as(ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	require.Equal(t, "fred", revoked.DecidedBy)
	g, err = w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 7})
	require.NoError(t, err)
	_, err = w.svc.ApproveGrant(as(ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	revoked, err = w.svc.RevokeGrant(onBehalfOf(ctx, "olivia"), "acme", g.ID)
	require.NoError(t, err, "the MSP ends its own grant")
	require.Equal(t, "olivia", revoked.DecidedBy)
}

func TestPartnerAccess_TheLastBuiltinAdministratorStaysWhileItIsOff(t *testing.T) {
	w := partnerWorld(t)
	ctx := w.ctx
	_, err := w.svc.SetPartnerAccess(as(ctx, "cara"), "acme", "contoso", false)
	require.NoError(t, err)
	before := w.dump()
	_, err = w.svc.SetEndCustomerRole(ctx, "acme", "contoso", "cara", "read_only")
	requireKind(t, err, fault.Blocked, "LAST_BUILTIN_ADMINISTRATOR")
	err = w.svc.DeleteEndCustomerUser(ctx, "acme", "contoso", "cara")
	requireKind(t, err, fault.Blocked, "LAST_BUILTIN_ADMINISTRATOR")
	require.Equal(t, before, w.dump())

	// A second administrator lets the first one go.
	_, err = w.svc.CreateEndCustomerUser(ctx, "acme", "contoso", tenancy.EndCustomerUser{UserID: "carl", DisplayName: "Carl", Role: "admin"})
	require.NoError(t, err)
	_, err = w.svc.SetEndCustomerRole(ctx, "acme", "contoso", "cara", "read_only")
	require.NoError(t, err)
}

func TestOwnDomain_OnlyItsAdministratorsEnterItOnceRestricted(t *testing.T) {
	w := partnerWorld(t)
	internal := customerObj("acme-internal")
	require.True(t, w.may(internal, "email_logs", "pat"))
	_, err := w.svc.SetPartnerAccess(as(w.ctx, "adam"), "acme", "acme-internal", false)
	require.NoError(t, err)

	require.False(t, w.may(internal, "email_logs", "pat"), "partner staff lose the MSP's internal email logs")
	_, err = w.svc.LoginAs(as(w.ctx, "pat"), "acme", "acme-internal", "")
	requireKind(t, err, fault.PermissionDenied, "PARTNER_ACCESS_DISABLED")
	require.True(t, w.may(internal, "email_logs", "adam"))
	_, err = w.svc.LoginAs(as(w.ctx, "adam"), "acme", "acme-internal", "")
	require.NoError(t, err, "its administrators enter it")

	msp := graph.Object{Type: "msp", ID: "acme"}
	require.True(t, w.may(msp, "switch_to_own_domain", "adam"), "Adam switches between the partner view and the MSP's domain")
	require.False(t, w.may(msp, "switch_to_own_domain", "pat"))
}

// grantWorld adds to seed 003's cast a helpdesk role (tickets.create) and
// Gus's support group, which spans no customer.
func grantWorld(t *testing.T, day time.Duration) *world {
	w := partnerWorld(t)
	w.svc.SetGrantDayLength(day)
	_, err := w.svc.CreateRole(w.ctx, "acme", tenancy.Role{ID: "helpdesk", DisplayName: "Helpdesk", Permissions: []string{"tickets.create", "tickets.view"}})
	require.NoError(t, err)
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "support", DisplayName: "Support", RoleID: "helpdesk", Scope: tenancy.Scope{Customers: []string{"contoso"}}, Members: []string{"gus"}})
	require.NoError(t, err)
	return w
}

func (w *world) gusMay(customer string, atLeastAsFresh string) tenancy.CheckResult {
	w.t.Helper()
	res, _, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{{ResourceType: "customer", ResourceID: customer, Permission: "tickets.create", UserID: "gus"}}, atLeastAsFresh)
	require.NoError(w.t, err)
	return res[0]
}

func TestGrant_GusHoldsHelpdeskOnFabrikamUntilItExpires(t *testing.T) {
	const day = 1500 * time.Millisecond
	w := grantWorld(t, day)
	ctx := w.ctx
	require.False(t, w.gusMay("fabrikam", "").Allowed)

	g, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 1})
	require.NoError(t, err)
	require.Equal(t, tenancy.GrantPending, g.Status)
	require.False(t, w.gusMay("fabrikam", "").Allowed, "a pending request grants nothing")

	_, err = w.svc.ApproveGrant(as(ctx, "cara"), "acme", g.ID)
	requireKind(t, err, fault.NotFound, "grant "+strconv.Quote(g.ID)+" not found")
	_, err = w.svc.ApproveGrant(as(ctx, "pat"), "acme", g.ID)
	requireKind(t, err, fault.PermissionDenied, "CUSTOMER_CONSENT_REQUIRED")
	approved, err := w.svc.ApproveGrant(as(ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	require.Equal(t, tenancy.GrantActive, approved.Status)
	require.Equal(t, "fred", approved.DecidedBy)

	res := w.gusMay("fabrikam", approved.WrittenAt)
	require.True(t, res.Allowed)
	require.Equal(t, []string{"grant:" + g.ID}, res.Via)
	require.Equal(t, []string{"security_group:support"}, w.gusMay("contoso", "").Via, "his group's own scope holds Contoso")

	// Every consistency mode is asked right before the expiry, so that a
	// cached answer would be there to outlive it.
	gus := graph.Object{Type: "user", ID: "acme/gus"}
	check := []graph.Check{{Resource: customerObj("fabrikam"), Permission: "tickets_create", Subject: gus}}
	var lastRev graph.Revision
	// An answer is held to "allowed" only when it came back well before the
	// expiry: on a loaded machine a check can take longer than the margin.
	beforeExpiry := func() bool { return time.Until(approved.ExpiresAt) > 50*time.Millisecond }
	for time.Until(approved.ExpiresAt) > 100*time.Millisecond {
		ok, rev, err := w.g.Check(ctx, check, graph.Full())
		require.NoError(t, err)
		require.True(t, ok[0] || !beforeExpiry())
		lastRev = rev
		ok, _, err = w.g.Check(ctx, check, graph.AtLeast(graph.Revision(approved.WrittenAt)))
		require.NoError(t, err)
		require.True(t, ok[0] || !beforeExpiry())
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Until(approved.ExpiresAt) + 5*time.Millisecond)
	for name, c := range map[string]graph.Consistency{
		"fully consistent":    graph.Full(),
		"at least as fresh":   graph.AtLeast(graph.Revision(approved.WrittenAt)),
		"at an exact earlier": graph.At(lastRev),
	} {
		ok, _, err := w.g.Check(ctx, check, c)
		require.NoError(t, err)
		require.False(t, ok[0], "an expired grant denies (%s)", name)
	}
	require.False(t, w.gusMay("fabrikam", approved.WrittenAt).Allowed)

	got, err := w.svc.GetGrant(ctx, "acme", g.ID)
	require.NoError(t, err)
	require.Equal(t, tenancy.GrantExpired, got.Status)
	_, err = w.svc.RevokeGrant(as(ctx, "fred"), "acme", g.ID)
	requireKind(t, err, fault.Blocked, "GRANT_NOT_ACTIVE")
}

func TestGrant_BadRequestsAreRefusedAndWriteNothing(t *testing.T) {
	w := grantWorld(t, 24*time.Hour)
	ctx := w.ctx
	before := w.dump()
	for _, days := range []int{0, -1, 731} {
		_, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: days})
		requireKind(t, err, fault.Invalid, "durationDays")
	}
	_, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "account_owner", DurationDays: 30, AutoExtend: true})
	requireKind(t, err, fault.Blocked, "TOP_ROLE_NOT_EXTENDABLE")
	_, err = w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "nowhere", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 30})
	requireKind(t, err, fault.NotFound, "nowhere")
	_, err = w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "nobody", DurationDays: 30})
	requireKind(t, err, fault.NotFound, "nobody")
	// Pat cannot ask for grants; to Gus, Fabrikam does not exist.
	_, err = w.svc.RequestGrant(as(ctx, "pat"), "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 30})
	requireKind(t, err, fault.PermissionDenied, "grants.manage")
	_, err = w.svc.RequestGrant(as(ctx, "gus"), "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 30})
	requireKind(t, err, fault.NotFound, `customerId: customer "fabrikam" not found`)
	require.Equal(t, before, w.dump())

	// The top role may be granted, for a while, without auto-extend.
	g, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "account_owner", DurationDays: 30})
	require.NoError(t, err)
	_, err = w.svc.DeclineGrant(as(ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	_, err = w.svc.ApproveGrant(as(ctx, "fred"), "acme", g.ID)
	requireKind(t, err, fault.Blocked, "GRANT_NOT_PENDING")
}

func TestGrant_ARequestLapsesAfterNinetyDays(t *testing.T) {
	w := grantWorld(t, time.Millisecond)
	g, err := w.svc.RequestGrant(w.ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 30})
	require.NoError(t, err)
	time.Sleep(time.Until(g.ExpiresAt))
	_, err = w.svc.ApproveGrant(as(w.ctx, "fred"), "acme", g.ID)
	requireKind(t, err, fault.Blocked, "is EXPIRED")
	require.False(t, w.gusMay("fabrikam", "").Allowed)
}

func TestGrant_AutoExtendsBy180DaysUnlessItsRoleBecameTheTopRole(t *testing.T) {
	w := grantWorld(t, time.Minute)
	ctx := w.ctx
	// The escalation role is bound to no security group, so it may become the top role.
	_, err := w.svc.CreateRole(ctx, "acme", tenancy.Role{ID: "escalation", DisplayName: "Escalation", Permissions: []string{"tickets.create"}})
	require.NoError(t, err)
	g, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "escalation", DurationDays: 1, AutoExtend: true})
	require.NoError(t, err)
	far, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "escalation", DurationDays: 30, AutoExtend: true})
	require.NoError(t, err)
	for _, id := range []string{g.ID, far.ID} {
		_, err = w.svc.ApproveGrant(as(ctx, "fred"), "acme", id)
		require.NoError(t, err)
	}
	before, err := w.svc.GetGrant(ctx, "acme", g.ID)
	require.NoError(t, err)

	extended, err := w.svc.ExtendDueGrants(ctx)
	require.NoError(t, err)
	require.Len(t, extended, 1, "only the grant within a day of its end")
	require.Equal(t, g.ID, extended[0].ID)
	require.Equal(t, before.ExpiresAt.Add(180*time.Minute), extended[0].ExpiresAt)
	rels, _, err := w.g.Read(ctx, graph.Filter{ResourceType: "customer", ResourceID: "acme/fabrikam", Relation: "grant", SubjectType: "grant", SubjectID: "acme/" + g.ID}, graph.Full())
	require.NoError(t, err)
	require.Len(t, rels, 1)
	require.True(t, rels[0].Expires.Equal(extended[0].ExpiresAt), "the relationship's own expiration moved: %v", rels[0].Expires)

	// Expiring within N days lists the extended grant no more.
	soon, _, err := w.svc.ListGrants(ctx, "acme", tenancy.GrantQuery{ExpiringWithinDays: 2}, "")
	require.NoError(t, err)
	require.Empty(t, soon)
	soon, _, err = w.svc.ListGrants(ctx, "acme", tenancy.GrantQuery{ExpiringWithinDays: 31}, "")
	require.NoError(t, err)
	require.Len(t, soon, 1)
	require.Equal(t, far.ID, soon[0].ID)

	// A role edited into the top role stops its grants from extending.
	_, err = w.svc.UpdateRole(ctx, "acme", tenancy.Role{ID: "escalation", DisplayName: "Escalation", Permissions: catalog.IDs(catalog.Every)}, tenancy.RoleFields{DisplayName: true, Permissions: true})
	require.NoError(t, err)
	w.svc.SetGrantDayLength(24 * time.Hour * 365)
	extended, err = w.svc.ExtendDueGrants(ctx)
	require.NoError(t, err)
	require.Empty(t, extended)
}

func TestGrant_RevokedOrItsGroupDeletedItGrantsNothingEvenUnderTheSameIDs(t *testing.T) {
	w := grantWorld(t, 24*time.Hour)
	ctx := w.ctx
	approve := func() *tenancy.Grant {
		g, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 7})
		require.NoError(t, err)
		g, err = w.svc.ApproveGrant(as(ctx, "fred"), "acme", g.ID)
		require.NoError(t, err)
		require.True(t, w.gusMay("fabrikam", g.WrittenAt).Allowed)
		return g
	}
	g := approve()
	revoked, err := w.svc.RevokeGrant(as(ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	require.Equal(t, tenancy.GrantRevoked, revoked.Status)
	require.False(t, w.gusMay("fabrikam", revoked.WrittenAt).Allowed)

	approve()
	require.NoError(t, w.svc.DeleteSecurityGroup(ctx, "acme", "support"))
	_, err = w.svc.CreateSecurityGroup(ctx, "acme", tenancy.SecurityGroup{ID: "support", DisplayName: "Support", RoleID: "helpdesk", Scope: tenancy.Scope{Customers: []string{"contoso"}}, Members: []string{"gus"}})
	require.NoError(t, err)
	require.False(t, w.gusMay("fabrikam", "").Allowed, "a re-created group inherits no grant")
	all, _, err := w.svc.ListGrants(ctx, "acme", tenancy.GrantQuery{}, "")
	require.NoError(t, err)
	require.Empty(t, all, "the deleted group's grants went with it (the audit trail keeps their story)")
	g = approve()

	// Fred lists his customer's grants only.
	_, _, err = w.svc.ListGrants(as(ctx, "fred"), "acme", tenancy.GrantQuery{}, "")
	requireKind(t, err, fault.PermissionDenied, "grants.manage")
	mine, _, err := w.svc.ListGrants(as(ctx, "fred"), "acme", tenancy.GrantQuery{CustomerID: "fabrikam"}, "")
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.Equal(t, g.ID, mine[0].ID)
}

// pages lists every customer of list, one a page, in the order listed.
func (w *world) pages(list func(tenancy.Page) ([]tenancy.Customer, string, error)) []string {
	w.t.Helper()
	var ids []string
	for page := (tenancy.Page{Size: 1}); ; {
		customers, next, err := list(page)
		require.NoError(w.t, err)
		require.LessOrEqual(w.t, len(customers), 1)
		for _, c := range customers {
			ids = append(ids, c.ID)
		}
		if next == "" {
			return ids
		}
		page.Token = next
	}
}

// Pat reaches Contoso twice over, through the partner group that spans every
// customer and a group of Contoso's own: a page at a time, his global views
// and his customer list name each customer once, in id order.
func TestPaging_PatSeesEachCustomerOnceAPageAtATime(t *testing.T) {
	w := partnerWorld(t)
	_, err := w.svc.CreateRole(w.ctx, "acme", tenancy.Role{ID: "viewer", DisplayName: "Viewer", Permissions: []string{"global_views.rules", "global_views.policies", "global_views.email_tracker"}})
	require.NoError(t, err)
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "contoso-viewers", DisplayName: "Contoso viewers", RoleID: "viewer", Scope: tenancy.Scope{Customers: []string{"contoso"}}, Members: []string{"pat"}})
	require.NoError(t, err)
	pat := as(w.ctx, "pat")
	all := []string{"acme-internal", "contoso", "fabrikam"}
	for view := range tenancy.GlobalViews {
		require.Equal(t, all, w.pages(func(p tenancy.Page) ([]tenancy.Customer, string, error) {
			customers, next, _, err := w.svc.GlobalViewCustomers(pat, "acme", view, p, "")
			return customers, next, err
		}), view)
	}
	require.Equal(t, all, w.pages(func(p tenancy.Page) ([]tenancy.Customer, string, error) {
		return w.svc.ListCustomers(pat, "acme", p, tenancy.ViewDefault, "")
	}))
}
