package tenancy

import (
	"context"
	"sync"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// bulkCheckPairs is the number of pairs up to which access is asked pair by
// pair in one bulk check; above it, one lookup per user or per customer
// (whichever is fewer) costs less than a check per pair.
const bulkCheckPairs = 64

// accessAt asks SpiceDB, at rev, which of the pairs have access.
func (sn *snapshot) accessAt(ctx context.Context, rev graph.Revision, pairs []Pair) (map[Pair]bool, error) {
	out := make(map[Pair]bool, len(pairs))
	if len(pairs) == 0 {
		return out, nil
	}
	msp := sn.msp
	if len(pairs) <= bulkCheckPairs {
		checks := make([]graph.Check, len(pairs))
		for i, p := range pairs {
			checks[i] = graph.Check{Resource: customerObject(msp, p.CustomerID), Permission: PermissionAccess, Subject: userObject(msp, p.UserID)}
		}
		allowed, _, err := sn.s.graph.Check(ctx, checks, graph.At(rev))
		if err != nil {
			return nil, err
		}
		for i, p := range pairs {
			out[p] = allowed[i]
		}
		return out, nil
	}

	wanted := make(map[Pair]bool, len(pairs))
	for _, p := range pairs {
		wanted[p] = true
	}
	sd, users, customers := sideFor(pairs)
	var mu sync.Mutex
	if sd == userSide {
		return out, each(ctx, sn.s.readParallelism, users, func(ctx context.Context, u string) error {
			ids, _, err := sn.s.graph.LookupResources(ctx, typeCustomer, PermissionAccess, userObject(msp, u), graph.At(rev))
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if p := (Pair{u, localID(msp, id)}); wanted[p] {
					out[p] = true
				}
			}
			return nil
		})
	}
	return out, each(ctx, sn.s.readParallelism, customers, func(ctx context.Context, c string) error {
		ids, _, err := sn.s.graph.LookupSubjects(ctx, customerObject(msp, c), PermissionAccess, typeUser, graph.At(rev))
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if p := (Pair{localID(msp, id), c}); wanted[p] {
				out[p] = true
			}
		}
		return nil
	})
}
