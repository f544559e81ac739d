package reach

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// largeStore is a store shaped as the large preset: 10,000 customers, 1,000
// customer groups of 10–500 customers, 5,000 users in 3–20 groups, one
// customer in five with a direct user.
func largeStore(b *testing.B) *store {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 1))
	s := newStore()
	touch := func(res graph.Object, rel string, sub graph.Object) {
		s.apply(graph.Update{Op: graph.Touch, Relationship: graph.Rel(res, rel, sub)})
	}
	msp := graph.Object{Type: typeMSP, ID: "m"}
	customer := func(i int) graph.Object { return graph.Object{Type: typeCustomer, ID: fmt.Sprintf("m/c%05d", i)} }
	user := func(i int) graph.Object { return graph.Object{Type: typeUser, ID: fmt.Sprintf("m/u%05d", i)} }
	group := func(i int) graph.Object { return graph.Object{Type: typeCustomerGroup, ID: fmt.Sprintf("m/g%04d", i)} }
	for c := range 10000 {
		touch(customer(c), relMSP, msp)
		if r.IntN(5) == 0 {
			touch(customer(c), relDirect, user(r.IntN(5000)))
		}
	}
	for g := range 1000 {
		for range 10 + r.IntN(491) {
			touch(customer(r.IntN(10000)), relCustomerGroup, group(g))
		}
	}
	for u := range 5000 {
		touch(msp, relMember, user(u))
		for range 3 + r.IntN(18) {
			touch(group(r.IntN(1000)), relMember, user(u))
		}
	}
	s.materialize()
	return s
}

func BenchmarkCustomersOf(b *testing.B) {
	s := largeStore(b)
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(s.customersOf(fmt.Sprintf("m/u%05d", i%5000)))
	}
	b.ReportMetric(float64(n)/float64(b.N), "customers/op")
}

func BenchmarkUsersOf(b *testing.B) {
	s := largeStore(b)
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(s.usersOf(fmt.Sprintf("m/c%05d", i%10000)))
	}
	b.ReportMetric(float64(n)/float64(b.N), "users/op")
}
