package tenancy

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// snapshot is one MSP's graph as read at one revision: every read of a save is
// made at the same revision, and the save commits only if the MSP's save epoch
// is still the one read here.
type snapshot struct {
	s     *Service
	msp   string
	rev   graph.Revision
	epoch graph.Relationship
	// origin is who the save is made for: OriginLocal, or a connected system.
	origin string
	// writes counts the WriteRelationships calls of the save's write.
	writes int
	// absent are relationships that must still not exist when the save is
	// written (requireAbsent).
	absent []graph.Filter
}

// requireAbsent makes the save's write require that no relationship f
// matches, inside its transaction: a claim that is unique beyond the MSP
// (an issuer) or that a write outside the saves could take (an externalId
// of a user being created). A save that loses it is recomputed, and its
// plan then sees the claim taken.
func (sn *snapshot) requireAbsent(f graph.Filter) {
	sn.absent = append(sn.absent, f)
}

// snapshot reads msp's save epoch at full consistency — or at least as fresh
// as the context's floor (withFreshFloor) — and pins its revision.
func (s *Service) snapshot(ctx context.Context, msp string) (*snapshot, error) {
	return s.snapshotAtLeast(ctx, msp, "")
}

// snapshotAtLeast is snapshot at least as fresh as a caller's ZedToken
// atLeastAsFresh, when given: every read that answers a checkedAt pins its
// revision so.
func (s *Service) snapshotAtLeast(ctx context.Context, msp, atLeastAsFresh string) (*snapshot, error) {
	if err := checkID("mspId", msp); err != nil {
		return nil, err
	}
	consistency := consistency(atLeastAsFresh)
	if floor, ok := ctx.Value(freshFloorKey{}).(graph.Revision); ok && atLeastAsFresh == "" {
		consistency = graph.AtLeast(floor)
	}
	rels, rev, err := s.graph.Read(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relSaveEpoch}, consistency)
	if err != nil {
		return nil, tokenError(err, atLeastAsFresh)
	}
	if len(rels) == 0 {
		return nil, fault.New(fault.NotFound, "msp %q not found", msp)
	}
	return &snapshot{s: s, msp: msp, rev: rev, epoch: rels[0]}, nil
}

type freshFloorKey struct{}

// withFreshFloor makes the snapshots taken with the returned context see
// every write acknowledged before now, which a fully consistent read of
// SpiceDB v1.56.0 does not promise under load (see graph.Full).
func (s *Service) withFreshFloor(ctx context.Context) (context.Context, error) {
	rev, err := s.graph.FreshRevision(ctx)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, freshFloorKey{}, rev), nil
}

// read returns the relationships the filter matches at the snapshot's revision.
func (sn *snapshot) read(ctx context.Context, f graph.Filter) ([]graph.Relationship, error) {
	rels, _, err := sn.s.graph.Read(ctx, f, graph.At(sn.rev))
	return rels, err
}

// each runs fn for every key, at most limit at a time, and returns the first error.
func each[K any](ctx context.Context, limit int, keys []K, fn func(context.Context, K) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, k := range keys {
		g.Go(func() error { return fn(ctx, k) })
	}
	return g.Wait()
}

// readEach runs one read per key at rev, in parallel, and hands each result to
// collect (called under a lock, so it may write to shared maps).
func readEach[K comparable](ctx context.Context, sn *snapshot, rev graph.Revision, keys []K, filter func(K) graph.Filter, collect func(K, []graph.Relationship)) error {
	var mu sync.Mutex
	return each(ctx, sn.s.readParallelism, keys, func(ctx context.Context, k K) error {
		rels, _, err := sn.s.graph.Read(ctx, filter(k), graph.At(rev))
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		collect(k, rels)
		return nil
	})
}

// existing names objects of one type that a request refers to, by the
// request's field.
type existing struct {
	field string
	typ   string
	ids   []string
}

