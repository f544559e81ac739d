package tenancy_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

func subset(r *rand.Rand, all []string) []string {
	var out []string
	for _, x := range all {
		if r.IntN(2) == 0 {
			out = append(out, x)
		}
	}
	return out
}

// TestRandomSavesAgreeWithSpiceDB applies random saves of every kind (the
// three forms, contacts, the three deletes) and checks after each: validateOnly
// answers the report the save then answers; associated and dissociated are
// exactly the pairs SpiceDB shows gaining and losing access; every Account
// Contact and alert contact still reaches his customer.
func TestRandomSavesAgreeWithSpiceDB(t *testing.T) {
	var users []string
	for i := 0; i < 24; i++ {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	customers := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}
	groups := []string{"g1", "g2", "g3"}
	for seed := uint64(1); seed <= 6; seed++ {
		w := newWorld(t)
		w.msp("acme", users, customers, groups)
		r := rand.New(rand.NewPCG(seed, 7))
		access := func(gone ...string) map[tenancy.Pair]bool {
			var qs []tenancy.Question
			for _, u := range users {
				if slices.Contains(gone, u) {
					continue
				}
				for _, c := range customers {
					qs = append(qs, accessOf(u, c))
				}
			}
			res, _, err := w.svc.Check(w.ctx, "acme", qs, "")
			require.NoError(t, err)
			m := map[tenancy.Pair]bool{}
			for i, q := range qs {
				m[pair(q.UserID, q.ResourceID)] = res[i].Allowed
			}
			return m
		}
		invariants := func(where string) {
			a := access()
			for _, rel := range []string{"account_contact"} {
				rels, _, err := w.g.Read(w.ctx, graph.Filter{ResourceType: "customer", Relation: rel}, graph.Full())
				require.NoError(t, err)
				for _, x := range rels {
					p := pair(strings.TrimPrefix(x.Subject.ID, "acme/"), strings.TrimPrefix(x.Resource.ID, "acme/"))
					require.True(t, a[p], "%s: account contact %v lost access", where, p)
				}
			}
			rels, _, err := w.g.Read(w.ctx, graph.Filter{ResourceType: "user_alert_group", Relation: "contact"}, graph.Full())
			require.NoError(t, err)
			for _, x := range rels {
				parts := strings.Split(x.Resource.ID, "/")
				p := pair(strings.TrimPrefix(x.Subject.ID, "acme/"), parts[1])
				require.True(t, a[p], "%s: alert contact %v has no access", where, p)
			}
		}
		for step := 0; step < 60; step++ {
			if step > 0 {
				invariants(fmt.Sprintf("seed %d step %d", seed, step))
			}
			var do func(opts tenancy.SaveOptions) (*tenancy.Report, error)
			var name string
			switch r.IntN(9) {
			case 0:
				c, gs, us := customers[r.IntN(len(customers))], subset(r, groups), subset(r, users)
				name = fmt.Sprintf("prefs %s %v %v", c, gs, us)
				do = func(o tenancy.SaveOptions) (*tenancy.Report, error) {
					return w.svc.EditCustomerPreferences(w.ctx, "acme", c, gs, us, o)
				}
			case 1:
				g, cs := groups[r.IntN(len(groups))], subset(r, customers)
				name = fmt.Sprintf("group %s %v", g, cs)
				do = func(o tenancy.SaveOptions) (*tenancy.Report, error) {
					return w.svc.EditCustomerGroup(w.ctx, "acme", g, cs, o)
				}
			case 2, 3:
				u, gs := users[r.IntN(len(users))], subset(r, groups)
				name = fmt.Sprintf("user %s %v", u, gs)
				do = func(o tenancy.SaveOptions) (*tenancy.Report, error) {
					return w.svc.EditUser(w.ctx, "acme", u, gs, o)
				}
			case 4:
				c, u := customers[r.IntN(len(customers))], users[r.IntN(len(users))]
				_, _ = w.svc.SetAccountContact(w.ctx, "acme", c, u)
				continue
			case 6, 7, 8:
				before := access()
				var rep *tenancy.Report
				var err error
				switch r.IntN(3) {
				case 0:
					u := users[r.IntN(len(users))]
					name = "delete user " + u
					rep, err = w.svc.DeleteUser(w.ctx, "acme", u)
					if err == nil {
						_, cerr := w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: u, DisplayName: u})
						require.NoError(t, cerr)
					}
				case 1:
					g := groups[r.IntN(len(groups))]
					name = "delete group " + g
					rep, err = w.svc.DeleteCustomerGroup(w.ctx, "acme", g)
					if err == nil {
						_, err = w.svc.CreateCustomerGroup(w.ctx, "acme", tenancy.CustomerGroup{ID: g, DisplayName: g})
						require.NoError(t, err)
					}
				case 2:
					c := customers[r.IntN(len(customers))]
					name = "delete customer " + c
					rep, err = w.svc.DeleteCustomer(w.ctx, "acme", c)
					if err == nil {
						_, err = w.svc.CreateCustomer(w.ctx, "acme", tenancy.Customer{ID: c, DisplayName: c})
						require.NoError(t, err)
					}
				}
				if err != nil {
					require.True(t, fault.Is(err, fault.Blocked), "%s: %v", name, err)
					continue
				}
				var gone []string
				if len(name) > 12 && name[:12] == "delete user " {
					gone = append(gone, name[12:])
				}
				after := access()
				for p := range before {
					if slices.Contains(gone, p.UserID) {
						after[p] = false
					}
				}
				require.Equal(t, countIf(before, after, true, false), len(rep.Dissociated), "%d/%d %s %+v", seed, step, name, rep)
				require.Empty(t, rep.Associated)
				continue
			case 5:
				c, us := customers[r.IntN(len(customers))], subset(r, users)
				if len(us) > 0 {
					_, _ = w.svc.SetAlertGroupContacts(w.ctx, "acme", c, "ag", us)
				}
				continue
			}
			before := access()
			dry, dErr := do(tenancy.SaveOptions{ValidateOnly: true, AllowEmpty: true})
			rep, err := do(tenancy.SaveOptions{AllowEmpty: true})
			after := access()
			if err != nil || dErr != nil {
				require.Equal(t, fmt.Sprint(dErr), fmt.Sprint(err), "%d/%d %s", seed, step, name)
				require.True(t, fault.Is(err, fault.Blocked), "%v", err)
				require.Equal(t, before, after)
				continue
			}
			dry.WrittenAt = rep.WrittenAt
			require.Equal(t, rep, dry, "%d/%d %s", seed, step, name)
			for p, a := range after {
				b := before[p]
				switch {
				case !b && a:
					require.True(t, slices.Contains(rep.Associated, p), "%d/%d %s: %v associated missing", seed, step, name, p)
				case b && !a:
					require.True(t, slices.Contains(rep.Dissociated, p), "%d/%d %s: %v dissociated missing", seed, step, name, p)
				}
			}
			require.Equal(t, len(rep.Associated), countIf(before, after, false, true), "%s", name)
			require.Equal(t, len(rep.Dissociated), countIf(before, after, true, false), "%s", name)
		}
	}
}

func countIf(before, after map[tenancy.Pair]bool, b, a bool) int {
	n := 0
	for p := range after {
		if before[p] == b && after[p] == a {
			n++
		}
	}
	return n
}
