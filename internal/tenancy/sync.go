package tenancy

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// SyncSnapshot is the full state of a connected system (seed 002's
// monitoring dashboard), as its sync sends it: its users (staff logins) with
// their roles, its client logins, its customer groups with their customers,
// which of its users are in which of its groups, and the display names of
// its customers.
type SyncSnapshot struct {
	// MSPID is the MSP the snapshot is for; it must be the MSP synced.
	MSPID          string
	Users          []SyncUser
	ClientLogins   []SyncClientLogin
	CustomerGroups []SyncCustomerGroup
	Assignments    []Assignment
	// Customers name the customers a sync creates (see Settings.SyncCreatesCustomers).
	Customers []SyncCustomer
}

// SyncClientLogin is a client login of a connected system: an end-customer
// user of one customer (seed 002: the logins used for the Customer Portal).
// A sync gives a new one the default portal role there; a role given to him
// here is his own and stays.
type SyncClientLogin struct {
	ID          string
	DisplayName string
	CustomerID  string
	// ExternalID is how his customer's identity provider names him ("" for none).
	ExternalID string
}

// SyncCustomer is a customer of a connected system, by id and display name.
type SyncCustomer struct {
	ID          string
	DisplayName string
}

// SyncUser is a user of a connected system. DisplayName carries the
// system's username.
type SyncUser struct {
	ID          string
	DisplayName string
	// ExternalID is how the MSP's identity provider names him ("" for none).
	ExternalID string
	// Roles are ids of roles here (built-in or custom) the system gives him.
	Roles []string
}

// SyncCustomerGroup is a customer group of a connected system (seed 002's
// client access group), with the customers it holds.
type SyncCustomerGroup struct {
	ID          string
	DisplayName string
	Customers   []string
}

// Assignment is a user in a customer group.
type Assignment struct {
	UserID          string
	CustomerGroupID string
}

// RoleAssignment is a user given a role.
type RoleAssignment struct {
	UserID string
	RoleID string
}

// SyncOptions qualify a sync.
type SyncOptions struct {
	// ValidateOnly computes the diff and the report and writes nothing.
	ValidateOnly bool
	// AllowMassRemoval lets a sync remove more than MassRemovalShare of what
	// its system owns here.
	AllowMassRemoval bool
}

// A sync that would remove more than MassRemovalShare of the users, customer
// groups and assignments its system owns here, when it owns at least
// MassRemovalMinimum of them, is refused unless AllowMassRemoval is set: an
// empty or truncated export must not wipe the MSP.
const (
	MassRemovalShare   = 0.5
	MassRemovalMinimum = 10
)

// BlockMassRemoval: the sync would remove most of what its system owns here.
const BlockMassRemoval BlockReason = "MASS_REMOVAL"

// SkipReason says why a sync left part of its snapshot out.
type SkipReason string

// SkipCustomerNotFound: a customer of one of the system's groups does not
// exist here (deleted here, or never made here). A sync never creates
// customers; it leaves this one out of the group and applies the rest.
const SkipCustomerNotFound SkipReason = "CUSTOMER_NOT_FOUND"

// SkipDeletedHere: a customer of one of the system's groups was deleted
// here; the sync does not create it again (see SyncResult.DeletedHere).
const SkipDeletedHere SkipReason = "DELETED_HERE"

// SyncSkip is a customer of one of the system's groups that a sync left out.
type SyncSkip struct {
	CustomerGroupID string
	CustomerID      string
	Reason          SkipReason
}

// ObjectChanges lists the objects of one kind a sync creates, updates and removes.
type ObjectChanges struct {
	Created []string
	Updated []string
	Removed []string
}

// SyncResult is what a sync did (or, validateOnly, would do): the diff of the
// system's objects, the local edits it overwrites, and its report on access.
type SyncResult struct {
	Report
	System         string
	Users          ObjectChanges
	ClientLogins   ObjectChanges
	CustomerGroups ObjectChanges
	// Customers are those the sync creates for its system and renames; a
	// sync never removes a customer.
	Customers              ObjectChanges
	AssignmentsAdded       []Assignment
	AssignmentsRemoved     []Assignment
	RoleAssignmentsAdded   []RoleAssignment
	RoleAssignmentsRemoved []RoleAssignment
	// Overwrites are objects edited here since the last sync (see Drift)
	// that this sync changes back to the system's state, each with the
	// edits it puts back: the name it gives the object in place of the one
	// here (Renamed), and the members removed here that it makes members
	// again (MembersRemoved). Members added here stay: a sync keeps them.
	Overwrites []DriftedObject
	// Skipped are the parts of the snapshot the sync left out, with why.
	Skipped []SyncSkip
	// DeletedHere are the objects the snapshot lists that were deleted here:
	// the sync does not create them again (nor their assignments) until an
	// admin restores them (RestoreDeletedHere) or the system drops them.
	DeletedHere []ObjectRef
	// Detached are the objects the snapshot lists that were detached here
	// (Detach): local now, the sync leaves them alone, and their assignments.
	Detached []ObjectRef
	// Writes is how many WriteRelationships calls the sync took: 1 unless
	// it exceeded one call's limit (see snapshot.write).
	Writes int
}

// checkSystem refuses a system name that is not an id, or is "local".
func checkSystem(system string) error {
	if err := checkID("system", system); err != nil {
		return err
	}
	if system == OriginLocal {
		return fault.New(fault.Invalid, "system: %q is the origin of what is made here, not a connected system", system)
	}
	return nil
}

// roleGroupID is the id of the security group through which system gives role.
func roleGroupID(system, role string) string { return system + "-" + role }

