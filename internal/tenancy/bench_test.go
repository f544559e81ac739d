package tenancy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// generated builds MSP "bench": a background of 200 customers in 20 groups
// and 100 users in 3 groups each, plus group "target" with k members and k
// customers of its own, so that a save of "target" affects k×k pairs.
func generated(b *testing.B, g graph.Graph, k int) (*tenancy.Service, []string) {
	ctx := context.Background()
	svc := tenancy.New(g)
	_, err := svc.CreateMSP(ctx, tenancy.MSP{ID: "bench", DisplayName: "Bench", OwnerUserID: "owner"})
	require.NoError(b, err)
	var updates []graph.Update
	add := func(r graph.Relationship) { updates = append(updates, graph.Update{Op: graph.Create, Relationship: r}) }
	obj := func(typ, id string) graph.Object { return graph.Object{Type: typ, ID: "bench/" + id} }
	mspObj := graph.Object{Type: "msp", ID: "bench"}
	for i := 0; i < 20; i++ {
		add(graph.Rel(obj("customer_group", fmt.Sprintf("g%d", i)), "msp", mspObj))
	}
	for i := 0; i < 200; i++ {
		c := obj("customer", fmt.Sprintf("c%d", i))
		add(graph.Rel(c, "msp", mspObj))
		add(graph.Rel(c, "customer_group", obj("customer_group", fmt.Sprintf("g%d", i%20))))
	}
	for i := 0; i < 100; i++ {
		u := obj("user", fmt.Sprintf("u%d", i))
		add(graph.Rel(u, "msp", mspObj))
		add(graph.Rel(mspObj, "member", u))
		for j := 0; j < 3; j++ {
			add(graph.Rel(obj("customer_group", fmt.Sprintf("g%d", (i+j*7)%20)), "member", u))
		}
	}
	target := obj("customer_group", "target")
	add(graph.Rel(target, "msp", mspObj))
	customers := make([]string, k)
	for i := 0; i < k; i++ {
		u := obj("user", fmt.Sprintf("t%d", i))
		add(graph.Rel(u, "msp", mspObj))
		add(graph.Rel(mspObj, "member", u))
		add(graph.Rel(target, "member", u))
		customers[i] = fmt.Sprintf("tc%d", i)
		add(graph.Rel(obj("customer", customers[i]), "msp", mspObj))
	}
	_, err = g.Write(ctx, updates, nil)
	require.NoError(b, err)
	return svc, customers
}

// BenchmarkPermissionCheck compares one allowed check through a custom role in
// a customer-scoped security group, in a group-scoped one, and through the
// built-in technician role (associated scope), with the check of a direct
// association, each as SpiceDB answers it (the adapter) and as the domain
// answers it (with the grants named).
func BenchmarkPermissionCheck(b *testing.B) {
	g := spicedbtest.Graph(b)
	svc, _ := generated(b, g, 10)
	ctx := context.Background()
	require.NoError(b, svc.EnsureBuiltinRoles(ctx))
	_, err := svc.CreateRole(ctx, "bench", tenancy.Role{ID: "scripter", DisplayName: "Scripter", Permissions: []string{"scripts.create", "tickets.create"}})
	require.NoError(b, err)
	for _, sg := range []tenancy.SecurityGroup{
		{ID: "one", DisplayName: "One", RoleID: "scripter", Scope: tenancy.Scope{Customers: []string{"c1"}}, Members: []string{"u1"}},
		{ID: "west", DisplayName: "West", RoleID: "scripter", Scope: tenancy.Scope{CustomerGroups: []string{"g2"}}, Members: []string{"u2"}},
	} {
		_, err := svc.CreateSecurityGroup(ctx, "bench", sg)
		require.NoError(b, err)
	}
	_, err = svc.EditCustomerPreferences(ctx, "bench", "c1", []string{"g1"}, []string{"u3"}, tenancy.SaveOptions{})
	require.NoError(b, err)
	require.NoError(b, svc.SetUserSecurityGroups(ctx, "bench", "u3", []string{"technician"}, tenancy.SaveOptions{}))

	cases := []struct {
		name       string
		customer   string
		permission string
		user       string
	}{
		{"direct-association", "c1", "access", "u3"},
		{"custom-role-customer-scope", "c1", "scripts.create", "u1"},
		{"custom-role-group-scope", "c2", "scripts.create", "u2"},
		{"builtin-technician-associated", "c1", "tickets.create", "u3"},
	}
	for _, tc := range cases {
		relation := strings.ReplaceAll(tc.permission, ".", "_")
		check := []graph.Check{{Resource: graph.Object{Type: "customer", ID: "bench/" + tc.customer}, Permission: relation, Subject: graph.Object{Type: "user", ID: "bench/" + tc.user}}}
		b.Run("spicedb/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				ok, _, err := g.Check(ctx, check, graph.Full())
				if err != nil || !ok[0] {
					b.Fatal(err, tc)
				}
			}
		})
		q := []tenancy.Question{{ResourceType: "customer", ResourceID: tc.customer, Permission: tc.permission, UserID: tc.user}}
		b.Run("domain/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				res, _, err := svc.Check(ctx, "bench", q, "")
				if err != nil || !res[0].Allowed || len(res[0].Via) == 0 {
					b.Fatal(err, res)
				}
			}
		})
	}
}

