package tenancy

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
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
	// KindCustomer records its origin only to be deleted here for good (see DeletedHere).
	KindCustomer ObjectKind = "customer"
)

// kindOfType is the kind of each object type that records its origin;
// typeOfKind the other way.
var (
	kindOfType = map[string]ObjectKind{typeUser: KindUser, typeCustomerGroup: KindCustomerGroup, typeSecurityGroup: KindSecurityGroup, typeCustomer: KindCustomer}
	typeOfKind = func() map[ObjectKind]string {
		out := map[ObjectKind]string{}
		for typ, kind := range kindOfType {
			out[kind] = typ
		}
		return out
	}()
)

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
		case kindOfType[r.Resource.Type] != "" && r.Resource.Type != typeCustomer: // a customer's edits are no drift (KindCustomer)
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
	deleted, err := sn.deletedHereMarks(ctx, updates)
	if err != nil {
		return nil, err
	}
	unsynced, err := sn.unsyncedMemberships(ctx, updates)
	return append(append(marks, deleted...), unsynced...), err
}

// deletedHereMarks record, for each object updates delete (its attributes
// go) that a connected system lists, that it was deleted here: that
// system's syncs do not create it again until it is restored (seed 002:
// "Delete is a permanent action"). A system lists what it created, a
// customer of one of its groups, and a user it made a member of one.
func (sn *snapshot) deletedHereMarks(ctx context.Context, updates []graph.Update) ([]graph.Update, error) {
	listing := map[graph.Object]map[string]bool{} // deleted object -> systems listing it
	var groups []graph.Object                     // groups whose origin decides
	via := map[graph.Object][]graph.Object{}      // group -> deleted objects it lists
	for _, u := range updates {
		r := u.Relationship
		if u.Op == graph.Delete && r.Relation == relAttributes && kindOfType[r.Resource.Type] != "" {
			listing[r.Resource] = map[string]bool{}
			if o := originOf(r); o != OriginLocal {
				listing[r.Resource][o] = true
			}
		}
	}
	for _, u := range updates {
		r := u.Relationship
		switch {
		case u.Op != graph.Delete:
		case r.Relation == relSyncedMember && listing[r.Subject] != nil:
			via[r.Resource] = append(via[r.Resource], r.Subject)
		case r.Resource.Type == typeCustomer && r.Relation == relCustomerGroup && listing[r.Resource] != nil:
			via[r.Subject] = append(via[r.Subject], r.Resource)
		}
	}
	for g := range via {
		groups = append(groups, g)
	}
	err := readEach(ctx, sn, sn.rev, groups, func(g graph.Object) graph.Filter {
		return graph.Filter{ResourceType: g.Type, ResourceID: g.ID, Relation: relAttributes}
	}, func(g graph.Object, rels []graph.Relationship) {
		if len(rels) == 0 || originOf(rels[0]) == OriginLocal {
			return
		}
		for _, o := range via[g] {
			listing[o][originOf(rels[0])] = true
		}
	})
	var marks []graph.Update
	for o, systems := range listing {
		for system := range systems {
			marks = append(marks, graph.Update{Op: graph.Touch, Relationship: graph.Rel(syncOriginObject(sn.msp, system), relDeletedHere, o)})
		}
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i].Relationship.String() < marks[j].Relationship.String() })
	return marks, err
}