// checkSnapshot refuses a malformed snapshot, or one of another MSP, before
// anything is read.
func checkSnapshot(msp, system string, snap SyncSnapshot) error {
	if err := checkSystem(system); err != nil {
		return err
	}
	switch snap.MSPID {
	case msp:
	case "":
		return fault.New(fault.Invalid, "snapshot.mspId is required: it must name the MSP synced, %q", msp)
	default:
		return fault.New(fault.Invalid, "snapshot.mspId: the snapshot is for MSP %q, not %q", snap.MSPID, msp)
	}
	users, logins, externalIDs := map[string]bool{}, map[string]bool{}, map[string]string{}
	claim := func(field, user, externalID string) error {
		if other, ok := externalIDs[externalID]; ok && externalID != "" {
			return fault.New(fault.Invalid, "%s.externalId: %q is user %q's too; an identity names one user", field, externalID, other)
		}
		externalIDs[externalID] = user
		return nil
	}
	for i, u := range snap.Users {
		field := fmt.Sprintf("snapshot.users[%d]", i)
		if err := firstError(checkID(field+".userId", u.ID), checkDisplayName(field+".displayName", u.DisplayName), checkExternalID(field+".externalId", u.ExternalID), checkSelection(field+".roles", u.Roles)); err != nil {
			return err
		}
		if users[u.ID] {
			return fault.New(fault.Invalid, "%s.userId: user %q appears twice", field, u.ID)
		}
		users[u.ID] = true
		if err := claim(field, u.ID, u.ExternalID); err != nil {
			return err
		}
		for j, r := range u.Roles {
			if r == "account_owner" {
				return fault.New(fault.Invalid, "%s.roles[%d]: the account owner's role is never synced", field, j)
			}
			if err := checkID(fmt.Sprintf("%s.roles[%d] (as security group %q)", field, j, roleGroupID(system, r)), roleGroupID(system, r)); err != nil {
				return err
			}
		}
	}
	for i, l := range snap.ClientLogins {
		field := fmt.Sprintf("snapshot.clientLogins[%d]", i)
		if err := firstError(checkID(field+".userId", l.ID), checkDisplayName(field+".displayName", l.DisplayName), checkID(field+".customerId", l.CustomerID), checkExternalID(field+".externalId", l.ExternalID)); err != nil {
			return err
		}
		switch {
		case users[l.ID]:
			return fault.New(fault.Invalid, "%s.userId: %q is among the snapshot's users too; a login is staff or a client's, not both", field, l.ID)
		case logins[l.ID]:
			return fault.New(fault.Invalid, "%s.userId: client login %q appears twice", field, l.ID)
		}
		logins[l.ID] = true
		if err := claim(field, l.ID, l.ExternalID); err != nil {
			return err
		}
	}
	customers := map[string]bool{}
	for i, c := range snap.Customers {
		field := fmt.Sprintf("snapshot.customers[%d]", i)
		if err := firstError(checkID(field+".customerId", c.ID), checkDisplayName(field+".displayName", c.DisplayName)); err != nil {
			return err
		}
		if customers[c.ID] {
			return fault.New(fault.Invalid, "%s.customerId: customer %q appears twice", field, c.ID)
		}
		customers[c.ID] = true
	}
	groups := map[string]bool{}
	for i, g := range snap.CustomerGroups {
		field := fmt.Sprintf("snapshot.customerGroups[%d]", i)
		if err := firstError(checkID(field+".customerGroupId", g.ID), checkDisplayName(field+".displayName", g.DisplayName), checkSelection(field+".customers", g.Customers)); err != nil {
			return err
		}
		if groups[g.ID] {
			return fault.New(fault.Invalid, "%s.customerGroupId: customer group %q appears twice", field, g.ID)
		}
		groups[g.ID] = true
	}
	seen := map[Assignment]bool{}
	for i, a := range snap.Assignments {
		field := fmt.Sprintf("snapshot.assignments[%d]", i)
		if err := firstError(checkID(field+".userId", a.UserID), checkID(field+".customerGroupId", a.CustomerGroupID)); err != nil {
			return err
		}
		switch {
		case logins[a.UserID]:
			return fault.New(fault.Invalid, "%s.userId: %q is a client login; only the snapshot's users are in customer groups", field, a.UserID)
		case !users[a.UserID]:
			return fault.New(fault.Invalid, "%s.userId: user %q is not among the snapshot's users", field, a.UserID)
		case !groups[a.CustomerGroupID]:
			return fault.New(fault.Invalid, "%s.customerGroupId: customer group %q is not among the snapshot's customer groups (only the system's own groups are synced)", field, a.CustomerGroupID)
		case seen[a]:
			return fault.New(fault.Invalid, "%s: user %q is assigned to customer group %q twice", field, a.UserID, a.CustomerGroupID)
		}
		seen[a] = true
	}
	return nil
}

// RunSync reconciles msp with a connected system's full snapshot, as one
// save: it creates, updates and removes the users, customer groups, group
// memberships and role assignments whose origin is system, never touches
// local objects (or another system's), and reports the diff, the local edits
// it overwrites, and who gained and lost access at the write's revision. A
// customer of one of the system's groups that does not exist here (deleted
// here since) does not block it: the sync leaves it out and names it in
// Skipped. The guards of any save apply: a sync that would dissociate an
// Account Contact is refused whole.
func (s *Service) RunSync(ctx context.Context, msp, system string, snap SyncSnapshot, opts SyncOptions) (*SyncResult, error) {
	if err := firstError(checkID("mspId", msp), checkSnapshot(msp, system, snap)); err != nil {
		return nil, err
	}
	var res *SyncResult
	var last *snapshot
	rep, err := s.saveAs(ctx, msp, system, opts.ValidateOnly, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		last = sn
		mspObj := mspObject(msp)
		if err := firstError(
			sn.authorize(ctx, permUsersManage, mspObj),
			sn.authorize(ctx, permCustomerGroupsManage, mspObj),
			sn.authorize(ctx, permSecurityGroupsManage, mspObj),
		); err != nil {
			return nil, err
		}
		st, err := sn.readSyncState(ctx, system)
		if err != nil {
			return nil, err
		}
		r := &reconciler{sn: sn, system: system, st: st, res: &SyncResult{System: system}, changed: map[graph.Object]bool{}, gone: map[graph.Object]bool{},
			named: map[graph.Object]string{}, restored: map[graph.Object]map[string]bool{}, listed: map[graph.Object][]string{}}
		if err := r.run(ctx, snap); err != nil {
			return nil, err
		}
		if err := r.refuseMassRemoval(opts.AllowMassRemoval); err != nil {
			return nil, err
		}
		res = r.res
		return r.updates, nil
	})
	if err != nil {
		return nil, err
	}
	res.Report, res.Writes = *rep, last.writes
	return res, nil
}

