package reach

import (
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// noID is the number of an object the store does not know: in no set, yet
// a wildcard (user:*) still matches it, as in SpiceDB.
const noID = math.MaxUint32

// maxEval bounds the depth of an evaluation (the schema's permissions nest
// a few levels; a cycle would not end).
const maxEval = 32

// eval evaluates the schema's expressions over a store at one instant:
// a relationship whose expiration is not after now does not exist.
type eval struct {
	s   *store
	now int64 // Unix nanoseconds
	// m holds the candidates of the check being answered (nil: none kept).
	m *memo
}

// memo is the candidates computed for one check's subject, by expression.
type memo struct {
	exprs []*expr
	sets  []*roaring.Bitmap // nil: any object may hold
}

func (m *memo) get(e *expr) (*roaring.Bitmap, bool) {
	for i, x := range m.exprs {
		if x == e {
			return m.sets[i], true
		}
	}
	return nil, false
}

func (m *memo) put(e *expr, b *roaring.Bitmap) *roaring.Bitmap {
	m.exprs, m.sets = append(m.exprs, e), append(m.sets, b)
	return b
}

func (m *memo) reset() { m.exprs, m.sets = m.exprs[:0], m.sets[:0] }

// check answers a check as SpiceDB's CheckPermission would over the
// store's relationships; ok is false when the index cannot answer it (a type,
// relation or permission it does not know or hold, or one it cannot
// evaluate the same way).
func (v eval) check(c graph.Check) (allowed, ok bool) {
	t, st := prog.byName[c.Resource.Type], prog.byName[c.Subject.Type]
	if t == nil || st == nil || c.Subject.ID == wildcardID {
		return false, false
	}
	if t == prog.customer && c.Permission == PermissionAccess && st == prog.user {
		return v.s.access(c.Subject.ID, c.Resource.ID), true // the sets' own intersection
	}
	e := t.rels[c.Permission]
	if e == nil || e.unsupported != "" {
		return false, false
	}
	if v.m != nil {
		v.m.reset()
	}
	return v.is(e, v.number(t, c.Resource.ID), st, v.number(st, c.Subject.ID), 0), true
}

// number is id's number in t's table, or noID.
func (v eval) number(t *objType, id string) uint32 {
	if n, ok := v.s.tables[t.idx].find(id); ok {
		return n
	}
	return noID
}

// is reports whether subject sub (of type st) is in e on object r.
func (v eval) is(e *expr, r uint32, st *objType, sub uint32, depth int) bool {
	if depth > maxEval || r == noID {
		return false
	}
	if e == prog.access && st == prog.user && sub != noID {
		return v.s.reaches(sub, r) && v.s.staffOf(sub, r) // the sets' own intersection
	}
	switch e.op {
	case opThis:
		for _, h := range e.this {
			if h.subject != st || (!h.wildcard && sub == noID) {
				continue
			}
			b := sub
			if h.wildcard {
				b = 0
			}
			if l := &v.s.rels[h.idx]; l.has(r, b) && (!h.expiring || l.live(r, b, v.now)) {
				return true
			}
		}
		return false
	case opComputed:
		return v.is(e.target, r, st, sub, depth+1)
	case opArrow:
		for _, step := range e.steps {
			l := &v.s.rels[step.via.idx]
			through := l.fwd.get(r)
			// Through many objects, only those that may hold for the
			// subject are asked (the candidates of step.then).
			var may *roaring.Bitmap
			if v.m != nil && through.GetCardinality() > fewObjects {
				if may = v.candidates(step.then, st, sub, depth+1); may != nil && !through.Intersects(may) {
					continue
				}
			}
			found := false
			through.Iterate(func(o uint32) bool {
				if (may == nil || may.Contains(o)) && (!step.via.expiring || l.live(r, o, v.now)) && v.is(step.then, o, st, sub, depth+1) {
					found = true
				}
				return !found
			})
			if found {
				return true
			}
		}
		return false
	case opUnion:
		for _, k := range e.kids {
			if v.is(k, r, st, sub, depth+1) {
				return true
			}
		}
		return false
	case opIntersect:
		for _, k := range e.kids {
			if !v.is(k, r, st, sub, depth+1) {
				return false
			}
		}
		return len(e.kids) > 0
	case opExclude:
		if len(e.kids) == 0 || !v.is(e.kids[0], r, st, sub, depth+1) {
			return false
		}
		for _, k := range e.kids[1:] {
			if v.is(k, r, st, sub, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// fewObjects is how many objects an arrow goes through before it asks only
// the candidates (a variable for the tests, which prune always and never);
// manyCandidates how many candidates are too many to follow back (the
// candidates are then "any").
var fewObjects uint64 = 4

const manyCandidates = 256

// candidates is a superset of the objects of e's type on which e may hold
// for subject sub (of type st), from the relations' reverse sets; nil when
// any may (too many to say). It must not be changed. Expiration and
// exclusion only ever take away, so ignoring them keeps it a superset.
func (v eval) candidates(e *expr, st *objType, sub uint32, depth int) *roaring.Bitmap {
	if b, ok := v.m.get(e); ok {
		return b
	}
	if depth > maxEval || e == prog.access {
		return v.m.put(e, nil) // access: a user's customers are many
	}
	var out *roaring.Bitmap
	switch e.op {
	case opNil:
		out = none
	case opThis:
		var all []*roaring.Bitmap
		for _, h := range e.this {
			switch {
			case h.subject != st:
			case h.wildcard:
				all = append(all, v.s.rels[h.idx].rev.get(0))
			case sub != noID:
				all = append(all, v.s.rels[h.idx].rev.get(sub))
			}
		}
		out = or(all)
	case opComputed:
		out = v.candidates(e.target, st, sub, depth+1)
	case opExclude:
		out = v.candidates(e.kids[0], st, sub, depth+1)
	case opUnion:
		all := make([]*roaring.Bitmap, 0, len(e.kids))
		for _, k := range e.kids {
			b := v.candidates(k, st, sub, depth+1)
			if b == nil {
				return v.m.put(e, nil)
			}
			all = append(all, b)
		}
		out = or(all)
	case opIntersect:
		for _, k := range e.kids {
			b := v.candidates(k, st, sub, depth+1)
			switch {
			case b == nil:
			case out == nil:
				out = b
			default:
				out = roaring.And(out, b)
			}
		}
	case opArrow:
		var all []*roaring.Bitmap
		for _, step := range e.steps {
			then := v.candidates(step.then, st, sub, depth+1)
			if then == nil || then.GetCardinality() > manyCandidates {
				return v.m.put(e, nil)
			}
			back := v.s.rels[step.via.idx].rev
			then.Iterate(func(o uint32) bool {
				all = append(all, back.get(o))
				return true
			})
		}
		out = or(all)
	}
	return v.m.put(e, out)
}

// or is the union of sets (none for none); it must not be changed.
func or(all []*roaring.Bitmap) *roaring.Bitmap {
	switch len(all) {
	case 0:
		return none
	case 1:
		return all[0]
	}
	return roaring.FastOr(all...)
}

// Grants are what grant a user a permission of the catalog, by SpiceDB id,
// each sorted: his security groups whose role grants it and whose scope
// holds the customer (every customer, for a permission of the MSP), the
// customer's time-bound grants that grant it to him, and his end-customer
// roles there that grant it.
type Grants struct {
	SecurityGroups, Grants, EndCustomerRoles []string
}

// grantsOf names what grants user p on customer, or on msp when customer is
// "" (ids are SpiceDB's).
func (v eval) grantsOf(msp, user, customer string, p catalog.Permission) Grants {
	s := v.s
	var out Grants
	u, m := v.number(prog.user, user), v.number(prog.msp, msp)
	if u == noID {
		return out
	}
	c := uint32(noID)
	if customer != "" {
		c = v.number(prog.customer, customer)
	}
	grants := prog.securityGroup.rels[p.Relation()]
	var groups []uint32
	s.rels[prog.sgMembers].rev.get(u).Iterate(func(g uint32) bool {
		if grants == nil || !v.is(grants, g, prog.user, u, 0) {
			return true
		}
		covers := s.rels[prog.allSGs].has(m, g)
		if c != noID {
			covers = covers || s.rels[prog.customerSGs].has(c, g) ||
				s.rels[prog.groupSGs].rev.get(g).Intersects(s.rels[prog.grouped].fwd.get(c)) ||
				(s.rels[prog.associatedSGs].has(m, g) && s.access(user, customer))
		}
		if covers {
			groups = append(groups, g)
		}
		return true
	})
	sgs := s.tables[prog.securityGroup.idx]
	for _, g := range sgs.sortByID(groups) {
		out.SecurityGroups = append(out.SecurityGroups, sgs.names[g])
	}
	if c == noID {
		return out
	}
	if byGrant := prog.grant.rels[p.Relation()]; byGrant != nil && p.Scoped {
		l := &s.rels[prog.customerGrants]
		var approved []uint32
		l.fwd.get(c).Iterate(func(g uint32) bool {
			if l.live(c, g, v.now) && v.is(byGrant, g, prog.user, u, 0) {
				approved = append(approved, g)
			}
			return true
		})
		gs := s.tables[prog.grant.idx]
		for _, g := range gs.sortByID(approved) {
			out.Grants = append(out.Grants, gs.names[g])
		}
	}
	for _, r := range catalog.EndCustomerRoles {
		h := prog.keys[relKey{typeCustomer, endCustomerRelation(r.ID), typeUser, false}]
		if h != nil && slices.Contains(r.Permissions, p.ID) && s.rels[h.idx].has(c, u) {
			out.EndCustomerRoles = append(out.EndCustomerRoles, r.ID)
		}
	}
	slices.Sort(out.EndCustomerRoles)
	return out
}

// endCustomerRelation is the customer's relation that holds the users of
// an end-customer role.
func endCustomerRelation(role string) string { return "end_customer_" + role }
