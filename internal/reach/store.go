package reach

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// The schema's names the index knows (schema/msp.zed.tmpl):
//
//	definition customer {
//	    relation msp: msp
//	    relation direct: user
//	    relation customer_group: customer_group
//	    permission access = (direct + customer_group->member) & msp->member
//	}
//	definition customer_group { relation member: user }
//	definition msp { relation member: user }
//	definition user { relation msp: msp }
const (
	typeMSP           = "msp"
	typeUser          = "user"
	typeCustomer      = "customer"
	typeCustomerGroup = "customer_group"

	relMSP           = "msp"
	relMember        = "member"
	relDirect        = "direct"
	relCustomerGroup = "customer_group"

	// PermissionAccess is the permission the index answers.
	PermissionAccess = "access"
)

// filters select every relationship the index holds: what it reads at a
// snapshot and watches from there.
var filters = []graph.Filter{
	{ResourceType: typeCustomer, Relation: relDirect},
	{ResourceType: typeCustomer, Relation: relCustomerGroup},
	{ResourceType: typeCustomer, Relation: relMSP},
	{ResourceType: typeCustomerGroup, Relation: relMember},
	{ResourceType: typeMSP, Relation: relMember},
	{ResourceType: typeUser, Relation: relMSP},
}

// table interns the ids of one object type: the index holds numbers. A
// store and the drafts that follow it share their tables, which only ever
// grow: a draft interns new ids into fresh, and publish moves them into
// index once no reader reads (readers only read index).
type table struct {
	index, fresh map[string]uint32
	// names are the ids by number; each store holds the prefix it knows
	// (ids), and drafts append.
	names []string
	// ranking orders a prefix of the numbers by their ids.
	ranking atomic.Pointer[[]uint32]
}

func newTable() *table { return &table{index: map[string]uint32{}, fresh: map[string]uint32{}} }

// publish makes the ids interned since the last publish known to readers;
// no reader may read the table meanwhile.
func (t *table) publish() {
	switch {
	case len(t.fresh) == 0:
		return
	case len(t.index) == 0: // nothing published yet (a build): fresh is the index
		t.index = t.fresh
	default:
		maps.Copy(t.index, t.fresh)
	}
	t.fresh = map[string]uint32{}
}

// ids are a table as one store knows it.
type ids struct {
	t     *table
	names []string
}

func newIDs() ids { return ids{t: newTable()} }

// intern is id's number, a new one if id is new (for drafts only).
func (d *ids) intern(id string) uint32 {
	if n, ok := d.t.index[id]; ok {
		return n
	}
	if n, ok := d.t.fresh[id]; ok {
		return n
	}
	n := uint32(len(d.t.names))
	d.t.fresh[id] = n
	d.t.names = append(d.t.names, id)
	d.names = d.t.names
	return n
}

// find is id's number, if the store knows id (ids a draft interned are
// not found until it is published).
func (d ids) find(id string) (uint32, bool) {
	n, ok := d.t.index[id]
	return n, ok && int(n) < len(d.names)
}

// sortByID sorts numbers by their ids. The ranks of the ids computed once
// serve until a good many new ids came; the newer ids compare as strings.
func (d ids) sortByID(ns []uint32) []uint32 {
	p := d.t.ranking.Load()
	if p == nil || len(d.names)-len(*p) > len(*p)/8+64 {
		rank := ranks(d.names)
		d.t.ranking.Store(&rank)
		p = &rank
	}
	rank := *p
	slices.SortFunc(ns, func(a, b uint32) int {
		if int(a) < len(rank) && int(b) < len(rank) {
			return cmp.Compare(rank[a], rank[b])
		}
		return strings.Compare(d.names[a], d.names[b])
	})
	return ns
}

