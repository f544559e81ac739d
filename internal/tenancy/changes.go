package tenancy

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// MetadataOrigin is the key of a write's metadata (graph.WithWriteMetadata)
// that names who made it: OriginLocal, or a connected system.
const MetadataOrigin = "origin"

// Change is what one revision of the graph changed in an MSP: an entry of
// the MSP's change feed.
type Change struct {
	// ChangedAt is the ZedToken of the revision. A consumer stores it:
	// watching again after it yields exactly the later changes.
	ChangedAt string
	// Origin is who made the write: OriginLocal, a connected system, or ""
	// for a write made to SpiceDB by something other than mspauthz.
	Origin string
	// Relationships are the relationships written or deleted, sorted.
	Relationships []RelationshipChange
	// Events are what the changes mean for the MSP's users: creations,
	// renames, role changes and deletions, in that order, each by user id.
	Events []ChangeEvent
}

// ChangeOperation is what a change did to a relationship.
type ChangeOperation string

// The operations of a change.
const (
	// ChangeTouch: the relationship was written (created, or replaced with a
	// new display name or expiration).
	ChangeTouch ChangeOperation = "TOUCH"
	// ChangeDelete: the relationship was deleted.
	ChangeDelete ChangeOperation = "DELETE"
)

// RelationshipChange is one relationship written or deleted, with ids as the
// MSP knows them: "customer:zylker", "user:alex", "role:technician", "msp:acme".
type RelationshipChange struct {
	Operation ChangeOperation
	Resource  string
	Relation  string
	// Subject is "<type>:<id>", with "#<relation>" when it names a subject set.
	Subject string
	// DisplayName is the display name an attributes relationship carries.
	DisplayName string
	// ExpiresAt, when set, is when the relationship stops existing by itself.
	ExpiresAt time.Time
}

// ChangeEventKind names what happened to a user.
type ChangeEventKind string

// The events of the change feed.
const (
	// UserCreated: an MSP user was created (DisplayName).
	UserCreated ChangeEventKind = "USER_CREATED"
	// UserRenamed: an MSP user's display name changed (DisplayName).
	UserRenamed ChangeEventKind = "USER_RENAMED"
	// UserRolesChanged: an MSP user joined or left a security group (Roles:
	// all his roles as of the change).
	UserRolesChanged ChangeEventKind = "USER_ROLES_CHANGED"
	// UserDeleted: an MSP user was deleted.
	UserDeleted ChangeEventKind = "USER_DELETED"
)

// ChangeEvent is what a change means for one MSP user.
type ChangeEvent struct {
	Kind        ChangeEventKind
	UserID      string
	DisplayName string
	Roles       []UserRole
}

// UserRole is a role a user holds: the security group that binds it, which
// he is a member of, and the role.
type UserRole struct {
	SecurityGroupID string
	RoleID          string
}

// feedTypes are the types of an MSP's objects whose relationships the change
// feed shows, with the MSP's own (but its save epoch). A type shows only once
// it is listed here: API tokens (their secret hashes), save epochs, audit
// events, and objects that carry credentials never do.
var feedTypes = append([]string{typeUser, typeCustomer, typeCustomerGroup, typeRole, typeSecurityGroup, typeGrant}, customerTypes...)

// ChangeFeed is an MSP's change feed, open from one revision on.
type ChangeFeed struct {
	s       *Service
	ctx     context.Context
	msp     string
	since   graph.Revision
	changes graph.ChangeStream
}

// WatchChanges opens msp's change feed after since, a Change's ChangedAt (or
// any ZedToken), or after now when since is empty. The actor needs
// users.manage, at the opening and at every change. Errors: NotFound (no such
// MSP), PermissionDenied, Invalid (since is not a token the feed can resume
// from), Unavailable.
func (s *Service) WatchChanges(ctx context.Context, msp, since string) (*ChangeFeed, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	if err := sn.authorize(ctx, permUsersManage, mspObject(msp)); err != nil {
		return nil, err
	}
	start := graph.Revision(since)
	if start == "" {
		start = sn.rev
	}
	filters := []graph.Filter{{ResourceType: typeMSP, ResourceID: msp}}
	for _, typ := range feedTypes {
		filters = append(filters, graph.Filter{ResourceType: typ, ResourceIDPrefix: msp + "/"})
	}
	changes, err := s.graph.Watch(ctx, filters, start)
	if since != "" && fault.Is(err, fault.Invalid) {
		return nil, fault.Wrap(err, fault.Invalid, "since: %q is not a ZedToken the change feed can resume from (malformed, of another SpiceDB datastore, or older than its garbage collection window); start again from now", since)
	}
	if err != nil {
		return nil, err
	}
	return &ChangeFeed{s: s, ctx: ctx, msp: msp, since: start, changes: changes}, nil
}

