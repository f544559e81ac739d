package tenancy_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// The questions an application asks — access, the channels, permissions of
// the catalog on each customer (the partner-gated ones always, a dozen
// others drawn each step) and every one on the MSP, switching to the own
// domain — answered by the index with the grants it names, exactly as
// SpiceDB answers and names them, after
// random saves through the service: security groups of the four scopes and
// their members, role edits, grants approved and revoked, partner access
// switched, end-customer roles changed, customers and users regrouped.
func TestCheck_TheIndexAnswersEveryPermissionAndNamesItsGrantsAsSpiceDB(t *testing.T) {
	if !spicedbtest.IndexOn() {
		t.Skip("the index is off")
	}
	w := grantWorld(t, time.Hour)
	plain := tenancy.New(w.g) // the same SpiceDB, no index: SpiceDB answers and explains
	ctx := w.ctx
	users := []string{"pat", "adam", "gus", "cara", "fred"}
	customers := []string{"contoso", "fabrikam", "acme-internal"}
	admins := map[string]string{"contoso": "cara", "fabrikam": "fred", "acme-internal": "adam"}
	_, err := w.svc.CreateCustomerGroup(ctx, "acme", tenancy.CustomerGroup{ID: "west", DisplayName: "West"})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(22, 6))
	var perms []string
	for _, p := range catalog.All {
		perms = append(perms, p.ID)
	}
	roleOf := func() []string {
		var out []string
		for _, p := range catalog.All {
			if p.Scoped && r.IntN(3) == 0 {
				out = append(out, p.ID)
			}
		}
		return out
	}
	for i, scope := range []tenancy.Scope{{AllCustomers: true}, {Associated: true}, {Customers: []string{"fabrikam"}}, {CustomerGroups: []string{"west"}}} {
		role := fmt.Sprintf("r%d", i)
		if scope.AllCustomers {
			_, err = w.svc.CreateRole(ctx, "acme", tenancy.Role{ID: role, DisplayName: role, Permissions: append(roleOf(), "users.manage", "policies.edit")})
		} else {
			_, err = w.svc.CreateRole(ctx, "acme", tenancy.Role{ID: role, DisplayName: role, Permissions: roleOf()})
		}
		require.NoError(t, err)
		_, err = w.svc.CreateSecurityGroup(ctx, "acme", tenancy.SecurityGroup{ID: fmt.Sprintf("s%d", i), DisplayName: role, RoleID: role, Scope: scope, Members: []string{"pat", "adam", "gus"}})
		require.NoError(t, err)
	}
	w.editUser("gus", "west")
	_, err = w.svc.EditCustomerGroup(ctx, "acme", "west", []string{"contoso", "fabrikam"}, tenancy.SaveOptions{})
	require.NoError(t, err)
	var grants []string
	allowed := 0
	named := map[string]bool{} // what the answers' via named (any grant as "grant:")
	for step := range 40 {
		// The service reads its own writes: it asks at least at its last save.
		switch k := r.IntN(8); k {
		case 0, 1:
			sg := pick(r, []string{"s0", "s1", "s2", "s3", "support", "partner"})
			_, _ = w.svc.SetSecurityGroupMembers(ctx, "acme", sg, subset(r, []string{"pat", "adam", "gus"}), tenancy.SaveOptions{AllowEmpty: true})
		case 2:
			role := pick(r, []string{"r1", "r2", "r3", "helpdesk"})
			_, _ = w.svc.UpdateRole(ctx, "acme", tenancy.Role{ID: role, Permissions: roleOf()}, tenancy.RoleFields{Permissions: true})
		case 3:
			c := pick(r, customers)
			sg := pick(r, []string{"support", "s2", "s3"})
			g, err := w.svc.RequestGrant(ctx, "acme", tenancy.Grant{CustomerID: c, SecurityGroupID: sg, RoleID: pick(r, []string{"helpdesk", "r2"}), DurationDays: 1})
			if err == nil {
				if _, err = w.svc.ApproveGrant(as(ctx, admins[c]), "acme", g.ID); err == nil {
					grants = append(grants, g.ID)
				}
			}
		case 4:
			if len(grants) > 0 {
				_, _ = w.svc.RevokeGrant(ctx, "acme", pick(r, grants))
			}
		case 5:
			c := pick(r, customers)
			_, _ = w.svc.SetPartnerAccess(as(ctx, admins[c]), "acme", c, r.IntN(2) == 0)
		case 6:
			c := pick(r, []string{"contoso", "fabrikam"})
			_, _ = w.svc.SetEndCustomerRole(ctx, "acme", c, map[string]string{"contoso": "cara", "fabrikam": "fred"}[c], pick(r, catalog.EndCustomerRoles).ID)
		default:
			switch r.IntN(3) {
			case 0:
				w.editUser(pick(r, []string{"pat", "adam", "gus"}), subset(r, []string{"west"})...)
			case 1:
				_, err := w.svc.EditCustomerPreferences(ctx, "acme", pick(r, customers), subset(r, []string{"west"}), subset(r, []string{"pat", "adam", "gus"}), tenancy.SaveOptions{AllowEmpty: true})
				require.NoError(t, err)
			default:
				_, err := w.svc.EditCustomerGroup(ctx, "acme", "west", subset(r, customers), tenancy.SaveOptions{AllowEmpty: true})
				require.NoError(t, err)
			}
		}
		// Access, the channels, the partner-gated permissions and the MSP's
		// always; a dozen others of the catalog, drawn anew each step (SpiceDB
		// explains each allowed one in several calls).
		asked := []string{"access", "access_portal", "access_web_client", "receive_alerts", "customers.login_as", "email_logs.view", "global_views.policies"}
		for _, p := range perms {
			if cp, _ := catalog.Lookup(p); cp.Level == catalog.MSP || r.IntN(len(perms)) < 12 {
				asked = append(asked, p)
			}
		}
		var qs []tenancy.Question
		for _, u := range users {
			for _, c := range customers {
				for _, p := range asked {
					if cp, ok := catalog.Lookup(p); ok && cp.Level == catalog.MSP {
						continue
					}
					qs = append(qs, tenancy.Question{ResourceType: "customer", ResourceID: c, Permission: p, UserID: u})
				}
			}
			for _, p := range append([]string{tenancy.PermissionSwitchToOwnDomain}, asked...) {
				if cp, ok := catalog.Lookup(p); p == tenancy.PermissionSwitchToOwnDomain || (ok && cp.Level == catalog.MSP) {
					qs = append(qs, tenancy.Question{ResourceType: "msp", ResourceID: "acme", Permission: p, UserID: u})
				}
			}
		}
		for start := 0; start < len(qs); start += tenancy.MaxCheckItems {
			part := qs[start:min(start+tenancy.MaxCheckItems, len(qs))]
			got, gotAt, err := w.svc.Check(ctx, "acme", part, "")
			require.NoError(t, err)
			want, _, err := plain.Check(ctx, "acme", part, gotAt)
			require.NoError(t, err)
			for i, q := range part {
				require.Equal(t, want[i], got[i], "step %d: %s on %s:%s for %s", step, q.Permission, q.ResourceType, q.ResourceID, q.UserID)
				if got[i].Allowed {
					allowed++
				}
				for _, v := range got[i].Via {
					if strings.HasPrefix(v, "grant:") {
						v = "grant:"
					}
					named[v] = true
				}
			}
		}
	}
	require.Greater(t, allowed, 800, "enough is allowed to prove something")
	for _, via := range []string{"security_group:s0", "security_group:s1", "security_group:s2", "security_group:s3", "security_group:support", "grant:", "end_customer_role:admin", "customer_group:west"} {
		require.True(t, named[via], "no answer named %s: %v", via, named)
	}
}

func pick[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }
