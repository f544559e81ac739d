package tenancy

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// plan builds the updates of a save from a snapshot; it runs again, on a fresh
// snapshot, whenever the save loses a race.
type plan func(ctx context.Context, sn *snapshot) ([]graph.Update, error)

// save runs a plan as one atomic write of msp and reports what it did to access.
//
// The way of every save: read the MSP's save epoch at full consistency (this
// pins revision R); build the updates from reads at R; find every (user,
// customer) pair whose paths change; predict, from the path edges read at R,
// which pairs lose their last path; refuse the save if a guard forbids one of
// them; otherwise write the updates, the alert-contact removals and a new save
// epoch in one WriteRelationships that requires the epoch read at R. If another
// save committed since R the write fails and everything is recomputed. The
// report is then asked of SpiceDB at the write's own revision.
func (s *Service) save(ctx context.Context, msp string, validateOnly bool, build plan) (*Report, error) {
	return s.saveAs(ctx, msp, OriginLocal, validateOnly, build)
}

// saveAs runs a save on behalf of origin: OriginLocal for the forms, which
// mark the connected systems' objects they edit as drifted, or the connected
// system whose sync it is.
func (s *Service) saveAs(ctx context.Context, msp, origin string, validateOnly bool, build plan) (*Report, error) {
	var rep *Report
	err := s.retry(ctx, msp, func(ctx context.Context) error {
		sn, err := s.snapshot(ctx, msp)
		if err != nil {
			return err
		}
		sn.origin = origin
		updates, err := build(ctx, sn)
		if err != nil {
			return err
		}
		touchUpdates(ctx, msp, updates)
		rep, err = sn.apply(ctx, updates, validateOnly)
		return err
	})
	return rep, err
}

func (sn *snapshot) apply(ctx context.Context, updates []graph.Update, validateOnly bool) (*Report, error) {
	if len(updates) == 0 {
		return &Report{WrittenAt: writtenAt(sn.rev, validateOnly)}, nil
	}
	if err := sn.guardAdministrators(ctx, updates); err != nil {
		return nil, err
	}
	d := deltaOf(sn.msp, updates)
	pairs, err := sn.affectedPairs(ctx, d)
	if err != nil {
		return nil, err
	}
	sd, users, customers := sideFor(pairs)
	ids := users
	if sd == customerSide {
		ids = customers
	}
	idx, err := sn.loadPaths(ctx, sn.rev, sd, ids, d.addedGroups(sd))
	if err != nil {
		return nil, err
	}

	var lost, gained, dissociated []Pair
	predicted := make(map[Pair][]string, len(pairs))
	for _, p := range pairs {
		before, after := idx.paths(p.UserID, p.CustomerID, nil), idx.paths(p.UserID, p.CustomerID, d)
		predicted[p] = after
		if len(without(before, after)) > 0 {
			lost = append(lost, p)
			if len(after) == 0 && !d.goneCustomers[p.CustomerID] {
				dissociated = append(dissociated, p)
			}
		}
		if len(without(after, before)) > 0 {
			gained = append(gained, p)
		}
	}

	removals, err := sn.guard(ctx, d, sd, idx, dissociated)
	if err != nil {
		return nil, err
	}
	hadAccess, err := sn.accessAt(ctx, sn.rev, gained)
	if err != nil {
		return nil, err
	}

	if validateOnly {
		rep := &Report{AlertContactsRemoved: removals}
		classify(rep, lost, gained, hadAccess, func(p Pair) bool { return len(predicted[p]) > 0 })
		for i, r := range rep.Retained {
			rep.Retained[i].Via = predicted[r.Pair]
		}
		return rep, nil
	}

	written := slices.Clone(updates)
	for _, r := range removals {
		written = append(written, graph.Update{Op: graph.Delete, Relationship: graph.Rel(
			alertGroupObject(sn.msp, r.CustomerID, r.AlertGroupID), relContact, userObject(sn.msp, r.UserID))})
	}
	if sn.origin == OriginLocal {
		edits, err := sn.localEdits(ctx, written)
		if err != nil {
			return nil, err
		}
		written = append(written, edits...)
	}
	rev, err := sn.write(ctx, dedupe(written))
	if err != nil {
		return nil, err
	}

	// From here on the save has landed: the report is asked of SpiceDB at
	// rev. If it cannot be, the caller must still learn that the save landed.
	rep := &Report{WrittenAt: string(rev), AlertContactsRemoved: removals}
	landed := func(err error) error { return landedError(rev, "its report could not be computed", err) }
	hasAccess, err := sn.accessAt(ctx, rev, append(slices.Clone(lost), gained...))
	if err != nil {
		return nil, landed(err)
	}
	classify(rep, lost, gained, hadAccess, func(p Pair) bool { return hasAccess[p] })
	if err := sn.explainRetained(ctx, rev, rep.Retained); err != nil {
		return nil, landed(err)
	}
	for _, p := range rep.Dissociated {
		if len(predicted[p]) > 0 {
			slog.WarnContext(ctx, "a save dissociated a pair it predicted would keep access: the graph was changed outside mspauthz",
				"msp", sn.msp, "user", p.UserID, "customer", p.CustomerID)
		}
	}
	return rep, nil
}

