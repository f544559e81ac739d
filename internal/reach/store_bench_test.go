package reach

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// largeShape is the large preset's shape times scale: 10,000 customers,
// 1,000 customer groups of 10–500 customers, 5,000 users in 3–20 groups,
// one customer in five with a direct user. It calls f with each relationship.
func largeShape(scale int, f func(graph.Relationship)) {
	r := rand.New(rand.NewPCG(1, 1))
	customers, groups, users := 10000*scale, 1000*scale, 5000*scale
	rel := func(res graph.Object, relation string, sub graph.Object) { f(graph.Rel(res, relation, sub)) }
	msp := graph.Object{Type: typeMSP, ID: "m"}
	customer := func(i int) graph.Object { return graph.Object{Type: typeCustomer, ID: fmt.Sprintf("m/c%05d", i)} }
	user := func(i int) graph.Object { return graph.Object{Type: typeUser, ID: fmt.Sprintf("m/u%05d", i)} }
	group := func(i int) graph.Object { return graph.Object{Type: typeCustomerGroup, ID: fmt.Sprintf("m/g%04d", i)} }
	for c := range customers {
		rel(customer(c), relMSP, msp)
		if r.IntN(5) == 0 {
			rel(customer(c), relDirect, user(r.IntN(users)))
		}
	}
	for g := range groups {
		for range 10 + r.IntN(491) {
			rel(customer(r.IntN(customers)), relCustomerGroup, group(g))
		}
	}
	for u := range users {
		rel(msp, relMember, user(u))
		rel(user(u), relMSP, msp)
		for range 3 + r.IntN(18) {
			rel(group(r.IntN(groups)), relMember, user(u))
		}
	}
}

func largeStore(b *testing.B, scale int) *store {
	b.Helper()
	s := newStore()
	largeShape(scale, func(r graph.Relationship) { s.apply(graph.Update{Op: graph.Touch, Relationship: r}) })
	s.publish()
	return s
}

func BenchmarkAccess(b *testing.B) {
	s := largeStore(b, 1)
	users, customers := make([]string, 5000), make([]string, 10000)
	for i := range users {
		users[i] = fmt.Sprintf("m/u%05d", i)
	}
	for i := range customers {
		customers[i] = fmt.Sprintf("m/c%05d", i)
	}
	r := rand.New(rand.NewPCG(2, 2))
	n := 0
	for b.Loop() {
		if s.access(users[r.IntN(len(users))], customers[r.IntN(len(customers))]) {
			n++
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "allowed/op")
}

func BenchmarkCustomersOf(b *testing.B) {
	s := largeStore(b, 1)
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(s.customersOf(fmt.Sprintf("m/u%05d", i%5000)))
	}
	b.ReportMetric(float64(n)/float64(b.N), "customers/op")
}

func BenchmarkUsersOf(b *testing.B) {
	s := largeStore(b, 1)
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(s.usersOf(fmt.Sprintf("m/c%05d", i%10000)))
	}
	b.ReportMetric(float64(n)/float64(b.N), "users/op")
}

// BenchmarkBuild is a build from a snapshot, per relationship.
func BenchmarkBuild(b *testing.B) {
	var rels []graph.Relationship
	largeShape(1, func(r graph.Relationship) { rels = append(rels, r) })
	for b.Loop() {
		s := newStore()
		for _, r := range rels {
			s.apply(graph.Update{Op: graph.Touch, Relationship: r})
		}
		s.publish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rels)), "ns/relationship")
}

