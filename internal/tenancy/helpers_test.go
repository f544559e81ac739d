package tenancy_test

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// world is one fresh SpiceDB with the schema, and the domain over it.
type world struct {
	t   *testing.T
	ctx context.Context
	g   graph.Graph
	svc *tenancy.Service
}

func newWorld(t *testing.T) *world {
	g := spicedbtest.Graph(t)
	svc := tenancy.New(g)
	require.NoError(t, svc.EnsureBuiltinRoles(context.Background()))
	if spicedbtest.IndexOn() {
		x, _ := spicedbtest.Index(t, g, reach.Options{})
		svc.SetIndex(x)
	}
	return &world{t: t, ctx: context.Background(), g: g, svc: svc}
}

// msp creates an MSP owned by olivia, with users, customers and groups.
func (w *world) msp(id string, users, customers, groups []string) {
	w.t.Helper()
	_, err := w.svc.CreateMSP(w.ctx, tenancy.MSP{ID: id, DisplayName: id + " IT", OwnerUserID: "olivia"})
	require.NoError(w.t, err)
	for _, u := range users {
		_, err := w.svc.CreateUser(w.ctx, id, tenancy.User{ID: u, DisplayName: u})
		require.NoError(w.t, err)
	}
	for _, c := range customers {
		_, err := w.svc.CreateCustomer(w.ctx, id, tenancy.Customer{ID: c, DisplayName: c})
		require.NoError(w.t, err)
	}
	for _, g := range groups {
		_, err := w.svc.CreateCustomerGroup(w.ctx, id, tenancy.CustomerGroup{ID: g, DisplayName: g})
		require.NoError(w.t, err)
	}
}

// seedCast is seed 000's cast in MSP acme: Alex, Bob, Carol, Ulla and Vic;
// Zylker, Globex and Initech; the groups Zoho and Site24x7.
func (w *world) seedCast() {
	w.msp("acme", []string{"alex", "bob", "carol", "ulla", "vic"}, []string{"zylker", "globex", "initech"}, []string{"zoho", "site24x7"})
}

func (w *world) editGroup(group string, customers ...string) *tenancy.Report {
	w.t.Helper()
	rep, err := w.svc.EditCustomerGroup(w.ctx, "acme", group, customers, tenancy.SaveOptions{AllowEmpty: true})
	require.NoError(w.t, err)
	return rep
}

func (w *world) editUser(user string, groups ...string) *tenancy.Report {
	w.t.Helper()
	rep, err := w.svc.EditUser(w.ctx, "acme", user, groups, tenancy.SaveOptions{AllowEmpty: true})
	require.NoError(w.t, err)
	return rep
}

func (w *world) reaches(user, customer string) bool {
	w.t.Helper()
	return w.reachesIn("acme", user, customer)
}

func (w *world) reachesIn(msp, user, customer string) bool {
	w.t.Helper()
	res, _, err := w.svc.Check(w.ctx, msp, []tenancy.Question{accessOf(user, customer)}, "")
	require.NoError(w.t, err)
	return res[0].Allowed
}

// dump is every relationship of every MSP, sorted: to prove that a refused
// call wrote nothing.
func (w *world) dump() []string {
	w.t.Helper()
	var out []string
	for _, typ := range []string{"msp", "user", "customer", "customer_group", "user_alert_group", "role", "security_group"} {
		rels, _, err := w.g.Read(w.ctx, graph.Filter{ResourceType: typ}, graph.Full())
		require.NoError(w.t, err)
		for _, r := range rels {
			out = append(out, r.String())
		}
	}
	sort.Strings(out)
	return out
}

func pair(user, customer string) tenancy.Pair {
	return tenancy.Pair{UserID: user, CustomerID: customer}
}

func accessOf(user, customer string) tenancy.Question {
	return tenancy.Question{ResourceType: "customer", ResourceID: customer, Permission: "access", UserID: user}
}

func retained(user, customer string, via ...string) tenancy.RetainedPair {
	return tenancy.RetainedPair{Pair: pair(user, customer), Via: via}
}

// requireKind asserts err is a fault of kind k whose message contains msg.
func requireKind(t *testing.T, err error, k fault.Kind, msg string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, k.String(), fault.KindOf(err).String(), "error: %v", err)
	require.Contains(t, err.Error(), msg)
}
