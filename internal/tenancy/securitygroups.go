package tenancy

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Scope is the customers a security group's role applies to: every customer
// of the MSP, each member's associated customers, or some customers and
// customer groups.
type Scope struct {
	AllCustomers   bool
	Associated     bool
	Customers      []string
	CustomerGroups []string
}

// limited reports whether the scope names customers or customer groups.
func (s Scope) limited() bool { return len(s.Customers)+len(s.CustomerGroups) > 0 }

func checkScope(s Scope) error {
	kinds := 0
	for _, set := range []bool{s.AllCustomers, s.Associated, s.limited()} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fault.New(fault.Invalid, "scope: name exactly one of allCustomers, associatedCustomers, or customers and customerGroups")
	}
	return firstError(checkSelection("scope.customers", s.Customers), checkSelection("scope.customerGroups", s.CustomerGroups))
}

// checkScopeGrants refuses a limited scope for a role with a permission that
// only an MSP-wide group may grant (policy editing, the MSP's administration).
func checkScopeGrants(s Scope, role string, permissions []string) error {
	if !s.limited() {
		return nil
	}
	for _, id := range permissions {
		if p, _ := catalog.Lookup(id); !p.Scoped {
			return fault.New(fault.Blocked, "role %q grants %s, which a security group scoped to some customers never grants", role, id)
		}
	}
	return nil
}

// SecurityGroup binds a role to a scope of customers and holds its members.
type SecurityGroup struct {
	ID          string
	DisplayName string
	RoleID      string
	Scope       Scope
	Members     []string
	// BuiltIn groups are the MSP's own, one per built-in role.
	BuiltIn bool
	// SingleCustomerUser is the user a customer-specific group confines to its customer.
	SingleCustomerUser string
	// Origin is OriginLocal, or the connected system that created the group.
	Origin string
}

func securityGroupObject(msp, id string) graph.Object { return scoped(typeSecurityGroup, msp, id) }

// scopeRels are the relationships that give group its scope.
func scopeRels(msp string, group graph.Object, s Scope) []graph.Relationship {
	var out []graph.Relationship
	switch {
	case s.AllCustomers:
		out = append(out, graph.Rel(mspObject(msp), relAllCustomersSG, group))
	case s.Associated:
		out = append(out, graph.Rel(mspObject(msp), relAssociatedSG, group))
	}
	for _, c := range s.Customers {
		out = append(out, graph.Rel(customerObject(msp, c), relSecurityGroup, group))
	}
	for _, g := range s.CustomerGroups {
		out = append(out, graph.Rel(customerGroupObject(msp, g), relSecurityGroup, group))
	}
	return out
}

// builtinGroupRels are the security groups every MSP has, one per built-in
// role, with the owner in the account owner's group.
func builtinGroupRels(msp, owner string) []graph.Relationship {
	var out []graph.Relationship
	for _, r := range catalog.BuiltinRoles {
		g := securityGroupObject(msp, r.ID)
		out = append(out,
			graph.Rel(g, relMSP, mspObject(msp)),
			attributesOf(g, msp, r.DisplayName),
			graph.Rel(g, relRole, roleObject(msp, r.ID)))
		out = append(out, scopeRels(msp, g, Scope{AllCustomers: r.AllCustomers, Associated: !r.AllCustomers})...)
	}
	return append(out, graph.Rel(securityGroupObject(msp, "account_owner"), relMember, userObject(msp, owner)))
}

// readSecurityGroup reads a group, its scope and its members at the snapshot,
// and everything that points at it (for deletion).
func (sn *snapshot) readSecurityGroup(ctx context.Context, id string) (*SecurityGroup, error) {
	g, _, err := sn.readSecurityGroupRels(ctx, id)
	return g, err
}

