package tenancy

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// OriginLocal is the origin of what was made here, rather than by a
// connected system through a sync.
const OriginLocal = "local"

// ObjectKind names a kind of object that records its origin.
type ObjectKind string

// The kinds of objects a connected system may own.
const (
	KindUser          ObjectKind = "user"
	KindCustomerGroup ObjectKind = "customerGroup"
	KindSecurityGroup ObjectKind = "securityGroup"
)

var kindOfType = map[string]ObjectKind{
	typeUser:          KindUser,
	typeCustomerGroup: KindCustomerGroup,
	typeSecurityGroup: KindSecurityGroup,
}

// ObjectRef names one object of an MSP by kind and id.
type ObjectRef struct {
	Kind ObjectKind
	ID   string
}

// writtenBy returns ctx whose writes tell the change feed their origin.
func writtenBy(ctx context.Context, origin string) context.Context {
	return graph.WithWriteMetadata(ctx, map[string]string{MetadataOrigin: origin})
}

func syncOriginObject(msp, system string) graph.Object { return scoped(typeSyncOrigin, msp, system) }

// originOf is the origin an object's attributes record.
func originOf(attributes graph.Relationship) string {
	if o := attributes.Attribute(attrOrigin); o != "" {
		return o
	}
	return OriginLocal
}

// membershipOrigin is the origin of a user's membership in a group of the
// given origin: the group's system when that system assigned it, else local.
func membershipOrigin(groupOrigin string, synced bool) string {
	if synced {
		return groupOrigin
	}
	return OriginLocal
}

// touchedObjects are the objects of an origin-recording kind whose own facts
// updates change: their attributes and memberships, a customer group's
// customers, a user's membership of the MSP.
func touchedObjects(updates []graph.Update) []graph.Object {
	set := map[graph.Object]bool{}
	for _, u := range updates {
		r := u.Relationship
		switch {
		case kindOfType[r.Resource.Type] != "":
			set[r.Resource] = true
		case r.Resource.Type == typeCustomer && r.Relation == relCustomerGroup,
			r.Resource.Type == typeMSP && r.Relation == relMember:
			set[r.Subject] = true
		}
	}
	out := slices.Collect(maps.Keys(set))
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// localEdits are what a local save writes, besides its updates, about the
// origins of what it edits: a drift mark on each object of a connected system
// it edits (driftMarks), and the end of the system's marker on each
// membership it writes (unsyncedMemberships).
func (sn *snapshot) localEdits(ctx context.Context, updates []graph.Update) ([]graph.Update, error) {
	marks, err := sn.driftMarks(ctx, updates)
	if err != nil {
		return nil, err
	}
	unsynced, err := sn.unsyncedMemberships(ctx, updates)
	return append(marks, unsynced...), err
}

// unsyncedMemberships deletes the synced_member marker of every membership of
// a customer group or security group that updates write, added or removed:
// any local write of a membership decides its origin. One a sync made,
// removed here and added back here, is local from then on, and no later sync
// removes it.
func (sn *snapshot) unsyncedMemberships(ctx context.Context, updates []graph.Update) ([]graph.Update, error) {
	written := map[graph.Object]map[graph.Object]bool{} // group -> users whose membership is written
	for _, u := range updates {
		r := u.Relationship
		if r.Relation != relMember || r.Resource.Type != typeCustomerGroup && r.Resource.Type != typeSecurityGroup {
			continue
		}
		if written[r.Resource] == nil {
			written[r.Resource] = map[graph.Object]bool{}
		}
		written[r.Resource][r.Subject] = true
	}
	groups := slices.SortedFunc(maps.Keys(written), func(a, b graph.Object) int { return strings.Compare(a.String(), b.String()) })
	var out []graph.Update
	err := readEach(ctx, sn, sn.rev, groups, func(g graph.Object) graph.Filter {
		return graph.Filter{ResourceType: g.Type, ResourceID: g.ID, Relation: relSyncedMember}
	}, func(g graph.Object, markers []graph.Relationship) {
		for _, m := range markers {
			if written[g][m.Subject] {
				out = append(out, graph.Update{Op: graph.Delete, Relationship: m})
			}
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Relationship.String() < out[j].Relationship.String() })
	return out, err
}

// driftMarks are the marks a local save leaves on the objects of connected
// systems it edits: each is listed as drifted until its system's next sync.
func (sn *snapshot) driftMarks(ctx context.Context, updates []graph.Update) ([]graph.Update, error) {
	var marks []graph.Update
	err := readEach(ctx, sn, sn.rev, touchedObjects(updates), func(o graph.Object) graph.Filter {
		return graph.Filter{ResourceType: o.Type, ResourceID: o.ID, Relation: relAttributes}
	}, func(o graph.Object, rels []graph.Relationship) {
		if len(rels) == 0 || originOf(rels[0]) == OriginLocal {
			return
		}
		marks = append(marks, graph.Update{Op: graph.Touch, Relationship: graph.Rel(syncOriginObject(sn.msp, originOf(rels[0])), relDrifted, o)})
	})
	sort.Slice(marks, func(i, j int) bool { return marks[i].Relationship.String() < marks[j].Relationship.String() })
	return marks, err
}

// DriftedObject is an object of a connected system edited here since that
// system's last sync: the next sync overwrites the edit.
type DriftedObject struct {
	ObjectRef
	// Deleted: the object was deleted here; the next sync creates it again.
	Deleted bool
}

// Drift is what was edited here of one connected system's objects.
type Drift struct {
	System string
	// LastSyncedAt is when the system's last sync was written (RFC 3339), or "".
	LastSyncedAt string
	Objects      []DriftedObject
}

const attrLastSyncedAt = "last_synced_at"

// Drift lists the objects of a connected system that were edited here
// since its last sync.
func (s *Service) Drift(ctx context.Context, msp, system string) (*Drift, error) {
	if err := firstError(checkID("mspId", msp), checkSystem(system)); err != nil {
		return nil, err
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	if err := sn.authorize(ctx, permUsersManage, mspObject(msp)); err != nil {
		return nil, err
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeSyncOrigin, ResourceID: syncOriginObject(msp, system).ID})
	if err != nil {
		return nil, err
	}
	d := &Drift{System: system}
	var drifted []graph.Object
	for _, r := range rels {
		switch r.Relation {
		case relAttributes:
			d.LastSyncedAt = r.Attribute(attrLastSyncedAt)
		case relDrifted:
			drifted = append(drifted, r.Subject)
		}
	}
	err = readEach(ctx, sn, sn.rev, drifted, func(o graph.Object) graph.Filter {
		return graph.Filter{ResourceType: o.Type, ResourceID: o.ID, Relation: relAttributes}
	}, func(o graph.Object, rels []graph.Relationship) {
		d.Objects = append(d.Objects, DriftedObject{ObjectRef: ObjectRef{kindOfType[o.Type], localID(msp, o.ID)}, Deleted: len(rels) == 0})
	})
	sortRefs(d.Objects, func(o DriftedObject) ObjectRef { return o.ObjectRef })
	return d, err
}

func sortRefs[T any](items []T, ref func(T) ObjectRef) {
	sort.Slice(items, func(i, j int) bool {
		a, b := ref(items[i]), ref(items[j])
		return a.Kind < b.Kind || a.Kind == b.Kind && a.ID < b.ID
	})
}