// unsyncedMemberships deletes the synced_member marker of every membership of
// a customer group or security group that updates add: any local write of a
// membership decides its origin. One a sync made, removed here and added
// back here, is local from then on, and no later sync removes it. A
// membership the system made and removed here keeps its marker: drift names
// it removed here (driftOf), and the system's next sync that lists it puts
// it back.
func (sn *snapshot) unsyncedMemberships(ctx context.Context, updates []graph.Update) ([]graph.Update, error) {
	written := map[graph.Object]map[graph.Object]bool{} // group -> users whose membership is added
	for _, u := range updates {
		r := u.Relationship
		if u.Op == graph.Delete || r.Relation != relMember || r.Resource.Type != typeCustomerGroup && r.Resource.Type != typeSecurityGroup {
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
// The first edit after a sync writes the mark, with the system's display
// name of the object (the one it has before that edit), which later edits
// leave as it is: drift compares it with the name here (driftOf).
func (sn *snapshot) driftMarks(ctx context.Context, updates []graph.Update) ([]graph.Update, error) {
	marks := map[graph.Object]graph.Relationship{}
	var edited []graph.Object
	err := readEach(ctx, sn, sn.rev, touchedObjects(updates), func(o graph.Object) graph.Filter {
		return graph.Filter{ResourceType: o.Type, ResourceID: o.ID, Relation: relAttributes}
	}, func(o graph.Object, rels []graph.Relationship) {
		if len(rels) == 0 || originOf(rels[0]) == OriginLocal {
			return
		}
		marks[o] = graph.Rel(syncOriginObject(sn.msp, originOf(rels[0])), relDrifted, o).
			WithAttributes(map[string]string{attrDisplayName: rels[0].Attribute(attrDisplayName)})
	})
	if err != nil {
		return nil, err
	}
	for o := range marks {
		edited = append(edited, o)
	}
	var out []graph.Update
	err = readEach(ctx, sn, sn.rev, edited, func(o graph.Object) graph.Filter { return graph.FilterOf(marks[o]) },
		func(o graph.Object, rels []graph.Relationship) {
			if len(rels) == 0 {
				out = append(out, graph.Update{Op: graph.Touch, Relationship: marks[o]})
			}
		})
	sort.Slice(out, func(i, j int) bool { return out[i].Relationship.String() < out[j].Relationship.String() })
	return out, err
}

// DriftedObject is an object of a connected system edited here since that
// system's last sync, with what differs from the system's last snapshot:
// the next sync overwrites the edit (SyncResult.Overwrites names what it
// puts back).
type DriftedObject struct {
	ObjectRef
	// Deleted: the object was deleted here; the system's syncs do not
	// create it again until it is restored (RestoreDeletedHere).
	Deleted bool
	// Renamed is its display name here and the system's, when they differ
	// (nil when the edit was marked before drift kept the system's name).
	Renamed *Renamed
	// MembersAdded are the group's members whose membership is local (made
	// here, or made local by detaching the user);
	// MembersRemoved the members the system made that were removed here.
	MembersAdded, MembersRemoved []string
	// CustomersAdded and CustomersRemoved are the same of a customer
	// group's customers.
	CustomersAdded, CustomersRemoved []string
}

// says reports whether d names any difference.
func (d DriftedObject) says() bool {
	return d.Deleted || d.Renamed != nil || len(d.MembersAdded)+len(d.MembersRemoved)+len(d.CustomersAdded)+len(d.CustomersRemoved) > 0
}

// Renamed is a display name changed here: Before is the system's, After the one here.
type Renamed struct{ Before, After string }

// driftOf is what differs of an object from its system's last snapshot:
// mark is its drift mark (zero when it has none), attributes its attributes
// (exists: it was not deleted here), and members and customers what is in
// it, by id, and what of that the system put there.
func driftOf(ref ObjectRef, mark, attributes graph.Relationship, exists bool, members, customers groupSet) DriftedObject {
	d := DriftedObject{ObjectRef: ref, Deleted: !exists}
	if before, after := mark.Attribute(attrDisplayName), attributes.Attribute(attrDisplayName); exists && before != "" && before != after {
		d.Renamed = &Renamed{Before: before, After: after}
	}
	d.MembersAdded, d.MembersRemoved = members.drift()
	d.CustomersAdded, d.CustomersRemoved = customers.drift()
	return d
}

// groupSet is what is in a group (its members, or a customer group's
// customers), and what of it its connected system put there: a marker
// (synced_member, system_customer) says so, and stays when it is removed
// here, so that drift and the next sync know.
type groupSet struct{ in, marked map[string]bool }

// drift is what is in the group without the system's marker (added here),
// and what has a marker and is not in it (removed here).
func (s groupSet) drift() (added, removed []string) {
	for _, id := range slices.Sorted(maps.Keys(s.in)) {
		if !s.marked[id] {
			added = append(added, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.marked)) {
		if !s.in[id] {
			removed = append(removed, id)
		}
	}
	return added, removed
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
	marks := map[graph.Object]graph.Relationship{} // edited object -> its drift mark
	var drifted []graph.Object
	for _, r := range rels {
		switch r.Relation {
		case relAttributes:
			d.LastSyncedAt = r.Attribute(attrLastSyncedAt)
		case relDrifted, relDeletedHere:
			if !slices.Contains(drifted, r.Subject) {
				drifted = append(drifted, r.Subject)
			}
			if r.Relation == relDrifted {
				marks[r.Subject] = r
			}
		}
	}
	// The customers of the drifted customer groups: the relationships that
	// put them in point at the group.
	customersIn := map[graph.Object]map[string]bool{}
	var groups []graph.Object
	for _, o := range drifted {
		if o.Type == typeCustomerGroup {
			groups = append(groups, o)
			customersIn[o] = map[string]bool{}
		}
	}
	err = readEach(ctx, sn, sn.rev, groups, func(g graph.Object) graph.Filter {
		return graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: g.Type, SubjectID: g.ID}
	}, func(g graph.Object, rels []graph.Relationship) {
		for _, r := range rels {
			customersIn[g][localID(msp, r.Resource.ID)] = true
		}
	})
	if err != nil {
		return nil, err
	}
	err = readEach(ctx, sn, sn.rev, drifted, func(o graph.Object) graph.Filter {
		return graph.Filter{ResourceType: o.Type, ResourceID: o.ID}
	}, func(o graph.Object, rels []graph.Relationship) {
		var attributes graph.Relationship
		members := groupSet{in: map[string]bool{}, marked: map[string]bool{}}
		customers := groupSet{in: customersIn[o], marked: map[string]bool{}}
		for _, r := range rels {
			switch r.Relation {
			case relAttributes:
				attributes = r
			case relMember:
				members.in[localID(msp, r.Subject.ID)] = true
			case relSyncedMember:
				members.marked[localID(msp, r.Subject.ID)] = true
			case relSystemCustomer:
				customers.marked[localID(msp, r.Subject.ID)] = true
			}
		}
		ref := ObjectRef{kindOfType[o.Type], localID(msp, o.ID)}
		d.Objects = append(d.Objects, driftOf(ref, marks[o], attributes, attributes.Relation != "", members, customers))
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

// managePermission is the permission that deletes and restores each kind.
var managePermission = map[ObjectKind]string{KindUser: permUsersManage, KindCustomerGroup: permCustomerGroupsManage, KindSecurityGroup: permSecurityGroupsManage, KindCustomer: permCustomersManage}

// RestoreDeletedHere ends the mark that ref was deleted here, which keeps a
// connected system's syncs from creating it again: the system's next sync
// that lists it creates it (NotFound when it is not marked).
func (s *Service) RestoreDeletedHere(ctx context.Context, msp, system string, ref ObjectRef) error {
	typ, ok := typeOfKind[ref.Kind]
	if !ok {
		return fault.New(fault.Invalid, "kind: %q is not one of user, customerGroup, securityGroup, customer", ref.Kind)
	}
	if err := firstError(checkID("mspId", msp), checkSystem(system), checkID("id", ref.ID)); err != nil {
		return err
	}
	mark := graph.Rel(syncOriginObject(msp, system), relDeletedHere, scoped(typ, msp, ref.ID))
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorize(ctx, managePermission[ref.Kind], mspObject(msp)); err != nil {
			return nil, err
		}
		rels, err := sn.read(ctx, graph.FilterOf(mark))
		if err != nil {
			return nil, err
		}
		if len(rels) == 0 {
			return nil, fault.New(fault.NotFound, "%s %q is not marked deleted here for %s", typeNames[typ], ref.ID, system)
		}
		return deletes(rels), nil
	})
	return err
}

// Detachment is what detaching an object answers: the object, local from
// now on, and what the connected system that created it still lists under
// its id.
type Detachment struct {
	ObjectRef
	// System created the object and still lists it: its syncs leave it
	// alone (SyncResult.Detached) for as long as they list it.
	System string
	// Memberships are the memberships of it that the system made (a group's
	// members and a customer group's customers, or the groups a user is
	// in), local from now on.
	Memberships []ObjectRef
}

// detachable are the kinds of objects an admin can detach.
var detachable = map[ObjectKind]string{KindUser: "userId", KindCustomerGroup: "customerGroupId", KindSecurityGroup: "securityGroupId"}

// Detach makes ref, an object a connected system created, local (seed 002:
// keep a local edit): its origin becomes local, and so do the memberships of
// it the system made; the system's later syncs leave it alone while they
// list it, and drop the mark once they no longer do. NotFound when it does
// not exist, Blocked when it is local already.
func (s *Service) Detach(ctx context.Context, msp string, ref ObjectRef) (*Detachment, error) {
	field, ok := detachable[ref.Kind]
	if !ok {
		return nil, fault.New(fault.Invalid, "kind: %q is not one of user, customerGroup, securityGroup", ref.Kind)
	}
	if err := firstError(checkID("mspId", msp), checkID(field, ref.ID)); err != nil {
		return nil, err
	}
	typ := typeOfKind[ref.Kind]
	obj := scoped(typ, msp, ref.ID)
	var out *Detachment
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorize(ctx, managePermission[ref.Kind], mspObject(msp)); err != nil {
			return nil, err
		}
		attrs, err := sn.read(ctx, graph.Filter{ResourceType: typ, ResourceID: obj.ID, Relation: relAttributes})
		if err != nil {
			return nil, err
		}
		if len(attrs) == 0 {
			return nil, fault.New(fault.NotFound, "%s %q not found", typeNames[typ], ref.ID)
		}
		system := originOf(attrs[0])
		if system == OriginLocal {
			return nil, fault.New(fault.Blocked, "%s %q is local already: only an object a connected system created can be detached (ALREADY_LOCAL)", typeNames[typ], ref.ID)
		}
		markers, err := sn.membershipRelationships(ctx, obj, relSyncedMember)
		if err != nil {
			return nil, err
		}
		members, err := sn.membershipRelationships(ctx, obj, relMember)
		if err != nil {
			return nil, err
		}
		type pair struct{ group, in graph.Object }
		held := map[pair]bool{}
		for _, m := range members {
			held[pair{m.Resource, m.Subject}] = true
		}
		if typ == typeCustomerGroup { // and the customers the system put in it
			systemCustomers, err := sn.readAll(ctx,
				graph.Filter{ResourceType: typ, ResourceID: obj.ID, Relation: relSystemCustomer},
				graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: typ, SubjectID: obj.ID})
			if err != nil {
				return nil, err
			}
			for _, r := range systemCustomers {
				if r.Relation == relSystemCustomer {
					markers = append(markers, r)
				} else {
					held[pair{r.Subject, r.Resource}] = true
				}
			}
		}
		out = &Detachment{ObjectRef: ref, System: system}
		values := attrs[0].Attributes()
		delete(values, attrOrigin)
		delete(values, attrSyncedCustomer)
		origin := syncOriginObject(msp, system)
		// The drift mark's deletion comes first: the save's own drift mark
		// on the object it edits (localEdits) is a duplicate of it, dropped.
		updates := []graph.Update{
			{Op: graph.Delete, Relationship: graph.Rel(origin, relDrifted, obj)},
			{Op: graph.Touch, Relationship: graph.Rel(origin, relDetached, obj)},
			{Op: graph.Touch, Relationship: attrs[0].WithAttributes(values)},
		}
		for _, m := range markers {
			if !held[pair{m.Resource, m.Subject}] {
				continue // removed here: its marker goes, it is no membership
			}
			other := m.Subject
			if other == obj {
				other = m.Resource
			}
			out.Memberships = append(out.Memberships, ObjectRef{kindOfType[other.Type], localID(msp, other.ID)})
		}
		sortRefs(out.Memberships, func(o ObjectRef) ObjectRef { return o })
		return append(updates, deletes(markers)...), nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// membershipRelationships are the relationships of obj's memberships under relation
// (member, or synced_member for their markers): of its members for a group,
// of the groups he is in for a user.
func (sn *snapshot) membershipRelationships(ctx context.Context, obj graph.Object, relation string) ([]graph.Relationship, error) {
	if obj.Type != typeUser {
		return sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID, Relation: relation})
	}
	return sn.readAll(ctx,
		graph.Filter{ResourceType: typeCustomerGroup, ResourceIDPrefix: sn.msp + "/", Relation: relation, SubjectType: typeUser, SubjectID: obj.ID},
		graph.Filter{ResourceType: typeSecurityGroup, ResourceIDPrefix: sn.msp + "/", Relation: relation, SubjectType: typeUser, SubjectID: obj.ID})
}