// requireExisting returns NotFound naming the field and the first object that
// does not exist in the MSP at the snapshot's revision — or, for a customer,
// that the actor may not know of (see knownCheck). One bulk check answers for
// every object. Every call names here each customer it touches (its path, its
// selection, its scope) before it asks whether the actor may act: so a
// customer he may not see is "not found", like one that does not exist, and
// never "forbidden". The customer a call is about (a customerId field) is
// recorded as touched here (see Touched).
func (sn *snapshot) requireExisting(ctx context.Context, wants ...existing) error {
	type ref struct {
		field, typ, id string
	}
	var refs []ref
	var checks []graph.Check
	actor, err := sn.sightOf(ctx, wants)
	if err != nil {
		return err
	}
	for _, w := range wants {
		if w.typ == typeCustomer && strings.HasSuffix(strings.ToLower(w.field), "customerid") {
			// The customer the call is about; a selection's or a scope's
			// customers are touched by what the save changes of them.
			touch(ctx, w.ids...)
		}
		for _, id := range w.ids {
			refs = append(refs, ref{w.field, w.typ, id})
			checks = append(checks, knownCheck(sn.msp, actor, w.typ, id))
		}
	}
	if len(checks) == 0 {
		return nil
	}
	found, _, err := sn.s.graph.Check(ctx, checks, graph.At(sn.rev))
	if err != nil {
		return err
	}
	for i, ok := range found {
		if !ok {
			return fault.New(fault.NotFound, "%s: %s %q not found", refs[i].field, typeNames[refs[i].typ], refs[i].id)
		}
	}
	return nil
}

// sightBulkLimit is how many customers one call may name before
// requireExisting first asks whether the actor sees every customer of the
// MSP: one check, which spares a visibility check (far dearer than one of
// existence) per customer to the MSP's staff who do.
const sightBulkLimit = 16

// sightOf is whose sight decides which of the customers wants names exist:
// the actor's, or a trusted service's (every customer that exists) when he
// sees every customer of the MSP (customers.view spanning them all) and
// wants names more than sightBulkLimit.
func (sn *snapshot) sightOf(ctx context.Context, wants []existing) (Actor, error) {
	a := actorFrom(ctx)
	named := 0
	for _, w := range wants {
		if w.typ == typeCustomer {
			named += len(w.ids)
		}
	}
	if a.UserID == "" || named <= sightBulkLimit {
		return a, nil
	}
	u := userObject(sn.msp, a.UserID)
	all, _, err := sn.s.graph.Check(ctx, []graph.Check{
		{Resource: mspObject(sn.msp), Permission: "all_" + relationOf(permCustomersView), Subject: u},
		existenceCheck(sn.msp, typeUser, a.UserID),
	}, graph.At(sn.rev))
	if err != nil {
		return a, err
	}
	if all[0] && all[1] {
		return Actor{}, nil
	}
	return a, nil
}

// typeEndCustomerUser names, for existence checks only, a user of one of the
// MSP's customers; typeUser there means an MSP user (staff).
const typeEndCustomerUser = "end_customer_user"

// existenceCheck is the check that proves one of msp's objects exists. An MSP
// user exists as a member of the MSP, an end-customer user as one of its
// customers' users; other objects by their msp relationship.
func existenceCheck(msp, typ, id string) graph.Check {
	switch typ {
	case typeUser:
		return graph.Check{Resource: mspObject(msp), Permission: relMember, Subject: userObject(msp, id)}
	case typeEndCustomerUser:
		return graph.Check{Resource: mspObject(msp), Permission: relEndCustomer, Subject: userObject(msp, id)}
	}
	return graph.Check{Resource: scoped(typ, msp, id), Permission: relMSP, Subject: mspObject(msp)}
}

// knownCheck is the check that proves one of msp's objects exists for the
// actor a: existenceCheck, except that a customer exists for a user only when
// he may know of it (customer#visible, which only a customer of his own MSP
// grants). A trusted service knows of every object.
func knownCheck(msp string, a Actor, typ, id string) graph.Check {
	if typ == typeCustomer && a.UserID != "" {
		return graph.Check{Resource: customerObject(msp, id), Permission: permissionVisible, Subject: userObject(msp, a.UserID)}
	}
	return existenceCheck(msp, typ, id)
}

var typeNames = map[string]string{
	typeEndCustomerUser: "end-customer user",
	typeUser:            "user",
	typeCustomer:        "customer",
	typeCustomerGroup:   "customer group",
	typeRole:            "role",
	typeSecurityGroup:   "security group",
}

// epochUpdates replace the snapshot's save epoch; epochPrecondition requires it unchanged.
func (sn *snapshot) epochUpdates() []graph.Update {
	next := graph.Rel(mspObject(sn.msp), relSaveEpoch, graph.Object{Type: typeSaveEpoch, ID: newEpochID()})
	return []graph.Update{{Op: graph.Delete, Relationship: sn.epoch}, {Op: graph.Create, Relationship: next}}
}

func (sn *snapshot) epochPrecondition() graph.Precondition {
	return graph.Precondition{MustMatch: true, Filter: graph.FilterOf(sn.epoch)}
}
