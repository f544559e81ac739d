package tenancy

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// Touched collects the customers one call touches, for its audit record (so
// that each customer finds what was done to it): the customer the call is
// about — its path, its question, the customer of a grant it names — whether
// or not the actor may see it, and every customer whose relationships (or
// whose objects') its save writes or would write. A selection's customers
// that a save leaves as they were are not touched.
// Ids are local to the call's MSP.
type Touched struct {
	mu        sync.Mutex
	customers map[string]bool
}

type touchedKey struct{}

// WithTouched returns ctx and the Touched that collects the customers touched
// by the calls made with it.
func WithTouched(ctx context.Context) (context.Context, *Touched) {
	t := &Touched{customers: map[string]bool{}}
	return context.WithValue(ctx, touchedKey{}, t), t
}

// Customers lists the customers touched so far, sorted.
func (t *Touched) Customers() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.customers))
	for c := range t.customers {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// touch records customers in ctx's Touched, if it has one.
func touch(ctx context.Context, customers ...string) {
	t, ok := ctx.Value(touchedKey{}).(*Touched)
	if !ok || len(customers) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range customers {
		t.customers[c] = true
	}
}

// customerOf is the customer of msp that obj is or belongs to.
func customerOf(msp string, obj graph.Object) (string, bool) {
	if !strings.HasPrefix(obj.ID, msp+"/") {
		return "", false
	}
	switch {
	case obj.Type == typeCustomer:
		return localID(msp, obj.ID), true
	case slices.Contains(customerTypes, obj.Type):
		customer, _ := customerObjectIDs(msp, obj.ID)
		return customer, true
	}
	return "", false
}

// touchUpdates records the customers whose relationships updates change:
// those that are, or own, the resource or the subject of one.
func touchUpdates(ctx context.Context, msp string, updates []graph.Update) {
	var customers []string
	for _, u := range updates {
		for _, obj := range []graph.Object{u.Relationship.Resource, u.Relationship.Subject} {
			if c, ok := customerOf(msp, obj); ok {
				customers = append(customers, c)
			}
		}
	}
	touch(ctx, customers...)
}