func (sn *snapshot) readSecurityGroupRels(ctx context.Context, id string) (*SecurityGroup, []graph.Relationship, error) {
	obj := securityGroupObject(sn.msp, id)
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typeSecurityGroup, ResourceID: obj.ID},
		graph.Filter{ResourceType: typeCustomer, Relation: relSecurityGroup, SubjectType: typeSecurityGroup, SubjectID: obj.ID},
		graph.Filter{ResourceType: typeCustomerGroup, Relation: relSecurityGroup, SubjectType: typeSecurityGroup, SubjectID: obj.ID},
		graph.Filter{ResourceType: typeMSP, ResourceID: sn.msp, Relation: relAllCustomersSG, SubjectType: typeSecurityGroup, SubjectID: obj.ID},
		graph.Filter{ResourceType: typeMSP, ResourceID: sn.msp, Relation: relAssociatedSG, SubjectType: typeSecurityGroup, SubjectID: obj.ID})
	if err != nil {
		return nil, nil, err
	}
	g := &SecurityGroup{ID: id, Origin: OriginLocal}
	_, g.BuiltIn = catalog.LookupBuiltinRole(id)
	found := false
	for _, r := range rels {
		switch {
		case r.Resource.Type == typeSecurityGroup && r.Relation == relMSP:
			found = true
		case r.Resource.Type == typeSecurityGroup && r.Relation == relAttributes:
			g.DisplayName, g.Origin = r.Attribute(attrDisplayName), originOf(r)
		case r.Resource.Type == typeSecurityGroup && r.Relation == relRole:
			g.RoleID = roleIDOf(sn.msp, r.Subject)
		case r.Resource.Type == typeSecurityGroup && r.Relation == relMember:
			g.Members = append(g.Members, localID(sn.msp, r.Subject.ID))
		case r.Resource.Type == typeSecurityGroup && r.Relation == relConfines:
			g.SingleCustomerUser = localID(sn.msp, r.Subject.ID)
		case r.Relation == relAllCustomersSG:
			g.Scope.AllCustomers = true
		case r.Relation == relAssociatedSG:
			g.Scope.Associated = true
		case r.Resource.Type == typeCustomer:
			g.Scope.Customers = append(g.Scope.Customers, localID(sn.msp, r.Resource.ID))
		case r.Resource.Type == typeCustomerGroup:
			g.Scope.CustomerGroups = append(g.Scope.CustomerGroups, localID(sn.msp, r.Resource.ID))
		}
	}
	if !found {
		return nil, nil, fault.New(fault.NotFound, "securityGroupId: security group %q not found", id)
	}
	sort.Strings(g.Members)
	sort.Strings(g.Scope.Customers)
	sort.Strings(g.Scope.CustomerGroups)
	return g, rels, nil
}