// write commits a save's updates with the snapshot's epoch rotation, in one
// atomic WriteRelationships call when they fit in one (at most
// s.maxUpdatesPerWrite updates, of which at most s.maxDeletesPerWrite
// deletions), and otherwise in a chain of calls: each requires the epoch the
// previous one wrote, so no other save interleaves, and every removal is
// written before any addition, so no state along the chain grants an access
// that the state before the save did not grant or the state after it will
// not grant. If a later call of the chain fails, the save is partly written:
// the error says so, and running the same save again completes it. It
// returns the revision of the last call, and counts the calls in sn.writes.
func (sn *snapshot) write(ctx context.Context, updates []graph.Update) (graph.Revision, error) {
	ctx = writtenBy(ctx, sn.origin)
	// Each call also rotates the epoch: one deletion and one creation.
	per, perDeletes := sn.s.maxUpdatesPerWrite-2, sn.s.maxDeletesPerWrite-1
	var removals, additions []graph.Update
	for _, u := range updates {
		if u.Op == graph.Delete {
			removals = append(removals, u)
		} else {
			additions = append(additions, u)
		}
	}
	var chunks [][]graph.Update
	if len(updates) <= per && len(removals) <= perDeletes {
		chunks = [][]graph.Update{updates}
	} else {
		chunks = append(chunked(removals, min(per, perDeletes)), chunked(additions, per)...)
	}
	var rev graph.Revision
	for i, chunk := range chunks {
		rotation := sn.epochUpdates()
		preconditions := []graph.Precondition{sn.epochPrecondition()}
		if i == 0 {
			for _, f := range sn.absent {
				preconditions = append(preconditions, graph.Precondition{Filter: f})
			}
		}
		next, err := sn.s.graph.Write(ctx, append(slices.Clone(chunk), rotation...), preconditions)
		if err != nil && i > 0 {
			return "", fault.Wrap(err, fault.Unavailable,
				"the save was partly written: %d of its %d writes landed (the last at %s) before this one failed; run it again to complete it", i, len(chunks), rev)
		}
		if err != nil {
			return "", err
		}
		rev, sn.writes = next, i+1
		sn.epoch = rotation[1].Relationship // the next call requires the epoch this one wrote
	}
	return rev, nil
}

// chunked cuts updates into runs of at most n.
func chunked(updates []graph.Update, n int) [][]graph.Update {
	var out [][]graph.Update
	for len(updates) > 0 {
		k := min(n, len(updates))
		out = append(out, updates[:k])
		updates = updates[k:]
	}
	return out
}

// landedError is the error of a save that was written at rev but failed
// after (what could not be done): the caller must still learn that it landed,
// and at which revision (the error's details) to ask again.
func landedError(rev graph.Revision, what string, err error) error {
	return fault.Wrap(err, fault.Unavailable, "the save was written at %s, but %s; ask again with atLeastAsFresh", rev, what).WithDetails(rev)
}

func writtenAt(rev graph.Revision, validateOnly bool) string {
	if validateOnly {
		return ""
	}
	return string(rev)
}

// classify sorts the pairs that lost or gained a path into the report, given
// who had access before and who has it after.
func classify(rep *Report, lost, gained []Pair, hadAccess map[Pair]bool, hasAccess func(Pair) bool) {
	for _, p := range lost {
		if hasAccess(p) {
			rep.Retained = append(rep.Retained, RetainedPair{Pair: p})
		} else {
			rep.Dissociated = append(rep.Dissociated, p)
		}
	}
	for _, p := range gained {
		if !hadAccess[p] && hasAccess(p) {
			rep.Associated = append(rep.Associated, p)
		}
	}
	sortPairs(rep.Associated)
	sortPairs(rep.Dissociated)
	sort.Slice(rep.Retained, func(i, j int) bool { return lessPair(rep.Retained[i].Pair, rep.Retained[j].Pair) })
}