// ranks is the rank of each number in the order of the ids.
func ranks(names []string) []uint32 {
	order := make([]uint32, len(names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	rank := make([]uint32, len(order))
	for r, n := range order {
		rank[n] = uint32(r)
	}
	return rank
}

// sorted are the members of b sorted by their ids in d.
func (d ids) sorted(b *roaring.Bitmap) []uint32 { return d.sortByID(b.ToArray()) }

// store is the index's data: the relationships that make access, as sets of
// interned numbers, held both ways. A user reaches a customer through each
// direct association and each customer group holding both; he has access
// while he reaches it and is a member of the customer's MSP. Nothing is
// materialized: the questions intersect the sets.
//
// A store readers read is never changed: draft is the next one, which
// shares every set it does not change (sets.go), and becomes a store to
// read once published.
type store struct {
	customers, users, groups, msps ids

	direct      relation // customer -> user: customer#direct@user
	grouped     relation // customer -> customer group: customer#customer_group@customer_group
	members     relation // customer group -> user: customer_group#member@user
	staff       relation // msp -> user: msp#member@user
	customerMSP relation // customer -> msp: customer#msp@msp
	userMSP     relation // user -> msp: user#msp@msp

	// e marks what a draft may change in place; nil once published.
	e *edit
}

// newStore is an empty draft.
func newStore() *store {
	return &store{customers: newIDs(), users: newIDs(), groups: newIDs(), msps: newIDs(), e: &edit{}}
}

// draft is the next store: s's relationships, to which apply applies
// changes without changing s. One goroutine drafts at a time.
func (s *store) draft() *store {
	d := *s
	d.e = &edit{}
	return &d
}

// publish makes a draft a store to read, in place of the one it was drafted
// from: no reader may read either meanwhile.
func (s *store) publish() {
	for _, t := range []ids{s.customers, s.users, s.groups, s.msps} {
		t.t.publish()
	}
	s.e = nil
}

// apply applies one change of a relationship the index selects (filters)
// to a draft; it ignores every other relationship. Writing an edge that
// exists, or deleting one that does not, changes nothing.
func (s *store) apply(u graph.Update) {
	r := u.Relationship
	if r.SubjectRelation != "" {
		return // the schema allows none on these relations
	}
	l, from, to, ok := s.relationOf(r.Resource.Type, r.Relation, r.Subject.Type)
	if !ok {
		return
	}
	a, b := from.intern(r.Resource.ID), to.intern(r.Subject.ID)
	if u.Op == graph.Delete {
		l.remove(a, b, s.e)
	} else {
		l.add(a, b, s.e)
	}
}

// reaches reports whether user u reaches customer c: directly, or through a
// customer group of both.
func (s *store) reaches(u, c uint32) bool {
	return s.direct.has(c, u) || s.members.rev.get(u).Intersects(s.grouped.fwd.get(c))
}

// staffOf reports whether user u is a member of an MSP customer c belongs to.
func (s *store) staffOf(u, c uint32) bool {
	return s.staff.rev.get(u).Intersects(s.customerMSP.fwd.get(c))
}

// access reports whether the user has access to the customer.
func (s *store) access(user, customer string) bool {
	u, ok1 := s.users.find(user)
	c, ok2 := s.customers.find(customer)
	return ok1 && ok2 && s.reaches(u, c) && s.staffOf(u, c)
}

// Paths are the paths from a user to a customer.
type Paths struct {
	// Direct is a direct association.
	Direct bool
	// CustomerGroups are the ids of the customer groups that hold both, sorted.
	CustomerGroups []string
	// Count is how many paths there are: Direct and one per customer group.
	Count int
}

// pathsOf names the paths from user to customer.
func (s *store) pathsOf(user, customer string) Paths {
	u, ok1 := s.users.find(user)
	c, ok2 := s.customers.find(customer)
	if !ok1 || !ok2 {
		return Paths{}
	}
	p := Paths{Direct: s.direct.has(c, u)}
	for _, g := range s.groups.sorted(roaring.And(s.members.rev.get(u), s.grouped.fwd.get(c))) {
		p.CustomerGroups = append(p.CustomerGroups, s.groups.names[g])
	}
	p.Count = len(p.CustomerGroups)
	if p.Direct {
		p.Count++
	}
	return p
}

// Reached is an object reached, and the paths that reach it.
type Reached struct {
	ID string
	Paths
}

// customersOf lists the customers user has access to, sorted by id.
func (s *store) customersOf(user string) []Reached {
	u, ok := s.users.find(user)
	if !ok {
		return nil
	}
	// The customers of the MSPs he is a member of.
	ofHisMSPs := union(s.staff.rev.get(u), s.customerMSP.rev)
	return s.reached(s.customers, s.direct.rev.get(u), s.groups.sorted(s.members.rev.get(u)), s.grouped.rev, ofHisMSPs)
}

// usersOf lists the users who have access to customer, sorted by id.
func (s *store) usersOf(customer string) []Reached {
	c, ok := s.customers.find(customer)
	if !ok {
		return nil
	}
	staffOfItsMSPs := union(s.customerMSP.fwd.get(c), s.staff.fwd)
	return s.reached(s.users, s.direct.fwd.get(c), s.groups.sorted(s.grouped.fwd.get(c)), s.members.fwd, staffOfItsMSPs)
}

// union is the union of the sets of the members of keys.
func union(keys *roaring.Bitmap, of sets) *roaring.Bitmap {
	if keys.GetCardinality() == 1 {
		return of.get(keys.Minimum())
	}
	var all []*roaring.Bitmap
	keys.Iterate(func(k uint32) bool {
		all = append(all, of.get(k))
		return true
	})
	return roaring.FastOr(all...)
}

// slots are scratch arrays of a table's size, all -1 between uses.
var slots sync.Pool

// reached lists the objects of t one object reaches — those of direct, and
// of each of groups (sorted by id) those of its set in groupSets — that are
// in allowed (its MSP's side), sorted by id, with their paths.
func (s *store) reached(t ids, direct *roaring.Bitmap, groups []uint32, groupSets sets, allowed *roaring.Bitmap) []Reached {
	all := make([]*roaring.Bitmap, 0, len(groups)+1)
	all = append(all, direct)
	for _, g := range groups {
		all = append(all, groupSets.get(g))
	}
	hit := roaring.FastOr(all...)
	hit.And(allowed)
	ns := t.sorted(hit)

	// slot[o] is o's place in the list, or -1.
	scratch, _ := slots.Get().(*[]int32)
	if scratch == nil || len(*scratch) < len(t.names) {
		fresh := make([]int32, len(t.names))
		for i := range fresh {
			fresh[i] = -1
		}
		scratch = &fresh
	}
	slot := *scratch
	defer func() {
		for _, o := range ns {
			slot[o] = -1
		}
		slots.Put(scratch)
	}()
	out := make([]Reached, len(ns))
	for j, o := range ns {
		slot[o] = int32(j)
		out[j].ID = t.names[o]
	}
	// The paths through customer groups: one slice holds them all, each
	// object's a part of it, filled group by group (so sorted by id).
	total := 0
	for _, g := range groups {
		groupSets.get(g).Iterate(func(o uint32) bool {
			if j := slot[o]; j >= 0 {
				out[j].Count++
				total++
			}
			return true
		})
	}
	paths := make([]string, total)
	next := 0
	for j := range out {
		if n := out[j].Count; n > 0 {
			out[j].CustomerGroups = paths[next : next : next+n]
			next += n
		}
	}
	for _, g := range groups {
		name := s.groups.names[g]
		groupSets.get(g).Iterate(func(o uint32) bool {
			if j := slot[o]; j >= 0 {
				out[j].CustomerGroups = append(out[j].CustomerGroups, name)
			}
			return true
		})
	}
	direct.Iterate(func(o uint32) bool {
		if j := slot[o]; j >= 0 {
			out[j].Direct = true
			out[j].Count++
		}
		return true
	})
	return out
}

// relationOf is the relation the index holds between objects of those
// types (resource#rel@subject), and the ids of its two sides; ok is
// false for any other relation.
func (s *store) relationOf(resource, rel, subject string) (l *relation, from, to *ids, ok bool) {
	switch {
	case resource == typeCustomer && rel == relDirect && subject == typeUser:
		return &s.direct, &s.customers, &s.users, true
	case resource == typeCustomer && rel == relCustomerGroup && subject == typeCustomerGroup:
		return &s.grouped, &s.customers, &s.groups, true
	case resource == typeCustomerGroup && rel == relMember && subject == typeUser:
		return &s.members, &s.groups, &s.users, true
	case resource == typeCustomer && rel == relMSP && subject == typeMSP:
		return &s.customerMSP, &s.customers, &s.msps, true
	case resource == typeMSP && rel == relMember && subject == typeUser:
		return &s.staff, &s.msps, &s.users, true
	case resource == typeUser && rel == relMSP && subject == typeMSP:
		return &s.userMSP, &s.users, &s.msps, true
	}
	return nil, nil, nil, false
}

// related reports whether the relationship resource#rel@subject exists,
// for the relations the index holds (ok is false for any other).
func (s *store) related(resource graph.Object, rel string, subject graph.Object) (exists, ok bool) {
	l, from, to, ok := s.relationOf(resource.Type, rel, subject.Type)
	if !ok {
		return false, false
	}
	a, ok1 := from.find(resource.ID)
	b, ok2 := to.find(subject.ID)
	return ok1 && ok2 && l.has(a, b), true
}

// size is what the store holds: relationships, and an estimate of its bytes.
func (s *store) size() (relationships int, bytes int64) {
	for _, l := range []*relation{&s.direct, &s.grouped, &s.members, &s.staff, &s.customerMSP, &s.userMSP} {
		relationships += l.count
		bytes += l.fwd.bytes() + l.rev.bytes()
	}
	// An id: its bytes and string header, its entry in the map (about 40
	// bytes with its share of the map's slack), its name in names.
	for _, t := range []ids{s.customers, s.users, s.groups, s.msps} {
		for _, n := range t.names {
			bytes += int64(len(n)) + 16 + 40 + 16
		}
	}
	return relationships, bytes
}