// GetSecurityGroup returns a security group.
func (s *Service) GetSecurityGroup(ctx context.Context, msp, id string) (*SecurityGroup, error) {
	if err := checkID("securityGroupId", id); err != nil {
		return nil, err
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	if err := sn.authorize(ctx, permSecurityGroupsManage, mspObject(msp)); err != nil {
		return nil, err
	}
	return sn.readSecurityGroup(ctx, id)
}

// ListSecurityGroups lists msp's security groups.
func (s *Service) ListSecurityGroups(ctx context.Context, msp string) ([]SecurityGroup, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	if err := sn.authorize(ctx, permSecurityGroupsManage, mspObject(msp)); err != nil {
		return nil, err
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeSecurityGroup, ResourceIDPrefix: msp + "/", Relation: relMSP})
	if err != nil {
		return nil, err
	}
	out := make([]SecurityGroup, len(rels))
	err = each(ctx, sn.s.readParallelism, indexes(len(rels)), func(ctx context.Context, i int) error {
		g, err := sn.readSecurityGroup(ctx, localID(msp, rels[i].Resource.ID))
		if err == nil {
			out[i] = *g
		}
		return err
	})
	return out, err
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// CreateSecurityGroup creates a security group binding a role to a scope,
// with its first members. Its creator must hold what it grants.
func (s *Service) CreateSecurityGroup(ctx context.Context, msp string, g SecurityGroup) (*SecurityGroup, error) {
	if err := firstError(checkID("mspId", msp), checkID("securityGroupId", g.ID), checkDisplayName("displayName", g.DisplayName),
		checkID("roleId", g.RoleID), checkScope(g.Scope), checkSelection("members", g.Members)); err != nil {
		return nil, err
	}
	if _, ok := catalog.LookupBuiltinRole(g.ID); ok {
		return nil, fault.New(fault.AlreadyExists, "security group %q already exists (a built-in group)", g.ID)
	}
	obj := securityGroupObject(msp, g.ID)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		role, err := sn.readRole(ctx, g.RoleID)
		if err != nil {
			return nil, err
		}
		if err := firstError(
			sn.requireExisting(ctx, existing{"scope.customers", typeCustomer, g.Scope.Customers}, existing{"scope.customerGroups", typeCustomerGroup, g.Scope.CustomerGroups}, existing{"members", typeUser, g.Members}),
			checkScopeGrants(g.Scope, g.RoleID, role.Permissions),
		); err != nil {
			return nil, err
		}
		if err := sn.authorizeGrant(ctx, permSecurityGroupsManage, role.Permissions, g.Scope); err != nil {
			return nil, err
		}
		if err := sn.requireUnconfined(ctx, g.ID, g.Members); err != nil {
			return nil, err
		}
		if _, err := sn.readSecurityGroup(ctx, g.ID); err == nil {
			return nil, fault.New(fault.AlreadyExists, "security group %q already exists", g.ID)
		} else if !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		rels := []graph.Relationship{graph.Rel(obj, relMSP, mspObject(msp)), attributesOf(obj, msp, g.DisplayName), graph.Rel(obj, relRole, roleObject(msp, g.RoleID))}
		rels = append(rels, scopeRels(msp, obj, g.Scope)...)
		for _, u := range g.Members {
			rels = append(rels, graph.Rel(obj, relMember, userObject(msp, u)))
		}
		return creates(rels...), nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(g.Members)
	g.Origin = OriginLocal
	return &g, nil
}

// confinements maps every single-customer user of the MSP to the
// customer-specific security group that confines him.
func (sn *snapshot) confinements(ctx context.Context) (map[string]string, error) {
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeSecurityGroup, ResourceIDPrefix: sn.msp + "/", Relation: relConfines})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rels))
	for _, r := range rels {
		out[localID(sn.msp, r.Subject.ID)] = localID(sn.msp, r.Resource.ID)
	}
	return out, nil
}

// singleCustomers maps every single-customer user to his customer.
func (sn *snapshot) singleCustomers(ctx context.Context) (map[string]string, error) {
	confined, err := sn.confinements(ctx)
	if err != nil || len(confined) == 0 {
		return map[string]string{}, err
	}
	out := map[string]string{}
	users := make([]string, 0, len(confined))
	for u := range confined {
		users = append(users, u)
	}
	err = readEach(ctx, sn, sn.rev, users, func(u string) graph.Filter {
		return graph.Filter{ResourceType: typeCustomer, Relation: relSecurityGroup, SubjectType: typeSecurityGroup, SubjectID: securityGroupObject(sn.msp, confined[u]).ID}
	}, func(u string, rels []graph.Relationship) {
		if len(rels) > 0 {
			out[u] = localID(sn.msp, rels[0].Resource.ID)
		}
	})
	return out, err
}

// requireUnconfined refuses single-customer users anywhere but in the
// customer-specific group that confines them.
func (sn *snapshot) requireUnconfined(ctx context.Context, group string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	confined, err := sn.confinements(ctx)
	if err != nil {
		return err
	}
	var blocks []Block
	for _, u := range users {
		if sg, ok := confined[u]; ok && sg != group {
			blocks = append(blocks, Block{UserID: u, Reason: BlockSingleCustomer, SecurityGroupID: sg})
		}
	}
	if len(blocks) > 0 {
		return blockedError(blocks)
	}
	return nil
}