// BenchmarkGlobalView lists a whole global view (rules) of an MSP of 10,000
// customers, 1,000 of which have switched partner access off, a page of 1,000
// at a time: as Pat, partner-role staff (a read and one bulk check a page),
// and as a trusted service (a read a page). It reports the SpiceDB calls of
// one whole listing.
func BenchmarkGlobalView(b *testing.B) {
	const customers, closed = 10_000, 1_000
	counting := &graph.Counting{Graph: spicedbtest.Graph(b)}
	svc := tenancy.New(counting)
	ctx := context.Background()
	require.NoError(b, svc.EnsureBuiltinRoles(ctx))
	_, err := svc.CreateMSP(ctx, tenancy.MSP{ID: "bench", DisplayName: "Bench", OwnerUserID: "owner"})
	require.NoError(b, err)
	_, err = svc.CreateUser(ctx, "bench", tenancy.User{ID: "pat", DisplayName: "Pat"})
	require.NoError(b, err)
	require.NoError(b, svc.SetUserSecurityGroups(ctx, "bench", "pat", []string{"partner"}, tenancy.SaveOptions{}))
	var updates []graph.Update
	mspObj := graph.Object{Type: "msp", ID: "bench"}
	for i := range customers {
		c := graph.Object{Type: "customer", ID: fmt.Sprintf("bench/c%05d", i)}
		updates = append(updates, graph.Update{Op: graph.Create, Relationship: graph.Rel(c, "msp", mspObj)})
		if i%10 == 0 {
			updates = append(updates, graph.Update{Op: graph.Create, Relationship: graph.Rel(c, "partner_access_off", graph.Object{Type: "user", ID: "*"})})
		}
	}
	for len(updates) > 0 {
		n := min(len(updates), 5000)
		_, err := counting.Write(ctx, updates[:n], nil)
		require.NoError(b, err)
		updates = updates[n:]
	}
	list := func(b *testing.B, ctx context.Context) {
		total, token := 0, ""
		for {
			page, next, _, err := svc.GlobalViewCustomers(ctx, "bench", "rules", tenancy.Page{Size: tenancy.MaxPageSize, Token: token}, "")
			if err != nil {
				b.Fatal(err)
			}
			total += len(page)
			if next == "" {
				break
			}
			token = next
		}
		if total != customers-closed {
			b.Fatalf("listed %d customers, want %d", total, customers-closed)
		}
	}
	for _, caller := range []struct {
		name string
		ctx  context.Context
	}{
		{"partner-staff", tenancy.WithActor(ctx, tenancy.Actor{UserID: "pat"})},
		{"trusted-service", ctx},
	} {
		b.Run(caller.name, func(b *testing.B) {
			counting.Reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				list(b, caller.ctx)
			}
			b.StopTimer()
			b.ReportMetric(float64(counting.Calls())/float64(b.N), "calls/listing")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(customers-closed)), "ns/customer")
		})
	}
}

// BenchmarkCustomersOfUserIndexed lists, from the reachability index, the
// customers of the small preset's users (1,000 customers, 100 groups of
// 10–500, users in 3–20 groups), with their paths: what the index costs
// beyond its own lookup (the service's checks, the via of each path).
func BenchmarkCustomersOfUserIndexed(b *testing.B) {
	ctx := context.Background()
	g := spicedbtest.Graph(b)
	svc := tenancy.New(g)
	require.NoError(b, svc.EnsureBuiltinRoles(ctx))
	p, err := fixtures.PresetNamed("small")
	require.NoError(b, err)
	_, err = p.Import(ctx, svc, nil)
	require.NoError(b, err)
	x, _ := spicedbtest.Index(b, g, reach.Options{})
	svc.SetIndex(x)
	n := 0
	for i := 0; b.Loop(); i++ {
		r, err := svc.CustomersOfUser(ctx, p.MSPID(0), p.User(i%p.Users), "")
		require.NoError(b, err)
		n += len(r.Access)
	}
	b.ReportMetric(float64(n)/float64(b.N), "customers/op")
}