// syncState is what a sync reads of the MSP, at the snapshot's revision.
type syncState struct {
	users, groups, securityGroups map[string]graph.Relationship // id -> attributes
	customers                     map[string]graph.Relationship // id -> attributes (zero when it has none)
	staff                         map[string]bool
	groupCustomers                map[string][]graph.Relationship // group -> customer#customer_group edges
	// members and synced are each group's members and those of them its
	// system assigned (synced_member); systemCustomers the customers a
	// customer group's system listed in its last sync (system_customer),
	// by id, and systemCustomerMarkers those markers.
	members, synced, systemCustomers map[graph.Object]map[string]bool
	systemCustomerMarkers            map[graph.Object][]graph.Relationship
	drifted                          []graph.Relationship
	deletedHere, detached            map[graph.Object]graph.Relationship
}

func (sn *snapshot) readSyncState(ctx context.Context, system string) (*syncState, error) {
	msp, prefix := sn.msp, sn.msp+"/"
	st := &syncState{
		users: map[string]graph.Relationship{}, groups: map[string]graph.Relationship{}, securityGroups: map[string]graph.Relationship{},
		staff: map[string]bool{}, customers: map[string]graph.Relationship{}, groupCustomers: map[string][]graph.Relationship{},
		members: map[graph.Object]map[string]bool{}, synced: map[graph.Object]map[string]bool{}, systemCustomers: map[graph.Object]map[string]bool{}, systemCustomerMarkers: map[graph.Object][]graph.Relationship{},
		deletedHere: map[graph.Object]graph.Relationship{}, detached: map[graph.Object]graph.Relationship{},
	}
	byPrefix := func(typ, relation string) graph.Filter {
		return graph.Filter{ResourceType: typ, ResourceIDPrefix: prefix, Relation: relation}
	}
	rels, err := sn.readAll(ctx,
		byPrefix(typeUser, relAttributes), byPrefix(typeCustomerGroup, relAttributes), byPrefix(typeSecurityGroup, relAttributes),
		graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relMember},
		byPrefix(typeCustomer, relMSP), byPrefix(typeCustomer, relAttributes), byPrefix(typeCustomer, relCustomerGroup),
		byPrefix(typeCustomerGroup, relMember), byPrefix(typeCustomerGroup, relSyncedMember), byPrefix(typeCustomerGroup, relSystemCustomer),
		byPrefix(typeSecurityGroup, relMember), byPrefix(typeSecurityGroup, relSyncedMember),
		graph.Filter{ResourceType: typeSyncOrigin, ResourceID: syncOriginObject(msp, system).ID, Relation: relDrifted},
		graph.Filter{ResourceType: typeSyncOrigin, ResourceID: syncOriginObject(msp, system).ID, Relation: relDeletedHere},
		graph.Filter{ResourceType: typeSyncOrigin, ResourceID: syncOriginObject(msp, system).ID, Relation: relDetached})
	if err != nil {
		return nil, err
	}
	add := func(set map[graph.Object]map[string]bool, r graph.Relationship) {
		if set[r.Resource] == nil {
			set[r.Resource] = map[string]bool{}
		}
		set[r.Resource][localID(msp, r.Subject.ID)] = true
	}
	for _, r := range rels {
		id := localID(msp, r.Resource.ID)
		switch {
		case r.Relation == relAttributes && r.Resource.Type == typeUser:
			st.users[id] = r
		case r.Relation == relAttributes && r.Resource.Type == typeCustomerGroup:
			st.groups[id] = r
		case r.Relation == relAttributes && r.Resource.Type == typeSecurityGroup:
			st.securityGroups[id] = r
		case r.Resource.Type == typeMSP:
			st.staff[localID(msp, r.Subject.ID)] = true
		case r.Resource.Type == typeCustomer && r.Relation == relMSP:
			if _, ok := st.customers[id]; !ok {
				st.customers[id] = graph.Relationship{} // until its attributes are read
			}
		case r.Relation == relAttributes && r.Resource.Type == typeCustomer:
			st.customers[id] = r
		case r.Resource.Type == typeCustomer:
			g := localID(msp, r.Subject.ID)
			st.groupCustomers[g] = append(st.groupCustomers[g], r)
		case r.Relation == relMember:
			add(st.members, r)
		case r.Relation == relSyncedMember:
			add(st.synced, r)
		case r.Relation == relSystemCustomer:
			add(st.systemCustomers, r)
			st.systemCustomerMarkers[r.Resource] = append(st.systemCustomerMarkers[r.Resource], r)
		case r.Resource.Type == typeSyncOrigin && r.Relation == relDeletedHere:
			st.deletedHere[r.Subject] = r
		case r.Resource.Type == typeSyncOrigin && r.Relation == relDetached:
			st.detached[r.Subject] = r
		case r.Resource.Type == typeSyncOrigin:
			st.drifted = append(st.drifted, r)
		}
	}
	return st, nil
}