// Since is the ZedToken the feed started after: the since it was opened
// with, or the revision it was opened at. A consumer that has seen no change
// yet resumes from it.
func (f *ChangeFeed) Since() string { return string(f.since) }

// Next waits for the next change of the MSP. It fails once the context of
// WatchChanges is done (with its error), when the actor no longer holds
// users.manage (PermissionDenied), and when SpiceDB does (Unavailable); the
// feed is over then, and resumes from the last ChangedAt.
func (f *ChangeFeed) Next() (*Change, error) {
	for {
		ch, err := f.changes.Next()
		if err != nil {
			return nil, err
		}
		if len(ch.Updates) == 0 {
			continue // a checkpoint or a schema change
		}
		c, err := f.change(ch)
		if err != nil || c != nil {
			return c, err
		}
	}
}

// userFacts are the facts about users one revision changed.
type userFacts struct {
	created, deleted, named, regrouped map[string]bool
	names                              map[string]string
}

// change is what ch means to the feed, or nil when it shows nothing of it
// (a save epoch only).
func (f *ChangeFeed) change(ch graph.Changes) (*Change, error) {
	msp := mspObject(f.msp)
	c := &Change{ChangedAt: string(ch.Revision), Origin: ch.Metadata[MetadataOrigin]}
	facts := userFacts{created: map[string]bool{}, deleted: map[string]bool{}, named: map[string]bool{}, regrouped: map[string]bool{}, names: map[string]string{}}
	for _, u := range ch.Updates {
		r := u.Relationship
		if r.Resource == msp && r.Relation == relSaveEpoch {
			continue
		}
		rc := RelationshipChange{Operation: ChangeTouch, Resource: f.feedObject(r.Resource), Relation: r.Relation, Subject: f.feedObject(r.Subject), DisplayName: r.Attribute(attrDisplayName), ExpiresAt: r.Expires}
		if u.Op == graph.Delete {
			rc.Operation = ChangeDelete
		}
		if r.SubjectRelation != "" {
			rc.Subject += "#" + r.SubjectRelation
		}
		c.Relationships = append(c.Relationships, rc)
		user := localID(f.msp, r.Subject.ID)
		switch {
		case r.Resource == msp && r.Relation == relMember && u.Op == graph.Delete:
			facts.deleted[user] = true
		case r.Resource == msp && r.Relation == relMember:
			facts.created[user] = true
		case r.Resource.Type == typeUser && r.Relation == relAttributes && u.Op != graph.Delete:
			id := localID(f.msp, r.Resource.ID)
			facts.named[id], facts.names[id] = true, rc.DisplayName
		case r.Resource.Type == typeSecurityGroup && r.Relation == relMember:
			facts.regrouped[user] = true
		}
	}
	if len(c.Relationships) == 0 {
		return nil, nil
	}
	sn := &snapshot{s: f.s, msp: f.msp, rev: ch.Revision}
	if err := sn.authorize(f.ctx, permUsersManage, msp); err != nil {
		return nil, err
	}
	slices.SortFunc(c.Relationships, compareRelationshipChanges)
	events, err := f.events(sn, facts)
	if err != nil {
		return nil, err
	}
	c.Events = events
	return c, nil
}

func compareRelationshipChanges(a, b RelationshipChange) int {
	return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Relation, b.Relation), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Operation, b.Operation))
}

// feedObject names obj as the feed shows it: its type and its id within the
// MSP (a built-in role by its own id).
func (f *ChangeFeed) feedObject(obj graph.Object) string {
	switch obj.Type {
	case typeMSP:
		return obj.String()
	case typeRole:
		return typeRole + ":" + roleIDOf(f.msp, obj)
	}
	return obj.Type + ":" + localID(f.msp, obj.ID)
}