// explainRetained names, from the relationships at rev, the paths that keep
// each retained pair's access.
func (sn *snapshot) explainRetained(ctx context.Context, rev graph.Revision, retained []RetainedPair) error {
	if len(retained) == 0 {
		return nil
	}
	pairs := make([]Pair, len(retained))
	for i, r := range retained {
		pairs[i] = r.Pair
	}
	idx, err := sn.loadPairs(ctx, rev, pairs)
	if err != nil {
		return err
	}
	for i, r := range retained {
		retained[i].Via = idx.paths(r.UserID, r.CustomerID, nil)
	}
	return nil
}

// affectedPairs lists every pair whose paths the delta may change: the pair of
// each direct edge, the members of a group times each customer it gains or
// loses, and each user a group gains or loses times the group's customers.
func (sn *snapshot) affectedPairs(ctx context.Context, d *delta) ([]Pair, error) {
	membersOf, customersOf := map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, set := range []map[edge]bool{d.removed, d.added} {
		for e := range set {
			switch e.relation {
			case relCustomerGroup:
				membersOf[e.to] = map[string]bool{}
			case relMember:
				customersOf[e.from] = map[string]bool{}
			}
		}
	}
	msp := sn.msp
	err := readEach(ctx, sn, sn.rev, slices.Sorted(maps.Keys(membersOf)), func(g string) graph.Filter {
		return graph.Filter{ResourceType: typeCustomerGroup, ResourceID: customerGroupObject(msp, g).ID, Relation: relMember}
	}, func(g string, rels []graph.Relationship) {
		for _, r := range rels {
			membersOf[g][localID(msp, r.Subject.ID)] = true
		}
	})
	if err != nil {
		return nil, err
	}
	err = readEach(ctx, sn, sn.rev, slices.Sorted(maps.Keys(customersOf)), func(g string) graph.Filter {
		return graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: typeCustomerGroup, SubjectID: customerGroupObject(msp, g).ID}
	}, func(g string, rels []graph.Relationship) {
		for _, r := range rels {
			customersOf[g][localID(msp, r.Resource.ID)] = true
		}
	})
	if err != nil {
		return nil, err
	}
	// A group's members and customers after the delta include those it adds.
	for e := range d.added {
		switch {
		case e.relation == relMember && membersOf[e.from] != nil:
			membersOf[e.from][e.to] = true
		case e.relation == relCustomerGroup && customersOf[e.to] != nil:
			customersOf[e.to][e.from] = true
		}
	}

	set := map[Pair]bool{}
	for _, edges := range []map[edge]bool{d.removed, d.added} {
		for e := range edges {
			switch e.relation {
			case relDirect:
				set[Pair{e.to, e.from}] = true
			case relCustomerGroup:
				for u := range membersOf[e.to] {
					set[Pair{u, e.from}] = true
				}
			case relMember:
				for c := range customersOf[e.from] {
					set[Pair{e.to, c}] = true
				}
			}
		}
	}
	pairs := slices.Collect(maps.Keys(set))
	sortPairs(pairs)
	return pairs, nil
}

// addedGroups are the groups whose other end a path index must load to see
// the delta's added edges: on the customer side the groups customers join, on
// the user side the groups users join.
func (d *delta) addedGroups(sd side) []string {
	var out []string
	for e := range d.added {
		switch {
		case sd == customerSide && e.relation == relCustomerGroup:
			out = append(out, e.to)
		case sd == userSide && e.relation == relMember:
			out = append(out, e.from)
		}
	}
	return out
}

// without returns the elements of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func dedupe(updates []graph.Update) []graph.Update {
	seen := make(map[string]bool, len(updates))
	out := updates[:0]
	for _, u := range updates {
		key := u.Relationship.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, u)
	}
	return out
}

func lessPair(a, b Pair) bool { return comparePairs(a, b) < 0 }

// comparePairs orders pairs by user, then customer.
func comparePairs(a, b Pair) int {
	return cmp.Or(strings.Compare(a.UserID, b.UserID), strings.Compare(a.CustomerID, b.CustomerID))
}

func sortPairs(ps []Pair) { sort.Slice(ps, func(i, j int) bool { return lessPair(ps[i], ps[j]) }) }