// reconciler builds a sync's updates and its diff.
type reconciler struct {
	sn      *snapshot
	system  string
	st      *syncState
	res     *SyncResult
	updates []graph.Update
	// changed are the objects the sync changes, to find the local edits it overwrites.
	changed map[graph.Object]bool
	// owned counts what the system owned here before the sync; removed what the sync removes.
	owned, removed int
	// joined are the users the sync adds to groups.
	joined []string
	// gone are the objects of the snapshot deleted or detached here, which
	// the sync leaves out (see SyncResult.DeletedHere and Detached).
	gone map[graph.Object]bool
	// named are the display names the sync gives the system's users and
	// customer groups ("" to those it removes); restored the members
	// removed here that it makes members of each group again; listed the
	// customers it gives each of its customer groups.
	named    map[graph.Object]string
	restored map[graph.Object]map[string]bool
	listed   map[graph.Object][]string
}

// goneHere reports whether obj, which the snapshot lists, was detached here,
// or deleted here and does not exist (exists): then the sync leaves it out
// and reports it.
func (r *reconciler) goneHere(obj graph.Object, exists bool) bool {
	report := &r.res.Detached
	if _, detached := r.st.detached[obj]; !detached {
		if _, deleted := r.st.deletedHere[obj]; !deleted || exists {
			return false
		}
		report = &r.res.DeletedHere
	}
	if !r.gone[obj] {
		r.gone[obj] = true
		*report = append(*report, ObjectRef{kindOfType[obj.Type], localID(r.sn.msp, obj.ID)})
	}
	return true
}

func (r *reconciler) write(op graph.Operation, rels ...graph.Relationship) {
	for _, rel := range rels {
		r.updates = append(r.updates, graph.Update{Op: op, Relationship: rel})
	}
}

// ownedBy reports whether attributes (of an existing object) record the system as origin.
func (r *reconciler) ownedBy(attributes graph.Relationship, exists bool) bool {
	return exists && originOf(attributes) == r.system
}

// conflict refuses an object of the snapshot whose id is taken here by an
// object the system does not own.
func (r *reconciler) conflict(field, typ, id string, attributes graph.Relationship) error {
	return fault.New(fault.AlreadyExists, "%s: %s %q exists here with origin %q; a sync never takes over an object it did not create: rename it here or in %s",
		field, typeNames[typ], id, originOf(attributes), r.system)
}

// create writes a new object: its relationships, then its attributes, which
// carry its origin. Should a chain of writes break between them (see
// snapshot.write, which keeps additions in order), the object does not yet
// exist for the next sync, which writes it all again: hence Touch.
func (r *reconciler) create(obj graph.Object, attributes graph.Relationship, rels ...graph.Relationship) {
	r.write(graph.Touch, rels...)
	r.write(graph.Touch, attributes)
	r.changed[obj] = true
}

func (r *reconciler) attributes(obj graph.Object, displayName string) graph.Relationship {
	return graph.Rel(obj, relAttributes, mspObject(r.sn.msp)).WithAttributes(map[string]string{attrDisplayName: displayName, attrOrigin: r.system})
}

// userAttributes are a synced user's attributes: his display name and
// externalId as the system gives them, the system as origin, and for a
// client login the customer the system gives him.
func (r *reconciler) userAttributes(obj graph.Object, displayName, externalID, customer string) graph.Relationship {
	attrs := map[string]string{attrDisplayName: displayName, attrOrigin: r.system}
	for k, v := range map[string]string{attrExternalID: externalID, attrSyncedCustomer: customer} {
		if v != "" {
			attrs[k] = v
		}
	}
	return graph.Rel(obj, relAttributes, mspObject(r.sn.msp)).WithAttributes(attrs)
}

// attrSyncedCustomer is the customer a connected system gives its client
// login (see SyncClientLogin).
const attrSyncedCustomer = "synced_customer"

// moveExternalID gives a synced user the system's externalId for him in
// place of the one he had: his old identity goes, the new one is claimed
// (refused, naming field, when another user holds it).
func (r *reconciler) moveExternalID(ctx context.Context, field string, obj graph.Object, had, next string) error {
	if had == next {
		return nil
	}
	if had != "" {
		r.write(graph.Delete, graph.Rel(externalIdentityObject(r.sn.msp, had), relUser, obj))
	}
	if next == "" {
		return nil
	}
	claim, err := r.sn.claimExternalID(ctx, field, next, obj)
	r.updates = append(r.updates, claim...)
	return err
}

func (r *reconciler) run(ctx context.Context, snap SyncSnapshot) error {
	if err := r.customers(ctx, snap); err != nil {
		return err
	}
	if err := r.customerGroups(ctx, snap); err != nil {
		return err
	}
	if err := r.users(ctx, snap); err != nil {
		return err
	}
	if err := r.clientLogins(ctx, snap); err != nil {
		return err
	}
	r.assignments(snap)
	if err := r.roles(ctx, snap); err != nil {
		return err
	}
	// A single-customer user (seed 004) is in no group but his own.
	slices.Sort(r.joined)
	if err := r.sn.requireUnconfined(ctx, "", slices.Compact(r.joined)); err != nil {
		return err
	}
	r.record()
	return nil
}

