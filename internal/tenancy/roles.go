package tenancy

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Role is a named set of permissions of the catalog.
type Role struct {
	ID          string
	DisplayName string
	// BuiltIn roles ship with mspauthz and cannot be edited or deleted.
	BuiltIn     bool
	Permissions []string
}

// builtinPrefix is the id prefix of built-in roles, shared by every MSP. No
// MSP id can produce it (ids never start with "_"), so no MSP's clean-up can
// touch them.
const builtinPrefix = "_builtin/"

// roleObject is the object of role id as msp sees it: a built-in role, or
// one of msp's custom roles.
func roleObject(msp, id string) graph.Object {
	if _, ok := catalog.LookupBuiltinRole(id); ok {
		return graph.Object{Type: typeRole, ID: builtinPrefix + id}
	}
	return scoped(typeRole, msp, id)
}

// roleIDOf is the id msp knows a role object by (roleObject's inverse).
func roleIDOf(msp string, role graph.Object) string {
	return strings.TrimPrefix(localID(msp, role.ID), builtinPrefix)
}

// roleRelations maps a schema relation of role to its catalog permission id.
var roleRelations = func() map[string]string {
	m := map[string]string{}
	for _, p := range catalog.All {
		m[p.Relation()] = p.ID
	}
	return m
}()

// permissionRels are the relationships by which role grants permissions.
func permissionRels(role graph.Object, permissions []string) []graph.Relationship {
	out := make([]graph.Relationship, 0, len(permissions))
	for _, id := range permissions {
		p, _ := catalog.Lookup(id)
		out = append(out, graph.Rel(role, p.Relation(), graph.Object{Type: typeUser, ID: "*"}))
	}
	return out
}

// checkPermissions refuses unknown, repeated or no permissions.
func checkPermissions(field string, ids []string) error {
	if len(ids) == 0 {
		return fault.New(fault.Invalid, "%s: a role grants at least one permission", field)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := catalog.Lookup(id); !ok {
			return fault.New(fault.Invalid, "%s: %q is not a permission of the catalog (GET /v1/permissions lists them)", field, id)
		}
		if seen[id] {
			return fault.New(fault.Invalid, "%s: %q is listed twice", field, id)
		}
		seen[id] = true
	}
	return nil
}

// EnsureBuiltinRoles writes the built-in roles of the catalog to the graph,
// as they are in this version: run at start-up, it changes nothing when they
// are already there.
func (s *Service) EnsureBuiltinRoles(ctx context.Context) error {
	var updates []graph.Update
	for _, r := range catalog.BuiltinRoles {
		obj := graph.Object{Type: typeRole, ID: builtinPrefix + r.ID}
		current, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: typeRole, ResourceID: obj.ID}, graph.Full())
		if err != nil {
			return err
		}
		want := permissionRels(obj, r.Permissions)
		have := map[string]bool{}
		for _, rel := range current {
			have[rel.String()] = true
			if !slices.ContainsFunc(want, func(w graph.Relationship) bool { return w.String() == rel.String() }) {
				updates = append(updates, graph.Update{Op: graph.Delete, Relationship: rel})
			}
		}
		for _, rel := range want {
			if !have[rel.String()] {
				updates = append(updates, graph.Update{Op: graph.Touch, Relationship: rel})
			}
		}
	}
	_, err := s.graph.Write(ctx, updates, nil)
	return err
}

// readRole reads a role's permissions and display name at the snapshot.
func (sn *snapshot) readRole(ctx context.Context, id string) (*Role, error) {
	if b, ok := catalog.LookupBuiltinRole(id); ok {
		return &Role{ID: b.ID, DisplayName: b.DisplayName, BuiltIn: true, Permissions: slices.Clone(b.Permissions)}, nil
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeRole, ResourceID: scoped(typeRole, sn.msp, id).ID})
	if err != nil {
		return nil, err
	}
	return roleOf(id, rels)
}

func roleOf(id string, rels []graph.Relationship) (*Role, error) {
	r := &Role{ID: id}
	found := false
	for _, rel := range rels {
		switch rel.Relation {
		case relMSP:
			found = true
		case relAttributes:
			r.DisplayName = rel.Attribute(attrDisplayName)
		default:
			if p, ok := roleRelations[rel.Relation]; ok {
				r.Permissions = append(r.Permissions, p)
			}
		}
	}
	if !found {
		return nil, fault.New(fault.NotFound, "roleId: role %q not found", id)
	}
	sortByCatalog(r.Permissions)
	return r, nil
}

