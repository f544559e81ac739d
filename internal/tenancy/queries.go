package tenancy

import (
	"context"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
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
		if _, err := s.snapshot(ctx, msp); err != nil {
			return nil, err
		}
		return nil, fault.New(fault.NotFound, "%s: %s %q not found", obj.field, typeNames[obj.typ], obj.ids[0])
	}
	sn := &snapshot{s: s, msp: msp, rev: rev}
	if obj.typ == typeUser {
		err = sn.authorizeAbout(ctx, []Pair{{UserID: obj.ids[0]}})
	} else {
		err = sn.authorize(ctx, permUsersManage, mspObject(msp))
	}
	if err != nil {
		return nil, err
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