// customerGroups creates, renames, refills and removes the system's groups.
func (r *reconciler) customerGroups(ctx context.Context, snap SyncSnapshot) error {
	msp, st := r.sn.msp, r.st
	wanted := map[string]bool{}
	for i, g := range snap.CustomerGroups {
		wanted[g.ID] = true
		obj := customerGroupObject(msp, g.ID)
		attrs, exists := st.groups[g.ID]
		if r.goneHere(obj, exists) {
			continue
		}
		r.named[obj] = g.DisplayName
		switch {
		case exists && !r.ownedBy(attrs, exists):
			return r.conflict(fmt.Sprintf("snapshot.customerGroups[%d].customerGroupId", i), typeCustomerGroup, g.ID, attrs)
		case !exists:
			r.create(obj, r.attributes(obj, g.DisplayName), graph.Rel(obj, relMSP, mspObject(msp)))
			r.res.CustomerGroups.Created = append(r.res.CustomerGroups.Created, g.ID)
			r.changed[obj] = true
		case attrs.Attribute(attrDisplayName) != g.DisplayName:
			r.write(graph.Touch, r.attributes(obj, g.DisplayName))
			r.res.CustomerGroups.Updated = append(r.res.CustomerGroups.Updated, g.ID)
			r.changed[obj] = true
		}
		customers := make([]string, 0, len(g.Customers))
		for _, c := range g.Customers {
			_, ok := st.customers[c]
			switch {
			case ok:
				customers = append(customers, c)
			case r.gone[customerObject(msp, c)]:
				r.res.Skipped = append(r.res.Skipped, SyncSkip{CustomerGroupID: g.ID, CustomerID: c, Reason: SkipDeletedHere})
			default:
				r.res.Skipped = append(r.res.Skipped, SyncSkip{CustomerGroupID: g.ID, CustomerID: c, Reason: SkipCustomerNotFound})
			}
		}
		// The group's customers follow the system (seed 002: its groups
		// "stay synchronized"); the markers record its list, which drift
		// compares with the customers here.
		edges := selectionUpdates(st.groupCustomers[g.ID], relCustomerGroup, customers, func(c string) graph.Relationship {
			return customerInGroup(msp, c, g.ID)
		})
		r.listed[obj] = customers
		if len(edges) > 0 {
			r.updates = append(r.updates, edges...)
			r.changed[obj] = true
			if exists && !slices.Contains(r.res.CustomerGroups.Updated, g.ID) {
				r.res.CustomerGroups.Updated = append(r.res.CustomerGroups.Updated, g.ID)
			}
		}
		r.updates = append(r.updates, selectionUpdates(st.systemCustomerMarkers[obj], relSystemCustomer, customers, func(c string) graph.Relationship {
			return graph.Rel(obj, relSystemCustomer, customerObject(msp, c))
		})...)
	}
	for _, id := range slices.Sorted(maps.Keys(st.groups)) {
		if !r.ownedBy(st.groups[id], true) {
			continue
		}
		r.owned++
		if wanted[id] {
			continue
		}
		obj := customerGroupObject(msp, id)
		deletion, err := r.sn.customerGroupDeletion(ctx, id)
		if err != nil {
			return err
		}
		r.updates = append(r.updates, deletion...)
		synced := st.syncedMembers(obj)
		for _, u := range synced {
			r.res.AssignmentsRemoved = append(r.res.AssignmentsRemoved, Assignment{u, id})
		}
		r.res.CustomerGroups.Removed = append(r.res.CustomerGroups.Removed, id)
		r.changed[obj] = true
		r.named[obj] = ""
		r.owned += len(synced)
		r.removed += 1 + len(synced)
	}
	return nil
}

// users creates, renames and removes the system's users. A user of the
// snapshot who exists here as a local user stays local: only his
// memberships and roles from the system are synced.
func (r *reconciler) users(ctx context.Context, snap SyncSnapshot) error {
	msp, st := r.sn.msp, r.st
	wanted := map[string]bool{}
	for i, u := range snap.Users {
		wanted[u.ID] = true
		obj := userObject(msp, u.ID)
		attrs, exists := st.users[u.ID]
		if r.goneHere(obj, exists) {
			continue
		}
		r.named[obj] = u.DisplayName
		switch {
		case exists && !st.staff[u.ID]:
			return fault.New(fault.AlreadyExists, "snapshot.users[%d].userId: %q is an end-customer user here (origin %q), not an MSP user", i, u.ID, originOf(attrs))
		case !exists:
			r.create(obj, r.userAttributes(obj, u.DisplayName, u.ExternalID, ""), graph.Rel(obj, relMSP, mspObject(msp)), graph.Rel(mspObject(msp), relMember, obj))
			r.res.Users.Created = append(r.res.Users.Created, u.ID)
			r.changed[obj] = true
			if err := r.moveExternalID(ctx, fmt.Sprintf("snapshot.users[%d].externalId", i), obj, "", u.ExternalID); err != nil {
				return err
			}
		case r.ownedBy(attrs, exists) && (attrs.Attribute(attrDisplayName) != u.DisplayName || attrs.Attribute(attrExternalID) != u.ExternalID):
			r.write(graph.Touch, r.userAttributes(obj, u.DisplayName, u.ExternalID, ""))
			r.res.Users.Updated = append(r.res.Users.Updated, u.ID)
			r.changed[obj] = true
			if err := r.moveExternalID(ctx, fmt.Sprintf("snapshot.users[%d].externalId", i), obj, attrs.Attribute(attrExternalID), u.ExternalID); err != nil {
				return err
			}
		}
	}
	return r.removeUsers(ctx, wanted, true, &r.res.Users)
}

// removeUsers removes the system's users of one kind (staff, or client
// logins) that the snapshot no longer lists (wanted), with everything of
// them, and counts them for mass-removal protection.
func (r *reconciler) removeUsers(ctx context.Context, wanted map[string]bool, staff bool, changes *ObjectChanges) error {
	for _, id := range slices.Sorted(maps.Keys(r.st.users)) {
		if !r.ownedBy(r.st.users[id], true) || r.st.staff[id] != staff {
			continue
		}
		r.owned++
		if wanted[id] {
			continue
		}
		deletion, err := r.sn.userDeletion(ctx, id)
		if err != nil {
			return err
		}
		r.updates = append(r.updates, deletion...)
		changes.Removed = append(changes.Removed, id)
		r.changed[userObject(r.sn.msp, id)] = true
		r.named[userObject(r.sn.msp, id)] = ""
		r.removed++
	}
	return nil
}