// BenchmarkRevision is a revision of 100 random updates applied to a draft
// and published, at the large preset's size and four times it: its cost
// does not grow with the index.
func BenchmarkRevision(b *testing.B) {
	for _, scale := range []int{1, 4} {
		b.Run(fmt.Sprintf("large×%d", scale), func(b *testing.B) {
			s := largeStore(b, scale)
			r := rand.New(rand.NewPCG(3, 3))
			updates := make([]graph.Update, 100)
			for b.Loop() {
				for i := range updates {
					op := graph.Touch
					if r.IntN(2) == 0 {
						op = graph.Delete
					}
					updates[i] = graph.Update{Op: op, Relationship: graph.Rel(
						graph.Object{Type: typeCustomerGroup, ID: fmt.Sprintf("m/g%04d", r.IntN(1000*scale))}, relMember,
						graph.Object{Type: typeUser, ID: fmt.Sprintf("m/u%05d", r.IntN(5000*scale))})}
				}
				d := s.draft()
				for _, u := range updates {
					d.apply(u)
				}
				d.publish()
				s = d
			}
		})
	}
}

// staffedStore is largeStore with the bench driver's staffing (see
// internal/bench's staff): a third of the users technicians (associated
// customers), one in ten partner staff (every customer), a third in a
// helpdesk group scoped to a tenth of the customer groups.
func staffedStore(b *testing.B) *store {
	b.Helper()
	s := newStore()
	add := func(r graph.Relationship) { s.apply(graph.Update{Op: graph.Touch, Relationship: r}) }
	largeShape(1, add)
	obj := func(t, id string) graph.Object { return graph.Object{Type: t, ID: id} }
	everyone := obj(typeUser, "*")
	msp := obj(typeMSP, "m")
	roles := map[string][]string{
		"technician": {"tickets_create", "tickets_view", "assets_view", "scripts_execute", "customers_view"},
		"partner":    {"tickets_view", "customers_login_as", "email_logs_view", "customers_view"},
		"helpdesk":   {"tickets_create", "tickets_view", "scripts_create", "assets_remote_access"},
	}
	for role, perms := range roles {
		sg := obj(typeSecurityGroup, "m/"+role)
		add(graph.Rel(sg, "role", obj("role", "m/"+role)))
		for _, p := range perms {
			add(graph.Rel(obj("role", "m/"+role), p, everyone))
		}
	}
	add(graph.Rel(msp, relAssociatedSecurityGroups, obj(typeSecurityGroup, "m/technician")))
	add(graph.Rel(msp, relAllSecurityGroups, obj(typeSecurityGroup, "m/partner")))
	for g := 0; g < 1000; g += 10 {
		add(graph.Rel(obj(typeCustomerGroup, fmt.Sprintf("m/g%04d", g)), relSecurityGroup, obj(typeSecurityGroup, "m/helpdesk")))
	}
	for u := range 5000 {
		user := obj(typeUser, fmt.Sprintf("m/u%05d", u))
		switch {
		case u%3 == 0:
			add(graph.Rel(obj(typeSecurityGroup, "m/technician"), relMember, user))
		case u%10 == 1:
			add(graph.Rel(obj(typeSecurityGroup, "m/partner"), relMember, user))
		case u%3 == 2:
			add(graph.Rel(obj(typeSecurityGroup, "m/helpdesk"), relMember, user))
		}
	}
	s.publish()
	return s
}

// BenchmarkPermission is a check of a catalog permission on random pairs
// of the staffed large shape, from the schema's expressions.
func BenchmarkPermission(b *testing.B) {
	s := staffedStore(b)
	r := rand.New(rand.NewPCG(4, 4))
	perms := []string{"tickets_create", "tickets_view", "login_as", "scripts_create", "assets_view", "email_logs"}
	n := 0
	ev := eval{s: s, m: &memo{}}
	for b.Loop() {
		c := graph.Check{
			Resource:   graph.Object{Type: typeCustomer, ID: fmt.Sprintf("m/c%05d", r.IntN(10000))},
			Permission: perms[r.IntN(len(perms))],
			Subject:    graph.Object{Type: typeUser, ID: fmt.Sprintf("m/u%05d", r.IntN(5000))},
		}
		if ok, _ := ev.check(c); ok {
			n++
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "allowed/op")
}
