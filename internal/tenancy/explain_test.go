package tenancy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// reasons are the reasons of an explanation's missing entries, in order.
func reasons(e *tenancy.Explanation) []tenancy.MissingReason {
	var out []tenancy.MissingReason
	for _, m := range e.Missing {
		out = append(out, m.Reason)
	}
	return out
}

func steps(p tenancy.GrantingPath) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Object)
	}
	return out
}

// Seed 000: Alex reaches Zylker through Zoho and Site24x7, each a path drawn
// step by step; Bob reaches Initech by no path, and is told every
// association that would make one.
func TestExplain_AlexReachesZylkerThroughTwoGroupsAndBobIsToldWhatWouldLetHimIntoInitech(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editGroup("site24x7", "zylker", "initech")
	w.editUser("alex", "zoho", "site24x7")
	w.editUser("bob", "zoho")

	e, err := w.svc.Explain(w.ctx, "acme", accessOf("alex", "zylker"), "")
	require.NoError(t, err)
	require.True(t, e.Allowed)
	require.NotEmpty(t, e.CheckedAt)
	require.Len(t, e.Paths, 2)
	require.Equal(t, "customer_group:site24x7", e.Paths[0].Via)
	require.Equal(t, []string{"user:alex", "customer_group:site24x7", "customer:zylker"}, steps(e.Paths[0]))
	require.Equal(t, []string{"user:alex", "customer_group:zoho", "customer:zylker"}, steps(e.Paths[1]))
	require.Empty(t, e.Missing)

	e, err = w.svc.Explain(w.ctx, "acme", accessOf("bob", "initech"), "")
	require.NoError(t, err)
	require.False(t, e.Allowed)
	require.Equal(t, []tenancy.MissingReason{tenancy.MissingNoPath}, reasons(e))
	require.Contains(t, e.Missing[0].Message, "(user:bob's customer groups: zoho; customer:initech's: site24x7)")
	require.Equal(t, []tenancy.Remedy{
		{Change: "user:bob in customer_group:site24x7", Call: "Edit User", Path: "PUT /v1/msps/acme/users/bob/customerGroups"},
		{Change: "customer:initech in customer_group:zoho", Call: "Edit Customer Group", Path: "PUT /v1/msps/acme/customerGroups/zoho/customers"},
		{Change: "user:bob associated directly with customer:initech", Call: "Edit Customer Preferences", Path: "PUT /v1/msps/acme/customers/initech/preferences"},
	}, e.Missing[0].Remedies)

	_, err = w.svc.Explain(as(w.ctx, "alex"), "acme", accessOf("alex", "zylker"), "")
	requireKind(t, err, fault.PermissionDenied, `user "alex" lacks users.manage`)
	_, err = w.svc.Explain(w.ctx, "acme", tenancy.Question{ResourceType: "customer", ResourceID: "zylker", Permission: "receive_alerts", UserID: "alex"}, "")
	requireKind(t, err, fault.Invalid, "explain answers those")
}

// Gus's support group holds Helpdesk on Contoso only: on Fabrikam its scope
// does not cover him, until a time-bound grant does; once it expires he is
// told when.
func TestExplain_GusIsToldHisScopeMissesFabrikamAndThenWhenHisGrantExpired(t *testing.T) {
	const day = 1500 * time.Millisecond
	w := grantWorld(t, day)
	ticket := tenancy.Question{ResourceType: "customer", ResourceID: "fabrikam", Permission: "tickets.create", UserID: "gus"}
	e, err := w.svc.Explain(w.ctx, "acme", ticket, "")
	require.NoError(t, err)
	require.False(t, e.Allowed)
	require.Equal(t, []tenancy.MissingReason{tenancy.MissingScope}, reasons(e))
	require.Equal(t, "security_group:support", e.Missing[0].Object)
	require.Contains(t, e.Missing[0].Message, "its scope (customers contoso) does not cover customer:fabrikam")

	g, err := w.svc.RequestGrant(w.ctx, "acme", tenancy.Grant{CustomerID: "fabrikam", SecurityGroupID: "support", RoleID: "helpdesk", DurationDays: 1})
	require.NoError(t, err)
	e, err = w.svc.Explain(w.ctx, "acme", ticket, g.WrittenAt)
	require.NoError(t, err)
	require.Equal(t, []tenancy.MissingReason{tenancy.MissingScope, tenancy.MissingGrantPending}, reasons(e))
	require.Equal(t, "POST /v1/msps/acme/grants/"+g.ID+":approve", e.Missing[1].Remedies[0].Path)

	approved, err := w.svc.ApproveGrant(as(w.ctx, "fred"), "acme", g.ID)
	require.NoError(t, err)
	e, err = w.svc.Explain(w.ctx, "acme", ticket, approved.WrittenAt)
	require.NoError(t, err)
	require.True(t, e.Allowed)
	require.Len(t, e.Paths, 1)
	require.Equal(t, []string{"user:gus", "security_group:support", "grant:" + g.ID, "customer:fabrikam"}, steps(e.Paths[0]))

	time.Sleep(time.Until(approved.ExpiresAt) + 5*time.Millisecond)
	e, err = w.svc.Explain(w.ctx, "acme", ticket, approved.WrittenAt)
	require.NoError(t, err)
	require.False(t, e.Allowed)
	require.Equal(t, []tenancy.MissingReason{tenancy.MissingScope, tenancy.MissingGrantExpired}, reasons(e))
	require.True(t, approved.ExpiresAt.Equal(e.Missing[1].At), "expired at %s, told %s", approved.ExpiresAt, e.Missing[1].At)
	require.Contains(t, e.Missing[1].Message, "expired at "+approved.ExpiresAt.Format(time.RFC3339))
}

// Seed 003: Pat's partner role lets him Login As Contoso until Contoso's
// administrator switches partner access off; then that is what he is told.
// Gus, in no security group, is told he has no role that holds it.
func TestExplain_PatIsToldContosoSwitchedPartnerAccessOff(t *testing.T) {
	w := partnerWorld(t)
	loginAs := func(user string) tenancy.Question {
		return tenancy.Question{ResourceType: "customer", ResourceID: "contoso", Permission: "customers.login_as", UserID: user}
	}
	e, err := w.svc.Explain(w.ctx, "acme", loginAs("pat"), "")
	require.NoError(t, err)
	require.True(t, e.Allowed)
	require.Equal(t, []string{"user:pat", "security_group:partner", "customer:contoso"}, steps(e.Paths[0]))
	require.Equal(t, "member; role partner; scope: every customer", e.Paths[0].Steps[1].Note)

	off, err := w.svc.SetPartnerAccess(as(w.ctx, "cara"), "acme", "contoso", false)
	require.NoError(t, err)
	e, err = w.svc.Explain(w.ctx, "acme", loginAs("pat"), off.WrittenAt)
	require.NoError(t, err)
	require.False(t, e.Allowed)
	require.Equal(t, []tenancy.MissingReason{tenancy.MissingPartnerAccess}, reasons(e))
	require.Contains(t, e.Missing[0].Message, "customer:contoso switched partner access off")

	e, err = w.svc.Explain(w.ctx, "acme", loginAs("gus"), off.WrittenAt)
	require.NoError(t, err)
	require.Equal(t, []tenancy.MissingReason{tenancy.MissingNoRole}, reasons(e))
	require.Contains(t, e.Missing[0].Message, "user:gus is in no security group whose role holds customers.login_as (in none at all)")
}