// requireConfinedTo refuses single-customer users of another customer among
// the users to associate with customer.
func (sn *snapshot) requireConfinedTo(ctx context.Context, customer string, users []string) error {
	single, err := sn.singleCustomers(ctx)
	if err != nil {
		return err
	}
	var blocks []Block
	for _, u := range users {
		if c, ok := single[u]; ok && c != customer {
			blocks = append(blocks, Block{UserID: u, CustomerID: c, Reason: BlockSingleCustomer})
		}
	}
	if len(blocks) > 0 {
		return blockedError(blocks)
	}
	return nil
}

// SetSecurityGroupMembers sets the members of a security group, as a full
// new selection. Whoever changes them must hold what the group grants.
func (s *Service) SetSecurityGroupMembers(ctx context.Context, msp, id string, members []string, opts SaveOptions) (*SecurityGroup, error) {
	if err := firstError(checkID("mspId", msp), checkID("securityGroupId", id), checkSelection("members", members), checkNotEmpty(opts, "members", len(members))); err != nil {
		return nil, err
	}
	var out *SecurityGroup
	_, err := s.save(ctx, msp, opts.ValidateOnly, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		g, rels, err := sn.readSecurityGroupRels(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := sn.requireExisting(ctx, existing{"members", typeUser, members}); err != nil {
			return nil, err
		}
		if err := sn.authorizeMembership(ctx, g); err != nil {
			return nil, err
		}
		if g.SingleCustomerUser != "" && !slices.Equal(members, []string{g.SingleCustomerUser}) {
			return nil, fault.New(fault.Blocked, "security group %q is customer-specific: it holds %q alone; delete it to revert him to full permissions (SINGLE_CUSTOMER)", id, g.SingleCustomerUser)
		}
		if err := firstError(sn.requireUnconfined(ctx, id, members), sn.requireOwnerKept(ctx, id, members)); err != nil {
			return nil, err
		}
		obj := securityGroupObject(msp, id)
		out = g
		out.Members = slices.Sorted(slices.Values(members))
		return selectionUpdates(rels, relMember, members, func(u string) graph.Relationship {
			return graph.Rel(obj, relMember, userObject(msp, u))
		}), nil
	})
	return out, err
}

// authorizeMembership refuses an actor who may not change the members of g:
// he must manage security groups and hold everything g grants over its scope.
func (sn *snapshot) authorizeMembership(ctx context.Context, g *SecurityGroup) error {
	role, err := sn.readRole(ctx, g.RoleID)
	if err != nil {
		return err
	}
	return sn.authorizeGrant(ctx, permSecurityGroupsManage, role.Permissions, g.Scope)
}

// requireOwnerKept refuses to take the account owner out of the account
// owner's group.
func (sn *snapshot) requireOwnerKept(ctx context.Context, group string, members []string) error {
	if group != "account_owner" {
		return nil
	}
	owner, err := sn.owner(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(members, owner) {
		return blockedError([]Block{{UserID: owner, Reason: BlockAccountOwner, SecurityGroupID: group}})
	}
	return nil
}

func (sn *snapshot) owner(ctx context.Context) (string, error) {
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: sn.msp, Relation: relOwner})
	if err != nil || len(rels) == 0 {
		return "", err
	}
	return localID(sn.msp, rels[0].Subject.ID), nil
}

