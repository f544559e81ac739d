package reach

import (
	"cmp"
	"maps"
	bits64 "math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// The schema's names the index's own questions use (the paths of access,
// the grants of catalog permissions); program.go finds them in the schema.
const (
	typeMSP           = "msp"
	typeUser          = "user"
	typeCustomer      = "customer"
	typeCustomerGroup = "customer_group"
	typeSecurityGroup = "security_group"
	typeGrant         = "grant"

	relMSP                      = "msp"
	relMember                   = "member"
	relDirect                   = "direct"
	relCustomerGroup            = "customer_group"
	relSecurityGroup            = "security_group"
	relAllSecurityGroups        = "all_customers_security_group"
	relAssociatedSecurityGroups = "associated_security_group"
	relGrant                    = "grant"

	// PermissionAccess is the permission whose paths the index names.
	PermissionAccess = "access"
)

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
	ranking atomic.Pointer[ranking]
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

// sortByID sorts numbers by their ids. The ranks of the ids, computed
// once, serve until a good many new ids came. Many ranked numbers are
// sorted through a bitset of their ranks (linear); few, by comparing ranks;
// the newer ids compare as strings and are merged in.
func (d ids) sortByID(ns []uint32) []uint32 {
	r := d.t.ranking.Load()
	if r == nil || len(d.names)-len(r.rank) > len(r.rank)/8+64 {
		r = ranks(d.names)
		d.t.ranking.Store(r)
	}
	words := len(r.rank)/64 + 1
	if len(ns) < words/4 {
		slices.SortFunc(ns, func(a, b uint32) int {
			if int(a) < len(r.rank) && int(b) < len(r.rank) {
				return cmp.Compare(r.rank[a], r.rank[b])
			}
			return strings.Compare(d.names[a], d.names[b])
		})
		return ns
	}
	scratch, _ := bitsets.Get().(*[]uint64)
	if scratch == nil || len(*scratch) < words {
		fresh := make([]uint64, words)
		scratch = &fresh
	}
	set := *scratch
	var newer []uint32
	for _, n := range ns {
		if int(n) < len(r.rank) {
			k := r.rank[n]
			set[k>>6] |= 1 << (k & 63)
		} else {
			newer = append(newer, n)
		}
	}
	out := ns[:0]
	for w := range words {
		for bits := set[w]; bits != 0; bits &= bits - 1 {
			out = append(out, r.order[w<<6+bits64.TrailingZeros64(bits)])
		}
		set[w] = 0
	}
	bitsets.Put(scratch)
	if len(newer) == 0 {
		return out
	}
	byName := func(a, b uint32) int { return strings.Compare(d.names[a], d.names[b]) }
	slices.SortFunc(newer, byName)
	ranked := slices.Clone(out)
	out = out[:0]
	for len(ranked) > 0 || len(newer) > 0 {
		if len(newer) == 0 || (len(ranked) > 0 && byName(ranked[0], newer[0]) < 0) {
			out, ranked = append(out, ranked[0]), ranked[1:]
		} else {
			out, newer = append(out, newer[0]), newer[1:]
		}
	}
	return out
}

// bitsets are scratch bitsets of a table's ranks, all zero between uses.
var bitsets sync.Pool

// ranking is a prefix of a table's numbers in the order of their ids: rank
// is each number's place, order the number at each place.
type ranking struct{ rank, order []uint32 }

func ranks(names []string) *ranking {
	order := make([]uint32, len(names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	rank := make([]uint32, len(order))
	for r, n := range order {
		rank[n] = uint32(r)
	}
	return &ranking{rank: rank, order: order}
}

// sorted are the members of b sorted by their ids in d.
func (d ids) sorted(b *roaring.Bitmap) []uint32 { return d.sortByID(b.ToArray()) }

// store is the index's data: every relationship the schema's permissions
// read (program.go), as sets of interned numbers, held both ways. The
// questions evaluate the schema's expressions over them (eval.go); access
// and its listings intersect the sets directly: a user reaches a customer
// through each direct association and each customer group holding both; he
// has access while he reaches it and is a member of the customer's MSP.
// Nothing is materialized.
//
// A store readers read is never changed: draft is the next one, which
// shares every set it does not change (sets.go), and becomes a store to
// read once published.
type store struct {
	// tables are the ids of each type of the schema (program.types).
	tables []ids
	// rels are the held relations (program.held).
	rels []relation

	// e marks what a draft may change in place; nil once published.
	e *edit
}

// newStore is an empty draft.
func newStore() *store {
	s := &store{tables: make([]ids, len(prog.types)), rels: make([]relation, len(prog.held)), e: &edit{}}
	for i := range s.tables {
		s.tables[i] = newIDs()
	}
	return s
}

func (s *store) users() ids     { return s.tables[prog.user.idx] }
func (s *store) customers() ids { return s.tables[prog.customer.idx] }
func (s *store) groups() ids    { return s.tables[prog.customerGroup.idx] }

// draft is the next store: s's relationships, to which apply applies
// changes without changing s. One goroutine drafts at a time.
func (s *store) draft() *store {
	return &store{tables: slices.Clone(s.tables), rels: slices.Clone(s.rels), e: &edit{}}
}

// publish makes a draft a store to read, in place of the one it was drafted
// from: no reader may read either meanwhile.
func (s *store) publish() {
	for _, t := range s.tables {
		t.t.publish()
	}
	s.e = nil
}

// wildcard is the one subject of a wildcard relation (user:*).
const wildcardID = "*"

// apply applies one change of a relationship the index holds to a draft;
// it ignores every other relationship. Writing an edge that exists, or
// deleting one that does not, changes nothing.
func (s *store) apply(u graph.Update) {
	r := u.Relationship
	if r.SubjectRelation != "" || r.Caveat != nil {
		return // the index holds none (program.go)
	}
	h := prog.keys[relKey{r.Resource.Type, r.Relation, r.Subject.Type, r.Subject.ID == wildcardID}]
	if h == nil {
		return
	}
	l := &s.rels[h.idx]
	a := s.tables[h.resource.idx].intern(r.Resource.ID)
	b := uint32(0)
	if !h.wildcard {
		b = s.tables[h.subject.idx].intern(r.Subject.ID)
	}
	if u.Op == graph.Delete {
		l.remove(a, b, s.e)
		return
	}
	l.add(a, b, s.e)
	if h.expiring {
		l.expire(a, b, r.Expires, s.e)
	}
}

// reaches reports whether user u reaches customer c: directly, or through a
// customer group of both.
func (s *store) reaches(u, c uint32) bool {
	return s.rels[prog.direct].has(c, u) || s.rels[prog.members].rev.get(u).Intersects(s.rels[prog.grouped].fwd.get(c))
}

// staffOf reports whether user u is a member of an MSP customer c belongs to.
func (s *store) staffOf(u, c uint32) bool {
	return s.rels[prog.staff].rev.get(u).Intersects(s.rels[prog.customerMSP].fwd.get(c))
}

// access reports whether the user has access to the customer.
func (s *store) access(user, customer string) bool {
	u, ok1 := s.users().find(user)
	c, ok2 := s.customers().find(customer)
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
	u, ok1 := s.users().find(user)
	c, ok2 := s.customers().find(customer)
	if !ok1 || !ok2 {
		return Paths{}
	}
	p := Paths{Direct: s.rels[prog.direct].has(c, u)}
	for _, g := range s.groups().sorted(roaring.And(s.rels[prog.members].rev.get(u), s.rels[prog.grouped].fwd.get(c))) {
		p.CustomerGroups = append(p.CustomerGroups, s.groups().names[g])
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
	u, ok := s.users().find(user)
	if !ok {
		return nil
	}
	// The customers of the MSPs he is a member of.
	ofHisMSPs := union(s.rels[prog.staff].rev.get(u), s.rels[prog.customerMSP].rev)
	return s.reached(s.customers(), s.rels[prog.direct].rev.get(u), s.groups().sorted(s.rels[prog.members].rev.get(u)), s.rels[prog.grouped].rev, ofHisMSPs)
}

// usersOf lists the users who have access to customer, sorted by id.
func (s *store) usersOf(customer string) []Reached {
	c, ok := s.customers().find(customer)
	if !ok {
		return nil
	}
	staffOfItsMSPs := union(s.rels[prog.customerMSP].fwd.get(c), s.rels[prog.staff].fwd)
	return s.reached(s.users(), s.rels[prog.direct].fwd.get(c), s.groups().sorted(s.rels[prog.grouped].fwd.get(c)), s.rels[prog.members].fwd, staffOfItsMSPs)
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
		name := s.groups().names[g]
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

// size is what the store holds: relationships, and an estimate of its bytes.
func (s *store) size() (relationships int, bytes int64) {
	for i := range s.rels {
		l := &s.rels[i]
		relationships += l.count
		bytes += l.fwd.bytes() + l.rev.bytes() + int64(len(l.expires))*48
	}
	// An id: its bytes and string header, its entry in the map (about 40
	// bytes with its share of the map's slack), its name in names.
	for _, t := range s.tables {
		for _, n := range t.names {
			bytes += int64(len(n)) + 16 + 40 + 16
		}
	}
	return relationships, bytes
}