// events derives the user events of one revision: a user whose membership of
// the MSP was written was created; one whose display name was written and
// who is an MSP user (not an end-customer user) was renamed; one who joined
// or left a security group and still exists has new roles, read at the
// revision.
func (f *ChangeFeed) events(sn *snapshot, facts userFacts) ([]ChangeEvent, error) {
	var renamed []string
	for _, u := range sortedKeys(facts.named) {
		if !facts.created[u] {
			renamed = append(renamed, u)
		}
	}
	members, err := sn.members(f.ctx, renamed)
	if err != nil {
		return nil, err
	}
	var unnamed []string
	for u := range facts.created {
		if !facts.named[u] {
			unnamed = append(unnamed, u)
		}
	}
	if err := sn.readDisplayNames(f.ctx, unnamed, facts.names); err != nil {
		return nil, err
	}
	var regrouped []string
	for _, u := range sortedKeys(facts.regrouped) {
		if !facts.deleted[u] {
			regrouped = append(regrouped, u)
		}
	}
	roles, err := sn.userRoles(f.ctx, regrouped)
	if err != nil {
		return nil, err
	}

	var events []ChangeEvent
	for _, u := range sortedKeys(facts.created) {
		events = append(events, ChangeEvent{Kind: UserCreated, UserID: u, DisplayName: facts.names[u]})
	}
	for _, u := range renamed {
		if members[u] {
			events = append(events, ChangeEvent{Kind: UserRenamed, UserID: u, DisplayName: facts.names[u]})
		}
	}
	for _, u := range regrouped {
		events = append(events, ChangeEvent{Kind: UserRolesChanged, UserID: u, Roles: roles[u]})
	}
	for _, u := range sortedKeys(facts.deleted) {
		events = append(events, ChangeEvent{Kind: UserDeleted, UserID: u})
	}
	return events, nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// members tells which of users are MSP users at the snapshot.
func (sn *snapshot) members(ctx context.Context, users []string) (map[string]bool, error) {
	checks := make([]graph.Check, len(users))
	for i, u := range users {
		checks[i] = existenceCheck(sn.msp, typeUser, u)
	}
	found, _, err := sn.s.graph.Check(ctx, checks, graph.At(sn.rev))
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(users))
	for i, u := range users {
		out[u] = found[i]
	}
	return out, nil
}

// readDisplayNames adds the display names of users at the snapshot to names.
func (sn *snapshot) readDisplayNames(ctx context.Context, users []string, names map[string]string) error {
	return readEach(ctx, sn, sn.rev, users, func(u string) graph.Filter {
		return graph.Filter{ResourceType: typeUser, ResourceID: userObject(sn.msp, u).ID, Relation: relAttributes}
	}, func(u string, rels []graph.Relationship) {
		for _, r := range rels {
			names[u] = r.Attribute(attrDisplayName)
		}
	})
}

// userRoles reads the roles of users at the snapshot: the role of every
// security group of the MSP each is a member of, by group id.
func (sn *snapshot) userRoles(ctx context.Context, users []string) (map[string][]UserRole, error) {
	groupsOf := map[string][]string{}
	err := readEach(ctx, sn, sn.rev, users, func(u string) graph.Filter {
		return graph.Filter{ResourceType: typeSecurityGroup, Relation: relMember, SubjectType: typeUser, SubjectID: userObject(sn.msp, u).ID}
	}, func(u string, rels []graph.Relationship) {
		for _, r := range rels {
			if strings.HasPrefix(r.Resource.ID, sn.msp+"/") {
				groupsOf[u] = append(groupsOf[u], r.Resource.ID)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	groups := map[string]bool{}
	for _, gs := range groupsOf {
		for _, g := range gs {
			groups[g] = true
		}
	}
	roleOf := map[string]string{}
	err = readEach(ctx, sn, sn.rev, sortedKeys(groups), func(g string) graph.Filter {
		return graph.Filter{ResourceType: typeSecurityGroup, ResourceID: g, Relation: relRole}
	}, func(g string, rels []graph.Relationship) {
		for _, r := range rels {
			roleOf[g] = roleIDOf(sn.msp, r.Subject)
		}
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]UserRole, len(users))
	for _, u := range users {
		roles := []UserRole{}
		for _, g := range groupsOf[u] {
			if role, ok := roleOf[g]; ok {
				roles = append(roles, UserRole{SecurityGroupID: localID(sn.msp, g), RoleID: role})
			}
		}
		slices.SortFunc(roles, func(a, b UserRole) int { return cmp.Compare(a.SecurityGroupID, b.SecurityGroupID) })
		out[u] = roles
	}
	return out, nil
}