// SetUserSecurityGroups sets the security groups a user belongs to, as a full
// new selection. A single-customer user cannot be moved: his customer-specific
// group must be deleted first (seed 004: no direct swap).
func (s *Service) SetUserSecurityGroups(ctx context.Context, msp, user string, groups []string, opts SaveOptions) error {
	if err := firstError(checkID("mspId", msp), checkID("userId", user), checkSelection("securityGroups", groups), checkNotEmpty(opts, "securityGroups", len(groups))); err != nil {
		return err
	}
	u := userObject(msp, user)
	_, err := s.save(ctx, msp, opts.ValidateOnly, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"userId", typeUser, []string{user}}); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeSecurityGroup, Relation: relMember, SubjectType: typeUser, SubjectID: u.ID})
		if err != nil {
			return nil, err
		}
		before := make([]string, len(current))
		for i, r := range current {
			before[i] = localID(msp, r.Resource.ID)
		}
		confined, err := sn.confinements(ctx)
		if err != nil {
			return nil, err
		}
		if sg, ok := confined[user]; ok && !slices.Equal(groups, []string{sg}) {
			return nil, fault.New(fault.Blocked, "user %q is a single-customer user of security group %q: delete that group first, then assign a full-permission group; a direct swap is refused (SINGLE_CUSTOMER)", user, sg).
				WithDetails([]Block{{UserID: user, Reason: BlockSingleCustomer, SecurityGroupID: sg}})
		}
		for _, g := range groups {
			if owner, ok := confinedBy(confined, g); ok && owner != user {
				return nil, fault.New(fault.Blocked, "security group %q is customer-specific to user %q (SINGLE_CUSTOMER)", g, owner)
			}
		}
		if slices.Contains(before, "account_owner") && !slices.Contains(groups, "account_owner") {
			if owner, err := sn.owner(ctx); err != nil {
				return nil, err
			} else if owner == user {
				return nil, blockedError([]Block{{UserID: user, Reason: BlockAccountOwner, SecurityGroupID: "account_owner"}})
			}
		}
		// Every group gained or lost is a grant the actor must be able to make.
		for _, g := range symmetricDifference(before, groups) {
			group, err := sn.readSecurityGroup(ctx, g)
			if err != nil {
				if fault.Is(err, fault.NotFound) {
					return nil, fault.New(fault.NotFound, "securityGroups: security group %q not found", g)
				}
				return nil, err
			}
			if err := sn.authorizeMembership(ctx, group); err != nil {
				return nil, err
			}
		}
		return selectionUpdates(current, relMember, groups, func(g string) graph.Relationship {
			return graph.Rel(securityGroupObject(msp, g), relMember, u)
		}), nil
	})
	return err
}

func confinedBy(confined map[string]string, group string) (string, bool) {
	for u, g := range confined {
		if g == group {
			return u, true
		}
	}
	return "", false
}

func symmetricDifference(a, b []string) []string {
	return append(without(a, b), without(b, a)...)
}

// DeleteSecurityGroup deletes a security group and its time-bound grants:
// its members lose what it granted. Deleting a customer-specific group
// releases its user, who may then be given a full-permission group, and
// deletes the role made for it. Built-in groups cannot be deleted.
func (s *Service) DeleteSecurityGroup(ctx context.Context, msp, id string) error {
	if err := firstError(checkID("mspId", msp), checkID("securityGroupId", id)); err != nil {
		return err
	}
	if _, ok := catalog.LookupBuiltinRole(id); ok {
		return fault.New(fault.Blocked, "security group %q is built in and cannot be deleted", id)
	}
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.authorize(ctx, permSecurityGroupsManage, mspObject(msp)); err != nil {
			return nil, err
		}
		return sn.securityGroupDeletion(ctx, id)
	})
	return err
}

// securityGroupDeletion deletes a security group, everything that points at
// it, and its time-bound grants. A customer-specific group takes its role
// with it: CreateSingleCustomerUser made the role for the group alone (of the
// group's id, its user's), so it goes unless another group has come to bind it.
func (sn *snapshot) securityGroupDeletion(ctx context.Context, id string) ([]graph.Update, error) {
	g, rels, err := sn.readSecurityGroupRels(ctx, id)
	if err != nil {
		return nil, err
	}
	grants, err := sn.grantsPointingAt(ctx, relSecurityGroup, securityGroupObject(sn.msp, id))
	if err != nil {
		return nil, err
	}
	out := deletes(append(rels, grants...))
	if g.SingleCustomerUser == "" || g.RoleID != id {
		return out, nil
	}
	role := roleObject(sn.msp, g.RoleID)
	binders, err := sn.read(ctx, graph.Filter{ResourceType: typeSecurityGroup, Relation: relRole, SubjectType: typeRole, SubjectID: role.ID})
	if err != nil {
		return nil, err
	}
	if len(binders) > 1 {
		return out, nil
	}
	current, err := sn.read(ctx, graph.Filter{ResourceType: typeRole, ResourceID: role.ID})
	if err != nil {
		return nil, err
	}
	roleDeletion, err := sn.roleDeletion(ctx, role, current)
	if err != nil {
		return nil, err
	}
	return append(out, roleDeletion...), nil
}