// sortByCatalog orders permission ids as the catalog lists them.
func sortByCatalog(ids []string) {
	order := map[string]int{}
	for i, p := range catalog.All {
		order[p.ID] = i
	}
	sort.Slice(ids, func(i, j int) bool { return order[ids[i]] < order[ids[j]] })
}

// ListRoles lists the built-in roles and msp's custom roles.
func (s *Service) ListRoles(ctx context.Context, msp string) ([]Role, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	var out []Role
	for _, b := range catalog.BuiltinRoles {
		out = append(out, Role{ID: b.ID, DisplayName: b.DisplayName, BuiltIn: true, Permissions: slices.Clone(b.Permissions)})
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeRole, ResourceIDPrefix: msp + "/"})
	if err != nil {
		return nil, err
	}
	byRole := map[string][]graph.Relationship{}
	for _, rel := range rels {
		id := localID(msp, rel.Resource.ID)
		byRole[id] = append(byRole[id], rel)
	}
	ids := make([]string, 0, len(byRole))
	for id := range byRole {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r, err := roleOf(id, byRole[id])
		if err != nil {
			continue // a role being deleted
		}
		out = append(out, *r)
	}
	return out, nil
}

// GetRole returns a built-in role or one of msp's custom roles.
func (s *Service) GetRole(ctx context.Context, msp, id string) (*Role, error) {
	if err := checkID("roleId", id); err != nil {
		return nil, err
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	return sn.readRole(ctx, id)
}

// CreateRole creates a custom role. Its id may not be a built-in role's.
func (s *Service) CreateRole(ctx context.Context, msp string, r Role) (*Role, error) {
	if err := firstError(checkID("mspId", msp), checkID("roleId", r.ID), checkDisplayName("displayName", r.DisplayName), checkPermissions("permissions", r.Permissions)); err != nil {
		return nil, err
	}
	if _, ok := catalog.LookupBuiltinRole(r.ID); ok {
		return nil, fault.New(fault.AlreadyExists, "role %q already exists (a built-in role)", r.ID)
	}
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorizeGrant(ctx, permRolesManage, r.Permissions, Scope{AllCustomers: true}); err != nil {
			return nil, err
		}
		obj := scoped(typeRole, msp, r.ID)
		existing, err := sn.read(ctx, graph.Filter{ResourceType: typeRole, ResourceID: obj.ID, Relation: relMSP})
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 {
			return nil, fault.New(fault.AlreadyExists, "role %q already exists", r.ID)
		}
		rels := append([]graph.Relationship{graph.Rel(obj, relMSP, mspObject(msp)), attributesOf(obj, msp, r.DisplayName)}, permissionRels(obj, r.Permissions)...)
		return creates(rels...), nil
	})
	if err != nil {
		return nil, err
	}
	sortByCatalog(r.Permissions)
	return &r, nil
}

// RoleFields are the fields of a role an update changes.
type RoleFields struct {
	DisplayName, Permissions bool
}