// clientLogins creates, renames, moves and removes the system's client
// logins: end-customer users of the customer each names. A new one gets the
// default portal role there (seed 001); a login the system moves to another
// customer leaves the old one and gets that role in the new one (unless he
// holds a role there already); a role changed here is his own and stays.
func (r *reconciler) clientLogins(ctx context.Context, snap SyncSnapshot) error {
	msp, st := r.sn.msp, r.st
	wanted := map[string]bool{}
	for i, l := range snap.ClientLogins {
		field := fmt.Sprintf("snapshot.clientLogins[%d]", i)
		wanted[l.ID] = true
		obj := userObject(msp, l.ID)
		attrs, exists := st.users[l.ID]
		_, customerExists := st.customers[l.CustomerID]
		if r.goneHere(obj, exists) || !customerExists && r.gone[customerObject(msp, l.CustomerID)] {
			continue
		}
		r.named[obj] = l.DisplayName
		switch {
		case !customerExists:
			return fault.New(fault.Invalid, "%s.customerId: customer %q not found here, and the MSP's setting syncCreatesCustomers is off", field, l.CustomerID)
		case exists && st.staff[l.ID]:
			return fault.New(fault.Invalid, "%s.userId: %q is an MSP user here (origin %q), not a client login", field, l.ID, originOf(attrs))
		case exists && !r.ownedBy(attrs, exists):
			return r.conflict(field+".userId", typeEndCustomerUser, l.ID, attrs)
		case !exists:
			r.create(obj, r.userAttributes(obj, l.DisplayName, l.ExternalID, l.CustomerID),
				graph.Rel(obj, relMSP, mspObject(msp)), graph.Rel(mspObject(msp), relEndCustomer, obj), r.portalRole(l))
			r.res.ClientLogins.Created = append(r.res.ClientLogins.Created, l.ID)
			if err := r.moveExternalID(ctx, field+".externalId", obj, "", l.ExternalID); err != nil {
				return err
			}
			continue
		}
		had := attrs.Attribute(attrSyncedCustomer)
		if attrs.Attribute(attrDisplayName) == l.DisplayName && attrs.Attribute(attrExternalID) == l.ExternalID && had == l.CustomerID {
			continue
		}
		r.write(graph.Touch, r.userAttributes(obj, l.DisplayName, l.ExternalID, l.CustomerID))
		r.res.ClientLogins.Updated = append(r.res.ClientLogins.Updated, l.ID)
		r.changed[obj] = true
		if err := r.moveExternalID(ctx, field+".externalId", obj, attrs.Attribute(attrExternalID), l.ExternalID); err != nil {
			return err
		}
		if had != l.CustomerID {
			if err := r.moveClientLogin(ctx, l, had); err != nil {
				return err
			}
		}
	}
	return r.removeUsers(ctx, wanted, false, &r.res.ClientLogins)
}

// portalRole is a new client login's role in his customer: the default
// end-customer role, which every new end-customer user gets (seed 001).
func (r *reconciler) portalRole(l SyncClientLogin) graph.Relationship {
	return graph.Rel(customerObject(r.sn.msp, l.CustomerID), endCustomerRel(catalog.DefaultEndCustomerRole), userObject(r.sn.msp, l.ID))
}

// moveClientLogin takes a client login out of the customer the system gave
// him before (had) and gives him the portal role in his new one, unless he
// holds a role there already.
func (r *reconciler) moveClientLogin(ctx context.Context, l SyncClientLogin, had string) error {
	if had != "" {
		old, err := r.sn.endCustomerRoles(ctx, had, l.ID)
		if err != nil {
			return err
		}
		r.updates = append(r.updates, deletes(old)...)
	}
	held, err := r.sn.endCustomerRoles(ctx, l.CustomerID, l.ID)
	if err != nil || len(held) > 0 {
		return err
	}
	r.write(graph.Touch, r.portalRole(l))
	return nil
}

// customers creates the customers the snapshot's groups and client logins
// name that do not exist here, with the system as origin and the display
// name the snapshot gives them (their id when it gives none), unless the
// MSP's settings keep a sync from creating customers; and renames those the
// system created. A sync never removes a customer: one made here is the
// MSP's, and one the system made may hold what was made here since.
func (r *reconciler) customers(ctx context.Context, snap SyncSnapshot) error {
	msp, st := r.sn.msp, r.st
	names := map[string]string{}
	for _, c := range snap.Customers {
		names[c.ID] = c.DisplayName
	}
	var named []string
	for _, g := range snap.CustomerGroups {
		named = append(named, g.Customers...)
	}
	for _, l := range snap.ClientLogins {
		named = append(named, l.CustomerID)
	}
	slices.Sort(named)
	var creates bool
	for _, id := range slices.Compact(named) {
		obj := customerObject(msp, id)
		attrs, exists := st.customers[id]
		name := cmp.Or(names[id], id)
		switch {
		case r.goneHere(obj, exists):
		case !exists:
			if !creates {
				settings, err := r.sn.settings(ctx)
				if err != nil {
					return err
				}
				if !settings.SyncCreatesCustomers {
					continue
				}
				if err := r.sn.authorize(ctx, permCustomersManage, mspObject(msp)); err != nil {
					return err
				}
				creates = true
			}
			a := r.attributes(obj, name)
			r.create(obj, a, graph.Rel(obj, relMSP, mspObject(msp)))
			st.customers[id] = a
			r.res.Customers.Created = append(r.res.Customers.Created, id)
		case r.ownedBy(attrs, exists) && names[id] != "" && attrs.Attribute(attrDisplayName) != names[id]:
			values := attrs.Attributes()
			values[attrDisplayName] = names[id]
			r.write(graph.Touch, attrs.WithAttributes(values))
			r.res.Customers.Updated = append(r.res.Customers.Updated, id)
		}
	}
	return nil
}

