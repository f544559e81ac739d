package reach

import (
	"math"
	"slices"

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
}

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
			found := false
			l.fwd.get(r).Iterate(func(o uint32) bool {
				if (!step.via.expiring || l.live(r, o, v.now)) && v.is(step.then, o, st, sub, depth+1) {
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
