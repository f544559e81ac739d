package tenancy

import (
	"context"
	"slices"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
)

// Reach is a list of who reaches what, with paths, and the revision SpiceDB answered at.
type Reach struct {
	Access    []Access
	CheckedAt string
}

// consistency turns a caller's atLeastAsFresh ZedToken into a read consistency.
func consistency(atLeastAsFresh string) graph.Consistency {
	return graph.AtLeast(graph.Revision(atLeastAsFresh))
}

// tokenError names the atLeastAsFresh field when SpiceDB refuses the request
// for an invalid token (every other argument has been checked before).
func tokenError(err error, atLeastAsFresh string) error {
	if atLeastAsFresh != "" && fault.Is(err, fault.Invalid) {
		return fault.Wrap(err, fault.Invalid, "atLeastAsFresh: %q is not a ZedToken this SpiceDB accepts", atLeastAsFresh)
	}
	return err
}

// CustomersOfUser lists every customer the user reaches, with paths.
func (s *Service) CustomersOfUser(ctx context.Context, msp, user, atLeastAsFresh string) (*Reach, error) {
	if err := firstError(checkID("mspId", msp), checkID("userId", user)); err != nil {
		return nil, err
	}
	indexed := func(v reach.View) []Access {
		return accessOf(msp, v.CustomersOf(userObject(msp, user).ID), func(customer string) Pair { return Pair{user, customer} })
	}
	return s.reach(ctx, msp, existing{"userId", typeUser, []string{user}}, atLeastAsFresh, indexed, func(rev graph.Revision) ([]Pair, error) {
		ids, _, err := s.graph.LookupResources(ctx, typeCustomer, PermissionAccess, userObject(msp, user), graph.At(rev))
		pairs := make([]Pair, len(ids))
		for i, id := range ids {
			pairs[i] = Pair{user, localID(msp, id)}
		}
		return pairs, err
	})
}

// UsersOfCustomer lists every user who reaches the customer, with paths.
func (s *Service) UsersOfCustomer(ctx context.Context, msp, customer, atLeastAsFresh string) (*Reach, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer)); err != nil {
		return nil, err
	}
	indexed := func(v reach.View) []Access {
		return accessOf(msp, v.UsersOf(customerObject(msp, customer).ID), func(user string) Pair { return Pair{user, customer} })
	}
	return s.reach(ctx, msp, existing{"customerId", typeCustomer, []string{customer}}, atLeastAsFresh, indexed, func(rev graph.Revision) ([]Pair, error) {
		ids, _, err := s.graph.LookupSubjects(ctx, customerObject(msp, customer), PermissionAccess, typeUser, graph.At(rev))
		pairs := make([]Pair, len(ids))
		for i, id := range ids {
			pairs[i] = Pair{localID(msp, id), customer}
		}
		return pairs, err
	})
}

// accessOf is what the index found, as a listing: pair makes each pair of
// an object reached (its id local to the MSP). The index lists them sorted
// by id, which sorts the pairs too, and names few customer groups: each
// one's via is made once.
func accessOf(msp string, reached []reach.Reached, pair func(id string) Pair) []Access {
	out := make([]Access, len(reached))
	labels, name := map[string]string{}, groupLabel(msp)
	label := func(g string) string {
		l, ok := labels[g]
		if !ok {
			l = name(g)
			labels[g] = l
		}
		return l
	}
	paths := 0
	for _, r := range reached {
		paths += r.Count
	}
	via := make([]string, 0, paths)
	for i, r := range reached {
		start := len(via)
		via = appendVia(via, r.Paths, label)
		out[i] = Access{Pair: pair(localID(msp, r.ID)), Via: via[start:len(via):len(via)]}
		if len(out[i].Via) == 0 {
			out[i].Via = nil
		}
	}
	if !slices.IsSortedFunc(out, func(a, b Access) int { return comparePairs(a.Pair, b.Pair) }) {
		slices.SortFunc(out, func(a, b Access) int { return comparePairs(a.Pair, b.Pair) })
	}
	return out
}

// reach checks that the object exists at a revision at least as fresh as the
// caller asked, and lists its pairs with their paths at that same revision:
// from the index (indexed) when it can answer, else from SpiceDB (lookup,
// then the paths' relationships).
func (s *Service) reach(ctx context.Context, msp string, obj existing, atLeastAsFresh string, indexed func(reach.View) []Access, lookup func(graph.Revision) ([]Pair, error)) (*Reach, error) {
	exists := []graph.Check{{Resource: scoped(obj.typ, msp, obj.ids[0]), Permission: relMSP, Subject: mspObject(msp)}}
	var found []bool
	var listed []Access
	rev, fromIndex := s.readIndex(ctx, atLeastAsFresh, func(v reach.View) {
		found, _ = v.Check(exists)
		if found[0] {
			listed = indexed(v)
		}
	})
	if !fromIndex {
		var err error
		if found, rev, err = s.graph.Check(ctx, exists, consistency(atLeastAsFresh)); err != nil {
			return nil, tokenError(err, atLeastAsFresh)
		}
	}
	if !found[0] {
		if _, err := s.snapshot(ctx, msp); err != nil {
			return nil, err
		}
		return nil, fault.New(fault.NotFound, "%s: %s %q not found", obj.field, typeNames[obj.typ], obj.ids[0])
	}
	sn := &snapshot{s: s, msp: msp, rev: rev}
	var err error
	if obj.typ == typeUser {
		err = sn.authorizeAbout(ctx, []Pair{{UserID: obj.ids[0]}})
	} else if err = sn.authorizeSight(ctx, obj.typ, obj.ids[0]); err == nil {
		err = sn.authorize(ctx, permUsersManage, mspObject(msp))
	}
	if err != nil {
		return nil, err
	}
	if fromIndex {
		return &Reach{CheckedAt: string(rev), Access: listed}, nil
	}
	pairs, err := lookup(rev)
	if err != nil {
		return nil, err
	}
	out := &Reach{CheckedAt: string(rev), Access: make([]Access, 0, len(pairs))}
	if len(pairs) == 0 {
		return out, nil
	}
	sd := customerSide
	if obj.typ == typeUser {
		sd = userSide
	}
	x, err := sn.loadPaths(ctx, rev, sd, obj.ids, nil)
	if err != nil {
		return nil, err
	}
	sortPairs(pairs)
	for _, p := range pairs {
		out.Access = append(out.Access, Access{Pair: p, Via: x.paths(p.UserID, p.CustomerID, nil)})
	}
	return out, nil
}

// authorizeAbout lets an actor ask about himself; asking about other users
// needs users.manage.
func (sn *snapshot) authorizeAbout(ctx context.Context, pairs []Pair) error {
	a := actorFrom(ctx)
	if a.UserID == "" {
		return nil
	}
	for _, p := range pairs {
		if p.UserID != a.UserID {
			return sn.authorize(ctx, permUsersManage, mspObject(sn.msp))
		}
	}
	return nil
}