// assignments syncs the memberships of the system's customer groups.
func (r *reconciler) assignments(snap SyncSnapshot) {
	wanted := map[string][]string{}
	for _, a := range snap.Assignments {
		wanted[a.CustomerGroupID] = append(wanted[a.CustomerGroupID], a.UserID)
	}
	for _, g := range snap.CustomerGroups {
		if r.gone[customerGroupObject(r.sn.msp, g.ID)] {
			continue
		}
		added, removed := r.members(customerGroupObject(r.sn.msp, g.ID), wanted[g.ID])
		for _, u := range added {
			r.res.AssignmentsAdded = append(r.res.AssignmentsAdded, Assignment{u, g.ID})
		}
		for _, u := range removed {
			r.res.AssignmentsRemoved = append(r.res.AssignmentsRemoved, Assignment{u, g.ID})
		}
	}
}

// members syncs the system's members of group: it adds the wanted users who
// are not members, and removes the members it assigned that are no longer
// wanted. A member added here (not synced) stays, wanted or not.
func (r *reconciler) members(group graph.Object, wanted []string) (added, removed []string) {
	msp := r.sn.msp
	members, synced := r.st.members[group], r.st.synced[group]
	r.owned += len(r.st.syncedMembers(group))
	want := map[string]bool{}
	for _, u := range wanted {
		want[u] = true
		user := userObject(msp, u)
		switch {
		case r.gone[user]:
			// Deleted here: neither he nor his assignments come back.
		case members[u]:
			// Already a member: a local membership stays local.
		case synced[u]:
			// The system's member, removed here: the sync puts him back.
			r.write(graph.Create, graph.Rel(group, relMember, user))
			added = append(added, u)
			if r.restored[group] == nil {
				r.restored[group] = map[string]bool{}
			}
			r.restored[group][u] = true
		default:
			r.write(graph.Create, graph.Rel(group, relMember, user), graph.Rel(group, relSyncedMember, user))
			added = append(added, u)
		}
	}
	for _, u := range slices.Sorted(maps.Keys(synced)) {
		if want[u] {
			continue
		}
		user := userObject(msp, u)
		r.write(graph.Delete, graph.Rel(group, relSyncedMember, user))
		if members[u] {
			r.write(graph.Delete, graph.Rel(group, relMember, user))
			removed = append(removed, u)
			r.removed++
		}
	}
	if len(added)+len(removed) > 0 {
		r.changed[group] = true
	}
	r.joined = append(r.joined, added...)
	return added, removed
}