// UpdateRole changes the fields of a custom role that fields names to r's.
// New permissions must be the actor's own on every customer, and a role
// bound to a customer-scoped security group cannot gain a permission such a
// group never grants.
func (s *Service) UpdateRole(ctx context.Context, msp string, r Role, fields RoleFields) (*Role, error) {
	checks := []error{checkID("mspId", msp), checkID("roleId", r.ID)}
	if fields.DisplayName {
		checks = append(checks, checkDisplayName("displayName", r.DisplayName))
	}
	if fields.Permissions {
		checks = append(checks, checkPermissions("permissions", r.Permissions))
	}
	if err := firstError(checks...); err != nil {
		return nil, err
	}
	if _, ok := catalog.LookupBuiltinRole(r.ID); ok {
		return nil, fault.New(fault.Blocked, "role %q is built in and cannot be edited; create a custom role instead", r.ID)
	}
	obj := scoped(typeRole, msp, r.ID)
	var updated *Role
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		authorize := func() error { return sn.authorize(ctx, permRolesManage, mspObject(msp)) }
		if fields.Permissions {
			authorize = func() error { return sn.authorizeGrant(ctx, permRolesManage, r.Permissions, Scope{AllCustomers: true}) }
		}
		if err := authorize(); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeRole, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		was, err := roleOf(r.ID, current)
		if err != nil {
			return nil, err
		}
		updated = &Role{ID: r.ID, DisplayName: was.DisplayName, Permissions: was.Permissions}
		var updates []graph.Update
		if fields.DisplayName && r.DisplayName != was.DisplayName {
			updated.DisplayName = r.DisplayName
			updates = append(updates, graph.Update{Op: graph.Touch, Relationship: attributesOf(obj, msp, r.DisplayName)})
		}
		if !fields.Permissions {
			return updates, nil
		}
		updated.Permissions = slices.Clone(r.Permissions)
		sortByCatalog(updated.Permissions)
		groups, err := sn.securityGroupsOfRole(ctx, obj)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			if err := checkScopeGrants(g.Scope, r.ID, r.Permissions); err != nil {
				return nil, fault.Wrap(err, fault.Blocked, "role %q is bound to security group %q", r.ID, g.ID)
			}
		}
		want := map[string]bool{}
		for _, rel := range permissionRels(obj, r.Permissions) {
			want[rel.String()] = true
		}
		have := map[string]bool{}
		for _, rel := range current {
			if _, isPermission := roleRelations[rel.Relation]; !isPermission {
				continue
			}
			have[rel.String()] = true
			if !want[rel.String()] {
				updates = append(updates, graph.Update{Op: graph.Delete, Relationship: rel})
			}
		}
		for _, rel := range permissionRels(obj, r.Permissions) {
			if !have[rel.String()] {
				updates = append(updates, graph.Update{Op: graph.Create, Relationship: rel})
			}
		}
		return updates, nil
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// DeleteRole deletes a custom role that no security group binds, with the
// time-bound grants of it; otherwise it is refused with every holder.
func (s *Service) DeleteRole(ctx context.Context, msp, id string) error {
	if err := firstError(checkID("mspId", msp), checkID("roleId", id)); err != nil {
		return err
	}
	if _, ok := catalog.LookupBuiltinRole(id); ok {
		return fault.New(fault.Blocked, "role %q is built in and cannot be deleted", id)
	}
	obj := scoped(typeRole, msp, id)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorize(ctx, permRolesManage, mspObject(msp)); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeRole, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		if _, err := roleOf(id, current); err != nil {
			return nil, err
		}
		groups, err := sn.securityGroupsOfRole(ctx, obj)
		if err != nil {
			return nil, err
		}
		var blocks []Block
		var names []string
		for _, g := range groups {
			names = append(names, g.ID)
			for _, u := range g.Members {
				blocks = append(blocks, Block{UserID: u, Reason: BlockRoleInUse, SecurityGroupID: g.ID})
			}
			if len(g.Members) == 0 {
				blocks = append(blocks, Block{Reason: BlockRoleInUse, SecurityGroupID: g.ID})
			}
		}
		if len(blocks) > 0 {
			return nil, fault.New(fault.Blocked, "role %q is still assigned, through security groups %s: remove it from them first", id, strings.Join(names, ", ")).WithDetails(blocks)
		}
		return sn.roleDeletion(ctx, obj, current)
	})
	return err
}

// roleDeletion deletes a custom role, whose relationships current holds (read
// at the snapshot), with its time-bound grants.
func (sn *snapshot) roleDeletion(ctx context.Context, role graph.Object, current []graph.Relationship) ([]graph.Update, error) {
	grants, err := sn.grantsPointingAt(ctx, relRole, role)
	if err != nil {
		return nil, err
	}
	return deletes(append(current, grants...)), nil
}

// securityGroupsOfRole reads every security group that binds role.
func (sn *snapshot) securityGroupsOfRole(ctx context.Context, role graph.Object) ([]SecurityGroup, error) {
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeSecurityGroup, Relation: relRole, SubjectType: typeRole, SubjectID: role.ID})
	if err != nil {
		return nil, err
	}
	var out []SecurityGroup
	for _, rel := range rels {
		if !strings.HasPrefix(rel.Resource.ID, sn.msp+"/") {
			continue
		}
		g, err := sn.readSecurityGroup(ctx, localID(sn.msp, rel.Resource.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, nil
}
