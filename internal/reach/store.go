package reach

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"

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

// table interns the ids of one object type: the index holds numbers.
type table struct {
	index map[string]uint32
	names []string
	// rank orders the numbers by their ids (ranked names[:len(rank)]);
	// ranks computes it again once new ids came.
	rank []uint32
}

// ranks is the rank of each number in the order of the ids.
func (t *table) ranks() []uint32 {
	if len(t.rank) == len(t.names) {
		return t.rank
	}
	order := make([]uint32, len(t.names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(t.names[a], t.names[b]) })
	rank := make([]uint32, len(order))
	for r, n := range order {
		rank[n] = uint32(r)
	}
	t.rank = rank
	return rank
}

func newTable() *table { return &table{index: map[string]uint32{}} }

func (t *table) intern(id string) uint32 {
	if n, ok := t.index[id]; ok {
		return n
	}
	n := uint32(len(t.names))
	t.index[id] = n
	t.names = append(t.names, id)
	return n
}

func (t *table) clone() *table {
	return &table{index: maps.Clone(t.index), names: slices.Clone(t.names), rank: t.rank}
}

func (t *table) find(id string) (uint32, bool) {
	n, ok := t.index[id]
	return n, ok
}

// set is a set of interned ids.
type set map[uint32]struct{}

// links is one relation between two tables, held both ways.
type links struct {
	fwd, rev map[uint32]set
}

func newLinks() links { return links{fwd: map[uint32]set{}, rev: map[uint32]set{}} }

func (l links) has(a, b uint32) bool {
	_, ok := l.fwd[a][b]
	return ok
}

// add reports whether the link is new.
func (l links) add(a, b uint32) bool {
	if l.has(a, b) {
		return false
	}
	put(l.fwd, a, b)
	put(l.rev, b, a)
	return true
}

// remove reports whether the link was there.
func (l links) remove(a, b uint32) bool {
	if !l.has(a, b) {
		return false
	}
	drop(l.fwd, a, b)
	drop(l.rev, b, a)
	return true
}

func (l links) clone() links {
	c := links{fwd: make(map[uint32]set, len(l.fwd)), rev: make(map[uint32]set, len(l.rev))}
	for k, s := range l.fwd {
		c.fwd[k] = maps.Clone(s)
	}
	for k, s := range l.rev {
		c.rev[k] = maps.Clone(s)
	}
	return c
}

func (l links) len() int {
	n := 0
	for _, s := range l.fwd {
		n += len(s)
	}
	return n
}