// roles syncs role assignments: the system gives role R through its own
// security group "<system>-R", which binds R to the role's natural scope
// (every customer for a built-in role that spans them, else each member's
// associated customers), created when first needed and removed when no
// user of the snapshot has R any more.
func (r *reconciler) roles(ctx context.Context, snap SyncSnapshot) error {
	msp, st := r.sn.msp, r.st
	holders, given := map[string][]string{}, map[string]bool{}
	for _, u := range snap.Users {
		for _, role := range u.Roles {
			given[role] = true // a role it gives only to users gone here keeps its group
			if !r.gone[userObject(msp, u.ID)] {
				holders[role] = append(holders[role], u.ID)
			}
		}
	}
	for _, role := range slices.Sorted(maps.Keys(holders)) {
		id := roleGroupID(r.system, role)
		obj := securityGroupObject(msp, id)
		attrs, exists := st.securityGroups[id]
		if r.goneHere(obj, exists) {
			continue
		}
		if exists && !r.ownedBy(attrs, exists) {
			return r.conflict("snapshot.users[].roles ("+role+")", typeSecurityGroup, id, attrs)
		}
		ro, err := r.sn.readRole(ctx, role)
		if fault.Is(err, fault.NotFound) {
			return fault.New(fault.NotFound, "snapshot.users[].roles: role %q not found (user %q)", role, holders[role][0])
		}
		if err != nil {
			return err
		}
		b, _ := catalog.LookupBuiltinRole(role)
		scope := Scope{AllCustomers: b.AllCustomers, Associated: !b.AllCustomers}
		if err := r.sn.authorizeGrant(ctx, permSecurityGroupsManage, ro.Permissions, scope); err != nil {
			return err
		}
		if !exists {
			r.create(obj, r.attributes(obj, ro.DisplayName+" ("+r.system+")"),
				append([]graph.Relationship{graph.Rel(obj, relMSP, mspObject(msp)), graph.Rel(obj, relRole, roleObject(msp, role))}, scopeRels(msp, obj, scope)...)...)
			r.changed[obj] = true
		}
		added, removed := r.members(obj, holders[role])
		for _, u := range added {
			r.res.RoleAssignmentsAdded = append(r.res.RoleAssignmentsAdded, RoleAssignment{u, role})
		}
		for _, u := range removed {
			r.res.RoleAssignmentsRemoved = append(r.res.RoleAssignmentsRemoved, RoleAssignment{u, role})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(st.securityGroups)) {
		obj := securityGroupObject(msp, id)
		role, ok := strings.CutPrefix(id, r.system+"-")
		if !ok || !r.ownedBy(st.securityGroups[id], true) || given[role] {
			continue
		}
		deletion, err := r.sn.securityGroupDeletion(ctx, id)
		if err != nil {
			return err
		}
		r.updates = append(r.updates, deletion...)
		for _, u := range st.syncedMembers(obj) {
			r.res.RoleAssignmentsRemoved = append(r.res.RoleAssignmentsRemoved, RoleAssignment{u, role})
			r.owned++
			r.removed++
		}
		r.changed[obj] = true
		r.named[obj] = ""
	}
	return nil
}

// record lists the local edits the sync overwrites, clears the system's
// drift marks and stamps the sync's time.
func (r *reconciler) record() {
	o := syncOriginObject(r.sn.msp, r.system)
	for _, d := range r.st.drifted {
		r.write(graph.Delete, d)
		if ow := r.overwrite(d); r.changed[d.Subject] && ow.says() {
			r.res.Overwrites = append(r.res.Overwrites, ow)
		}
	}
	for _, marks := range []map[graph.Object]graph.Relationship{r.st.deletedHere, r.st.detached} {
		for obj, mark := range marks {
			if !r.gone[obj] {
				r.write(graph.Delete, mark) // the system dropped it, or it exists again
			}
		}
	}
	sortRefs(r.res.Overwrites, func(o DriftedObject) ObjectRef { return o.ObjectRef })
	for _, refs := range [][]ObjectRef{r.res.DeletedHere, r.res.Detached} {
		sortRefs(refs, func(o ObjectRef) ObjectRef { return o })
	}
	r.write(graph.Touch, graph.Rel(o, relMSP, mspObject(r.sn.msp)),
		graph.Rel(o, relAttributes, mspObject(r.sn.msp)).WithAttributes(map[string]string{attrLastSyncedAt: r.sn.s.now().UTC().Format(time.RFC3339)}))
	for _, c := range []ObjectChanges{r.res.Users, r.res.ClientLogins, r.res.CustomerGroups, r.res.Customers} {
		for _, list := range [][]string{c.Created, c.Updated, c.Removed} {
			sort.Strings(list)
		}
	}
	sort.Slice(r.res.Skipped, func(i, j int) bool {
		a, b := r.res.Skipped[i], r.res.Skipped[j]
		return a.CustomerGroupID < b.CustomerGroupID || a.CustomerGroupID == b.CustomerGroupID && a.CustomerID < b.CustomerID
	})
	sortAssignments(r.res.AssignmentsAdded)
	sortAssignments(r.res.AssignmentsRemoved)
	sortRoleAssignments(r.res.RoleAssignmentsAdded)
	sortRoleAssignments(r.res.RoleAssignmentsRemoved)
}

// overwrite is the local edit of an object marked drifted (mark) that the
// sync changes back: its drift, less what the sync keeps (a name here that
// the system gives it too or does not sync, as a security group's; members
// added here; members removed here that the system no longer lists; of a
// customer group's customers, those added here that the system now lists
// too, and those removed here that it no longer lists).
func (r *reconciler) overwrite(mark graph.Relationship) DriftedObject {
	obj := mark.Subject
	attributes, exists := r.st.attributesOf(r.sn.msp, obj)
	members, customers := r.st.sets(r.sn.msp, obj)
	d := driftOf(ObjectRef{kindOfType[obj.Type], localID(r.sn.msp, obj.ID)}, mark, attributes, exists, members, customers)
	if name, ok := r.named[obj]; d.Renamed != nil && (!ok || name == d.Renamed.After) {
		d.Renamed = nil
	}
	listed := r.listed[obj]
	d.MembersAdded = nil
	d.MembersRemoved = nilIfEmpty(slices.DeleteFunc(d.MembersRemoved, func(u string) bool { return !r.restored[obj][u] }))
	d.CustomersAdded = nilIfEmpty(slices.DeleteFunc(d.CustomersAdded, func(c string) bool { return slices.Contains(listed, c) }))
	d.CustomersRemoved = nilIfEmpty(slices.DeleteFunc(d.CustomersRemoved, func(c string) bool { return !slices.Contains(listed, c) }))
	return d
}

func nilIfEmpty(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// sets are what is in group as the sync read it, and what of it its system
// put there: its members and, for a customer group, its customers.
func (st *syncState) sets(msp string, group graph.Object) (members, customers groupSet) {
	members = groupSet{in: st.members[group], marked: st.synced[group]}
	customers = groupSet{in: map[string]bool{}, marked: st.systemCustomers[group]}
	if group.Type == typeCustomerGroup {
		for _, e := range st.groupCustomers[localID(msp, group.ID)] {
			customers.in[localID(msp, e.Resource.ID)] = true
		}
	}
	return members, customers
}

// attributesOf are the attributes of a user, customer group or security group
// of the MSP, and whether it exists.
func (st *syncState) attributesOf(msp string, obj graph.Object) (graph.Relationship, bool) {
	byType := map[string]map[string]graph.Relationship{typeUser: st.users, typeCustomerGroup: st.groups, typeSecurityGroup: st.securityGroups}
	a, ok := byType[obj.Type][localID(msp, obj.ID)]
	return a, ok
}

// syncedMembers are the members of group the system made, by id: those
// with a synced_member marker that are still members (one removed here
// keeps the marker, see unsyncedMemberships).
func (st *syncState) syncedMembers(group graph.Object) []string {
	var out []string
	for _, u := range slices.Sorted(maps.Keys(st.synced[group])) {
		if st.members[group][u] {
			out = append(out, u)
		}
	}
	return out
}

// refuseMassRemoval refuses a sync that removes most of what its system owns here.
func (r *reconciler) refuseMassRemoval(allowed bool) error {
	if allowed || r.owned < MassRemovalMinimum || float64(r.removed) <= MassRemovalShare*float64(r.owned) {
		return nil
	}
	return fault.New(fault.Blocked,
		"sync refused, nothing was written: it would remove %d of the %d users, client logins, customer groups and assignments %s owns here, more than %d%% (MASS_REMOVAL); if the snapshot is complete, run it again with allowMassRemoval (mspauthz sync --allow-mass-removal)",
		r.removed, r.owned, r.system, int(MassRemovalShare*100)).WithDetails([]Block{{Reason: BlockMassRemoval}})
}

func sortAssignments(as []Assignment) {
	sort.Slice(as, func(i, j int) bool {
		return as[i].UserID < as[j].UserID || as[i].UserID == as[j].UserID && as[i].CustomerGroupID < as[j].CustomerGroupID
	})
}

func sortRoleAssignments(as []RoleAssignment) {
	sort.Slice(as, func(i, j int) bool {
		return as[i].UserID < as[j].UserID || as[i].UserID == as[j].UserID && as[i].RoleID < as[j].RoleID
	})
}