// singleCustomerPermissions are what a single-customer user gets unless told
// otherwise: every permission a customer-scoped group may grant.
func singleCustomerPermissions() []string {
	return catalog.IDs(func(p catalog.Permission) bool { return p.Scoped })
}

// CreateSingleCustomerUser creates a user confined to one customer (seed 004):
// he is associated with the customer, and a customer-specific security group
// (and its role, both named after him) grants him permissions there alone.
// Without permissions he gets every customer-scoped permission.
func (s *Service) CreateSingleCustomerUser(ctx context.Context, msp string, u User, customer string, permissions []string) (*User, error) {
	if err := firstError(checkID("mspId", msp), checkID("userId", u.ID), checkDisplayName("displayName", u.DisplayName), checkID("singleCustomer.customerId", customer), checkExternalID("externalId", u.ExternalID)); err != nil {
		return nil, err
	}
	if len(permissions) == 0 {
		permissions = singleCustomerPermissions()
	}
	if err := checkPermissions("singleCustomer.permissions", permissions); err != nil {
		return nil, err
	}
	for _, id := range permissions {
		if p, _ := catalog.Lookup(id); !p.Scoped {
			return nil, fault.New(fault.Invalid, "singleCustomer.permissions: %s is never granted to a single-customer user (only a group spanning every customer grants it)", id)
		}
	}
	if _, ok := catalog.LookupBuiltinRole(u.ID); ok {
		return nil, fault.New(fault.Invalid, "userId: %q names a built-in role; a single-customer user's group and role are named after him", u.ID)
	}
	user, role, group := userObject(msp, u.ID), scoped(typeRole, msp, u.ID), securityGroupObject(msp, u.ID)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		scope := Scope{Customers: []string{customer}}
		if err := firstError(sn.requireExisting(ctx, existing{"singleCustomer.customerId", typeCustomer, []string{customer}}),
			sn.authorize(ctx, permUsersManage, mspObject(msp)),
			sn.authorizeGrant(ctx, permSecurityGroupsManage, permissions, scope)); err != nil {
			return nil, err
		}
		taken, err := sn.readAll(ctx,
			graph.Filter{ResourceType: typeUser, ResourceID: user.ID},
			graph.Filter{ResourceType: typeRole, ResourceID: role.ID},
			graph.Filter{ResourceType: typeSecurityGroup, ResourceID: group.ID})
		if err != nil {
			return nil, err
		}
		if len(taken) > 0 {
			return nil, fault.New(fault.AlreadyExists, "%s %q already exists", typeNames[taken[0].Resource.Type], u.ID)
		}
		label := fmt.Sprintf("%s (single customer: %s)", u.DisplayName, customer)
		rels := append(newUserRels(msp, user, u.DisplayName, u.ExternalID),
			graph.Rel(mspObject(msp), relMember, user),
			graph.Rel(customerObject(msp, customer), relDirect, user),
			graph.Rel(role, relMSP, mspObject(msp)), attributesOf(role, msp, label),
			graph.Rel(group, relMSP, mspObject(msp)), attributesOf(group, msp, label), graph.Rel(group, relRole, role),
			graph.Rel(group, relConfines, user), graph.Rel(group, relMember, user),
		)
		rels = append(rels, permissionRels(role, permissions)...)
		rels = append(rels, scopeRels(msp, group, scope)...)
		if u.ExternalID == "" {
			return creates(rels...), nil
		}
		claim, err := sn.claimExternalID(ctx, "externalId", u.ExternalID, user)
		return append(creates(rels...), claim...), err
	})
	if err != nil {
		return nil, err
	}
	u.SingleCustomerID, u.Origin = customer, OriginLocal
	return &u, nil
}