func put(m map[uint32]set, k, v uint32) {
	s := m[k]
	if s == nil {
		s = set{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func drop(m map[uint32]set, k, v uint32) {
	delete(m[k], v)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

// counts is the materialized side of the index: the objects one object
// reaches, sorted, each with its number of paths.
type counts struct {
	ids   []uint32
	paths []uint32
}

func (c *counts) get(id uint32) uint32 {
	if i, ok := slices.BinarySearch(c.ids, id); ok {
		return c.paths[i]
	}
	return 0
}

// bump adds d (+1 or -1) to the paths to id; an id left with none goes.
func (c *counts) bump(id uint32, d int) {
	i, ok := slices.BinarySearch(c.ids, id)
	switch {
	case ok && d < 0 && c.paths[i] == 1:
		c.ids, c.paths = slices.Delete(c.ids, i, i+1), slices.Delete(c.paths, i, i+1)
	case ok:
		c.paths[i] = uint32(int(c.paths[i]) + d)
	case d > 0:
		c.ids, c.paths = slices.Insert(c.ids, i, id), slices.Insert(c.paths, i, uint32(d))
	}
}

// store is the index's data: the relationships that make access, and the
// materialized pairs. A user reaches a customer through each direct
// association and each customer group holding both; he has access while he
// reaches it and is a member of the customer's MSP.
type store struct {
	customers, users, groups, msps *table

	direct      links // customer -> user: customer#direct@user
	grouped     links // customer -> customer group: customer#customer_group@customer_group
	members     links // customer group -> user: customer_group#member@user
	staff       links // msp -> user: msp#member@user
	customerMSP links // customer -> msp: customer#msp@msp
	userMSP     links // user -> msp: user#msp@msp

	// reaches holds, per user, the customers he reaches and by how many
	// paths; reachedBy, per customer, the users who reach it. Both are kept
	// only once materialize has run.
	reaches, reachedBy []counts
	materialized       bool
}

func newStore() *store {
	return &store{
		customers: newTable(), users: newTable(), groups: newTable(), msps: newTable(),
		direct: newLinks(), grouped: newLinks(), members: newLinks(), staff: newLinks(), customerMSP: newLinks(), userMSP: newLinks(),
	}
}

// apply applies one change of a relationship the index selects (filters);
// it ignores every other relationship. Writing an edge that exists, or
// deleting one that does not, changes nothing.
func (s *store) apply(u graph.Update) {
	r := u.Relationship
	if r.SubjectRelation != "" {
		return // the schema allows none on these relations
	}
	on := u.Op != graph.Delete
	change := func(l links, a, b uint32) bool {
		if on {
			return l.add(a, b)
		}
		return l.remove(a, b)
	}
	d := 1
	if !on {
		d = -1
	}
	switch {
	case r.Resource.Type == typeCustomer && r.Relation == relDirect && r.Subject.Type == typeUser:
		c, user := s.customers.intern(r.Resource.ID), s.users.intern(r.Subject.ID)
		if change(s.direct, c, user) && s.materialized {
			s.bump(user, c, d)
		}
	case r.Resource.Type == typeCustomer && r.Relation == relCustomerGroup && r.Subject.Type == typeCustomerGroup:
		c, g := s.customers.intern(r.Resource.ID), s.groups.intern(r.Subject.ID)
		if change(s.grouped, c, g) && s.materialized {
			for user := range s.members.fwd[g] {
				s.bump(user, c, d)
			}
		}
	case r.Resource.Type == typeCustomerGroup && r.Relation == relMember && r.Subject.Type == typeUser:
		g, user := s.groups.intern(r.Resource.ID), s.users.intern(r.Subject.ID)
		if change(s.members, g, user) && s.materialized {
			for c := range s.grouped.rev[g] {
				s.bump(user, c, d)
			}
		}
	case r.Resource.Type == typeCustomer && r.Relation == relMSP && r.Subject.Type == typeMSP:
		change(s.customerMSP, s.customers.intern(r.Resource.ID), s.msps.intern(r.Subject.ID))
	case r.Resource.Type == typeMSP && r.Relation == relMember && r.Subject.Type == typeUser:
		change(s.staff, s.msps.intern(r.Resource.ID), s.users.intern(r.Subject.ID))
	case r.Resource.Type == typeUser && r.Relation == relMSP && r.Subject.Type == typeMSP:
		change(s.userMSP, s.users.intern(r.Resource.ID), s.msps.intern(r.Subject.ID))
	}
}

func (s *store) bump(user, customer uint32, d int) {
	for int(user) >= len(s.reaches) {
		s.reaches = append(s.reaches, counts{})
	}
	for int(customer) >= len(s.reachedBy) {
		s.reachedBy = append(s.reachedBy, counts{})
	}
	s.reaches[user].bump(customer, d)
	s.reachedBy[customer].bump(user, d)
}

// rematerializeAbove is how many updates one revision may carry before the
// index materializes a new store rather than counting each update's paths
// (a bulk import adds millions of pairs; one at a time, each moves a slice).
const rematerializeAbove = 5000

// withUpdates is a new store: s's relationships with updates applied, and
// its pairs materialized again. s is only read.
func (s *store) withUpdates(updates []graph.Update) *store {
	n := &store{
		customers: s.customers.clone(), users: s.users.clone(), groups: s.groups.clone(), msps: s.msps.clone(),
		direct: s.direct.clone(), grouped: s.grouped.clone(), members: s.members.clone(),
		staff: s.staff.clone(), customerMSP: s.customerMSP.clone(), userMSP: s.userMSP.clone(),
	}
	for _, u := range updates {
		n.apply(u)
	}
	n.materialize()
	return n
}

// materialize counts every user's paths to every customer, from the edges
// read at a snapshot; from then on apply keeps the counts.
func (s *store) materialize() {
	s.reaches = make([]counts, len(s.users.names))
	var reached []uint32
	sizes := make([]int, len(s.customers.names))
	for user := range s.reaches {
		reached = reached[:0]
		u := uint32(user)
		for c := range s.direct.rev[u] {
			reached = append(reached, c)
		}
		for g := range s.members.rev[u] {
			for c := range s.grouped.rev[g] {
				reached = append(reached, c)
			}
		}
		slices.Sort(reached)
		distinct := 0
		for i, c := range reached {
			if i == 0 || c != reached[i-1] {
				distinct++
				sizes[c]++
			}
		}
		rc := counts{ids: make([]uint32, 0, distinct), paths: make([]uint32, 0, distinct)}
		for i, c := range reached {
			if i > 0 && c == reached[i-1] {
				rc.paths[len(rc.paths)-1]++
				continue
			}
			rc.ids, rc.paths = append(rc.ids, c), append(rc.paths, 1)
		}
		s.reaches[user] = rc
	}
	s.reachedBy = make([]counts, len(s.customers.names))
	for c, n := range sizes {
		s.reachedBy[c] = counts{ids: make([]uint32, 0, n), paths: make([]uint32, 0, n)}
	}
	for user, rc := range s.reaches {
		for i, c := range rc.ids {
			by := &s.reachedBy[c]
			by.ids, by.paths = append(by.ids, uint32(user)), append(by.paths, rc.paths[i])
		}
	}
	s.materialized = true
}

// paths is how many paths lead from user to customer.
func (s *store) paths(user, customer uint32) uint32 {
	if int(user) >= len(s.reaches) {
		return 0
	}
	return s.reaches[user].get(customer)
}

// staffOf reports whether user is a member of an MSP the customer belongs to.
func (s *store) staffOf(user, customer uint32) bool {
	for m := range s.customerMSP.fwd[customer] {
		if s.staff.has(m, user) {
			return true
		}
	}
	return false
}

// access reports whether the user has access to the customer.
func (s *store) access(user, customer string) bool {
	u, ok1 := s.users.find(user)
	c, ok2 := s.customers.find(customer)
	return ok1 && ok2 && s.paths(u, c) > 0 && s.staffOf(u, c)
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

// pathsOf names the paths from u to c (which counts says exist).
func (s *store) pathsOf(u, c uint32, userGroups []uint32) Paths {
	p := Paths{Direct: s.direct.has(c, u), Count: int(s.paths(u, c))}
	left := p.Count
	if p.Direct {
		left--
	}
	for _, g := range userGroups {
		if left == 0 {
			break
		}
		if s.grouped.has(c, g) {
			p.CustomerGroups = append(p.CustomerGroups, s.groups.names[g])
			left--
		}
	}
	return p
}

// groupsOf are the customer groups of user u, sorted by id.
func (s *store) groupsOf(u uint32) []uint32 {
	return s.sortedByID(s.groups, slices.Collect(maps.Keys(s.members.rev[u])))
}

// sortedByID sorts numbers of t by their ids.
func (s *store) sortedByID(t *table, ns []uint32) []uint32 {
	rank := t.ranks()
	slices.SortFunc(ns, func(a, b uint32) int { return cmp.Compare(rank[a], rank[b]) })
	return ns
}

// Reached is an object reached, and the paths that reach it.
type Reached struct {
	ID string
	Paths
}

// customersOf lists the customers user has access to, sorted by id.
func (s *store) customersOf(user string) []Reached {
	u, ok := s.users.find(user)
	if !ok || int(u) >= len(s.reaches) {
		return nil
	}
	// The customers of the MSPs he is a member of.
	var ofHisMSPs []set
	for m := range s.staff.rev[u] {
		ofHisMSPs = append(ofHisMSPs, s.customerMSP.rev[m])
	}
	return s.reached(s.reaches[u], s.customers, s.direct.rev[u], s.groupsOf(u), s.grouped.rev, ofHisMSPs)
}

// usersOf lists the users who have access to customer, sorted by id.
func (s *store) usersOf(customer string) []Reached {
	c, ok := s.customers.find(customer)
	if !ok || int(c) >= len(s.reachedBy) {
		return nil
	}
	var staffOfItsMSPs []set
	for m := range s.customerMSP.fwd[c] {
		staffOfItsMSPs = append(staffOfItsMSPs, s.staff.fwd[m])
	}
	groups := s.sortedByID(s.groups, slices.Collect(maps.Keys(s.grouped.fwd[c])))
	return s.reached(s.reachedBy[c], s.users, s.direct.fwd[c], groups, s.members.fwd, staffOfItsMSPs)
}

// slots are scratch arrays of a table's size, all -1 between uses.
var slots sync.Pool

// reached lists what one object reaches (rc, objects of t) that is in one of
// allowed (its MSP's side), sorted by id, with the paths: direct are the
// objects it is associated with directly; each of groups (sorted by id) is
// a path to each object of its set in groupSets.
func (s *store) reached(rc counts, t *table, direct set, groups []uint32, groupSets map[uint32]set, allowed []set) []Reached {
	var kept []int // positions in rc
	for i, o := range rc.ids {
		for _, a := range allowed {
			if _, ok := a[o]; ok {
				kept = append(kept, i)
				break
			}
		}
	}
	rank := t.ranks()
	slices.SortFunc(kept, func(a, b int) int { return cmp.Compare(rank[rc.ids[a]], rank[rc.ids[b]]) })

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
		for _, i := range kept {
			slot[rc.ids[i]] = -1
		}
		slots.Put(scratch)
	}()
	out := make([]Reached, len(kept))
	total := 0
	for j, i := range kept {
		o := rc.ids[i]
		slot[o] = int32(j)
		out[j].ID, out[j].Count = t.names[o], int(rc.paths[i])
		total += out[j].Count
	}
	for o := range direct {
		if j := slot[o]; j >= 0 {
			out[j].Direct = true
			total--
		}
	}
	// Every other path is a customer group: one slice holds them all, each
	// object's a part of it, filled group by group (so sorted by id).
	paths := make([]string, total)
	next := 0
	for j := range out {
		n := out[j].Count
		if out[j].Direct {
			n--
		}
		if n > 0 {
			out[j].CustomerGroups = paths[next : next : next+n]
			next += n
		}
	}
	for _, g := range groups {
		name := s.groups.names[g]
		for o := range groupSets[g] {
			if j := slot[o]; j >= 0 {
				out[j].CustomerGroups = append(out[j].CustomerGroups, name)
			}
		}
	}
	return out
}

// related reports whether the relationship resource#relation@subject exists,
// for the relations the index holds.
func (s *store) related(resource graph.Object, relation string, subject graph.Object) (bool, bool) {
	var l links
	var from, to *table
	switch {
	case resource.Type == typeCustomer && relation == relMSP && subject.Type == typeMSP:
		l, from, to = s.customerMSP, s.customers, s.msps
	case resource.Type == typeUser && relation == relMSP && subject.Type == typeMSP:
		l, from, to = s.userMSP, s.users, s.msps
	case resource.Type == typeMSP && relation == relMember && subject.Type == typeUser:
		l, from, to = s.staff, s.msps, s.users
	case resource.Type == typeCustomer && relation == relDirect && subject.Type == typeUser:
		l, from, to = s.direct, s.customers, s.users
	case resource.Type == typeCustomer && relation == relCustomerGroup && subject.Type == typeCustomerGroup:
		l, from, to = s.grouped, s.customers, s.groups
	case resource.Type == typeCustomerGroup && relation == relMember && subject.Type == typeUser:
		l, from, to = s.members, s.groups, s.users
	default:
		return false, false
	}
	a, ok1 := from.find(resource.ID)
	b, ok2 := to.find(subject.ID)
	return ok1 && ok2 && l.has(a, b), true
}

// size is what the store holds: relationships, materialized pairs, and an
// estimate of its bytes.
func (s *store) size() (relationships, pairs int, bytes int64) {
	for _, l := range []links{s.direct, s.grouped, s.members, s.staff, s.customerMSP, s.userMSP} {
		relationships += l.len()
	}
	for _, side := range [][]counts{s.reaches, s.reachedBy} {
		for _, c := range side {
			bytes += int64(cap(c.ids)+cap(c.paths))*4 + 48
		}
	}
	for _, c := range s.reaches {
		pairs += len(c.ids)
	}
	// A link is held twice, in Go maps of about 16 bytes an entry, in a
	// map of about 48 bytes of its own for every source object.
	bytes += int64(relationships) * 2 * 16
	for _, t := range []*table{s.customers, s.users, s.groups, s.msps} {
		for _, n := range t.names {
			bytes += int64(len(n)) + 16 + 16 + 4 + 48
		}
	}
	return relationships, pairs, bytes
}
