package tenancy

import (
	"context"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// CheckResult answers "may this user reach this customer", with every path
// that grants it and the revision SpiceDB answered at.
type CheckResult struct {
	Allowed   bool
	Via       []string
	CheckedAt string
}

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

// CheckAccess answers whether user reaches customer, at a revision at least as
// fresh as atLeastAsFresh (the newest, when empty), and names every path.
func (s *Service) CheckAccess(ctx context.Context, msp, customer, user, atLeastAsFresh string) (*CheckResult, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("userId", user)); err != nil {
		return nil, err
	}
	c, u := customerObject(msp, customer), userObject(msp, user)
	allowed, rev, err := s.graph.Check(ctx, []graph.Check{{Resource: c, Permission: PermissionAccess, Subject: u}}, consistency(atLeastAsFresh))
	if err != nil {
		return nil, tokenError(err, atLeastAsFresh)
	}
	res := &CheckResult{Allowed: allowed[0], CheckedAt: string(rev)}
	if !res.Allowed {
		// Access implies that both exist in the MSP; a denial must tell an
		// unknown object apart.
		found, _, err := s.graph.Check(ctx, []graph.Check{
			{Resource: c, Permission: relMSP, Subject: mspObject(msp)},
			{Resource: u, Permission: relMSP, Subject: mspObject(msp)},
		}, graph.At(rev))
		if err != nil {
			return nil, err
		}
		if !found[0] || !found[1] {
			return nil, s.notFound(ctx, msp, existing{"resource", typeCustomer, []string{customer}}, found[0], existing{"subject", typeUser, []string{user}})
		}
		return res, nil
	}
	sn := &snapshot{s: s, msp: msp, rev: rev}
	x := newPathIndex()
	err = readEach(ctx, sn, rev, []graph.Filter{
		{ResourceType: typeCustomer, ResourceID: c.ID, Relation: relDirect, SubjectType: typeUser, SubjectID: u.ID},
		{ResourceType: typeCustomer, ResourceID: c.ID, Relation: relCustomerGroup},
		{ResourceType: typeCustomerGroup, Relation: relMember, SubjectType: typeUser, SubjectID: u.ID},
	}, func(f graph.Filter) graph.Filter { return f }, func(_ graph.Filter, rels []graph.Relationship) {
		for _, r := range rels {
			switch r.Relation {
			case relDirect:
				x.direct[Pair{user, customer}] = true
			case relCustomerGroup:
				addTo(x.groupsOf, customer, localID(msp, r.Subject.ID))
			case relMember:
				addTo(x.membersOf, localID(msp, r.Resource.ID), user)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	res.Via = x.paths(user, customer, nil)
	return res, nil
}

// notFound explains which of the first object (found or not) and the second
// one is missing, or that the MSP itself is.
func (s *Service) notFound(ctx context.Context, msp string, first existing, firstFound bool, second existing) error {
	if _, err := s.snapshot(ctx, msp); err != nil {
		return err
	}
	missing := second
	if !firstFound {
		missing = first
	}
	return fault.New(fault.NotFound, "%s: %s %q not found", missing.field, typeNames[missing.typ], missing.ids[0])
}

// CustomersOfUser lists every customer the user reaches, with paths.
func (s *Service) CustomersOfUser(ctx context.Context, msp, user, atLeastAsFresh string) (*Reach, error) {
	if err := firstError(checkID("mspId", msp), checkID("userId", user)); err != nil {
		return nil, err
	}
	return s.reach(ctx, msp, existing{"userId", typeUser, []string{user}}, atLeastAsFresh, func(rev graph.Revision) ([]Pair, error) {
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
	return s.reach(ctx, msp, existing{"customerId", typeCustomer, []string{customer}}, atLeastAsFresh, func(rev graph.Revision) ([]Pair, error) {
		ids, _, err := s.graph.LookupSubjects(ctx, customerObject(msp, customer), PermissionAccess, typeUser, graph.At(rev))
		pairs := make([]Pair, len(ids))
		for i, id := range ids {
			pairs[i] = Pair{localID(msp, id), customer}
		}
		return pairs, err
	})
}

// reach checks that the object exists at a revision at least as fresh as the
// caller asked, looks up its pairs at that same revision, and names their paths.
func (s *Service) reach(ctx context.Context, msp string, obj existing, atLeastAsFresh string, lookup func(graph.Revision) ([]Pair, error)) (*Reach, error) {
	found, rev, err := s.graph.Check(ctx, []graph.Check{{Resource: scoped(obj.typ, msp, obj.ids[0]), Permission: relMSP, Subject: mspObject(msp)}}, consistency(atLeastAsFresh))
	if err != nil {
		return nil, tokenError(err, atLeastAsFresh)
	}
	if !found[0] {
		return nil, s.notFound(ctx, msp, obj, false, obj)
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
	sn := &snapshot{s: s, msp: msp, rev: rev}
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
