package tenancy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Explanation is a check's answer with its reasons, read at CheckedAt.
type Explanation struct {
	Allowed   bool
	CheckedAt string
	// Paths are, when allowed, one per entry of the check's via, in its order.
	Paths []GrantingPath
	// Missing is, when denied, what is missing: any one remedy of any entry
	// would grant the check.
	Missing []Missing
}

// GrantingPath is one way a permission is granted: Steps go from the user
// (the first) to the resource (the last).
type GrantingPath struct {
	Via   string
	Steps []PathStep
}

// PathStep is one object on a path ("<type>:<id>") and what it holds there.
type PathStep struct {
	Object string
	Note   string
}

// MissingReason names why a check is denied.
type MissingReason string

// The reasons of a denial.
const (
	// MissingNoPath: no customer group and no direct association joins the
	// user to the customer.
	MissingNoPath MissingReason = "NO_PATH"
	// MissingSingleCustomer: the user is confined to another customer.
	MissingSingleCustomer MissingReason = "SINGLE_CUSTOMER"
	// MissingNoRole: none of the user's security groups has a role that
	// holds the permission.
	MissingNoRole MissingReason = "NO_ROLE"
	// MissingScope: a security group's role holds the permission and its
	// scope does not cover the resource.
	MissingScope MissingReason = "SCOPE_NOT_COVERING"
	// MissingPartnerAccess: the customer switched partner access off.
	MissingPartnerAccess MissingReason = "PARTNER_ACCESS_DISABLED"
	// MissingGrantExpired, MissingGrantPending, MissingGrantEnded: a
	// time-bound grant that would grant it expired, awaits the customer's
	// approval, or was declined or revoked.
	MissingGrantExpired MissingReason = "GRANT_EXPIRED"
	MissingGrantPending MissingReason = "GRANT_PENDING"
	MissingGrantEnded   MissingReason = "GRANT_ENDED"
)

// Missing is one reason a check is denied, with the changes that would grant it.
type Missing struct {
	Reason  MissingReason
	Message string
	// Object is what the reason is about, when it is one object ("security_group:tech").
	Object string
	// At is when a grant expired (MissingGrantExpired).
	At       time.Time
	Remedies []Remedy
}

// Remedy is one change that would grant a denied check, and the call that makes it.
type Remedy struct {
	// Change says what changes: "user:bob in customer_group:site24x7".
	Change string
	// Call is the form or call that makes it ("Edit User"), Path its method and path.
	Call, Path string
}

// Explain answers a check of customer access or of a permission of the
// catalog (on a customer or on the MSP) as Check does, and explains it from
// the relationships at the check's revision: the granting paths, or what is
// missing. It needs users.manage: it reads the user's groups, roles, scopes
// and grants, and the customer's groups.
func (s *Service) Explain(ctx context.Context, msp string, q Question, atLeastAsFresh string) (*Explanation, error) {
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	if err := sn.authorize(ctx, permUsersManage, mspObject(msp)); err != nil {
		return nil, err
	}
	if _, catalogued := catalog.Lookup(q.Permission); q.Permission != PermissionAccess && !catalogued {
		return nil, fault.New(fault.Invalid, "permission: %q is neither access nor a permission of the catalog (GET /v1/permissions lists them): explain answers those", q.Permission)
	}
	results, rev, err := s.Check(ctx, msp, []Question{q}, string(sn.rev))
	if err != nil {
		return nil, err
	}
	x := &explainer{sn: &snapshot{s: s, msp: msp, rev: graph.Revision(rev)}, q: q}
	e := &Explanation{Allowed: results[0].Allowed, CheckedAt: rev}
	if e.Allowed {
		for _, via := range results[0].Via {
			steps, err := x.path(ctx, via)
			if err != nil {
				return nil, err
			}
			e.Paths = append(e.Paths, GrantingPath{Via: via, Steps: steps})
		}
		return e, nil
	}
	if q.Permission == PermissionAccess {
		e.Missing, err = x.noAccess(ctx)
	} else {
		e.Missing, err = x.noPermission(ctx)
	}
	return e, err
}

// explainer explains one question at a snapshot.
type explainer struct {
	sn *snapshot
	q  Question
}

func (x *explainer) user() string     { return typeUser + ":" + x.q.UserID }
func (x *explainer) resource() string { return x.q.ResourceType + ":" + x.q.ResourceID }

// call is a remedy's method and path under the MSP's.
func (x *explainer) call(method string, segments ...string) string {
	return method + " /v1/msps/" + x.sn.msp + "/" + strings.Join(segments, "/")
}

// path is the steps of one granting path (an entry of a check's via).
func (x *explainer) path(ctx context.Context, via string) ([]PathStep, error) {
	kind, id, _ := strings.Cut(via, ":")
	steps := []PathStep{{Object: x.user()}}
	end := PathStep{Object: x.resource()}
	switch kind {
	case relDirect:
		end.Note = "associated directly, by Edit Customer Preferences"
	case typeCustomerGroup:
		steps = append(steps, PathStep{Object: via, Note: "member; holds " + x.resource()})
	case typeSecurityGroup:
		g, err := x.sn.readSecurityGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		steps = append(steps, PathStep{Object: via, Note: "member; role " + g.RoleID + "; scope: " + g.Scope.String()})
	case typeGrant:
		g, err := x.sn.readGrant(ctx, id)
		if err != nil {
			return nil, err
		}
		steps = append(steps,
			PathStep{Object: typeSecurityGroup + ":" + g.SecurityGroupID, Note: "member"},
			PathStep{Object: via, Note: fmt.Sprintf("time-bound grant of role %s, %s until %s", g.RoleID, g.Status, g.ExpiresAt.Format(time.RFC3339))})
	case strings.TrimSuffix(endCustomerRoleVia, ":"):
		steps = append(steps, PathStep{Object: via, Note: "the role of one of the customer's own users"})
	default:
		steps = append(steps, PathStep{Object: via})
	}
	return append(steps, end), nil
}

// String says which customers a scope covers.
func (s Scope) String() string {
	switch {
	case s.AllCustomers:
		return "every customer"
	case s.Associated:
		return "each member's associated customers"
	}
	var parts []string
	if len(s.Customers) > 0 {
		parts = append(parts, "customers "+strings.Join(s.Customers, ", "))
	}
	if len(s.CustomerGroups) > 0 {
		parts = append(parts, "customer groups "+strings.Join(s.CustomerGroups, ", "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// member is the user with his memberships, and the customer he is confined to ("" if none).
func (x *explainer) member(ctx context.Context) (User, string, error) {
	u := []User{{ID: x.q.UserID}}
	if err := x.sn.fillMemberships(ctx, u); err != nil {
		return User{}, "", err
	}
	single, err := x.sn.singleCustomers(ctx)
	return u[0], single[x.q.UserID], err
}

// customerGroupsOf are the customer groups that hold the question's customer.
func (x *explainer) customerGroupsOf(ctx context.Context) ([]string, error) {
	rels, err := x.sn.read(ctx, graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(x.sn.msp, x.q.ResourceID).ID, Relation: relCustomerGroup})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rels))
	for i, r := range rels {
		ids[i] = localID(x.sn.msp, r.Subject.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

// noAccess explains a denied customer access: the missing path, and the
// confinement of a single-customer user.
func (x *explainer) noAccess(ctx context.Context) ([]Missing, error) {
	u, single, err := x.member(ctx)
	if err != nil {
		return nil, err
	}
	var out []Missing
	if single != "" && single != x.q.ResourceID {
		out = append(out, Missing{Reason: MissingSingleCustomer, Object: typeSecurityGroup + ":" + x.q.UserID,
			Message:  fmt.Sprintf("%s is a single-customer user, confined to customer:%s: the forms refuse the user any other customer", x.user(), single),
			Remedies: []Remedy{{Change: fmt.Sprintf("security_group:%s (the customer-specific one) deleted, then a full-permission one assigned", x.q.UserID), Call: "Delete the security group", Path: x.call("DELETE", "securityGroups", x.q.UserID)}}})
	}
	noPath, err := x.noPath(ctx, u)
	if err != nil {
		return nil, err
	}
	return append(out, noPath), nil
}

// noPath is the missing path from the user to the customer, with every
// association that would make one.
func (x *explainer) noPath(ctx context.Context, u User) (Missing, error) {
	holding, err := x.customerGroupsOf(ctx)
	if err != nil {
		return Missing{}, err
	}
	groups := make([]string, len(u.CustomerGroups))
	for i, m := range u.CustomerGroups {
		groups[i] = m.ID
	}
	m := Missing{Reason: MissingNoPath, Message: fmt.Sprintf("%s reaches %s through no customer group and no direct association (%s's customer groups: %s; %s's: %s)",
		x.user(), x.resource(), x.user(), listOrNone(groups), x.resource(), listOrNone(holding))}
	for _, g := range holding {
		m.Remedies = append(m.Remedies, Remedy{Change: fmt.Sprintf("%s in customer_group:%s", x.user(), g), Call: "Edit User", Path: x.call("PUT", "users", x.q.UserID, "customerGroups")})
	}
	for _, g := range groups {
		m.Remedies = append(m.Remedies, Remedy{Change: fmt.Sprintf("%s in customer_group:%s", x.resource(), g), Call: "Edit Customer Group", Path: x.call("PUT", "customerGroups", g, "customers")})
	}
	m.Remedies = append(m.Remedies, Remedy{Change: fmt.Sprintf("%s associated directly with %s", x.user(), x.resource()), Call: "Edit Customer Preferences", Path: x.call("PUT", "customers", x.q.ResourceID, "preferences")})
	return m, nil
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// noPermission explains a denied permission of the catalog: the user's
// security groups whose roles lack it or whose scopes do not cover the
// resource, the customer's partner access, and the time-bound grants that
// would grant it and no longer (or not yet) do.
func (x *explainer) noPermission(ctx context.Context) ([]Missing, error) {
	p, _ := catalog.Lookup(x.q.Permission)
	u, _, err := x.member(ctx)
	if err != nil {
		return nil, err
	}
	onCustomer := x.q.ResourceType == typeCustomer
	var holding []string
	var reaches bool
	if onCustomer {
		if holding, err = x.customerGroupsOf(ctx); err != nil {
			return nil, err
		}
		access, _, err := x.sn.s.graph.Check(ctx, []graph.Check{{Resource: customerObject(x.sn.msp, x.q.ResourceID), Permission: PermissionAccess, Subject: userObject(x.sn.msp, x.q.UserID)}}, graph.At(x.sn.rev))
		if err != nil {
			return nil, err
		}
		reaches = access[0]
	}
	var out []Missing
	var lacking []string
	covered, holders := false, 0
	for _, m := range u.SecurityGroups {
		g, err := x.sn.readSecurityGroup(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		role, err := x.sn.readRole(ctx, g.RoleID)
		if err != nil {
			return nil, err
		}
		object := typeSecurityGroup + ":" + g.ID
		if !slices.Contains(role.Permissions, p.ID) {
			lacking = append(lacking, fmt.Sprintf("%s (role %s)", object, g.RoleID))
			continue
		}
		holders++
		switch {
		case !onCustomer && !g.Scope.AllCustomers:
			out = append(out, Missing{Reason: MissingScope, Object: object,
				Message: fmt.Sprintf("%s's role %s holds %s, but only a security group that spans every customer grants the MSP's administration (its scope: %s)", object, g.RoleID, p.ID, g.Scope)})
		case !onCustomer:
			covered = true
		case g.Scope.limited() && !p.Scoped:
			out = append(out, Missing{Reason: MissingScope, Object: object,
				Message: fmt.Sprintf("%s's role %s holds %s, but a security group scoped to some customers never grants it (its scope: %s)", object, g.RoleID, p.ID, g.Scope)})
		case g.Scope.AllCustomers || slices.Contains(g.Scope.Customers, x.q.ResourceID) || slices.ContainsFunc(g.Scope.CustomerGroups, func(cg string) bool { return slices.Contains(holding, cg) }):
			covered = true
		case g.Scope.Associated && reaches:
			covered = true
		case g.Scope.Associated:
			noPath, err := x.noPath(ctx, u)
			if err != nil {
				return nil, err
			}
			out = append(out, Missing{Reason: MissingScope, Object: object, Remedies: noPath.Remedies,
				Message: fmt.Sprintf("%s's role %s holds %s, but its scope is each member's associated customers, and %s", object, g.RoleID, p.ID, noPath.Message)})
		default:
			out = append(out, Missing{Reason: MissingScope, Object: object,
				Message: fmt.Sprintf("%s's role %s holds %s, but its scope (%s) does not cover %s", object, g.RoleID, p.ID, g.Scope, x.resource())})
		}
	}
	if covered && onCustomer {
		if _, gated := partnerGated[p.ID]; gated {
			r := partnerOff(x.sn.msp, x.q.ResourceID)
			off, err := x.sn.read(ctx, graph.Filter{ResourceType: r.Resource.Type, ResourceID: r.Resource.ID, Relation: r.Relation})
			if err != nil {
				return nil, err
			}
			if len(off) > 0 {
				out = append(out, Missing{Reason: MissingPartnerAccess, Object: x.resource(),
					Message:  fmt.Sprintf("%s switched partner access off: only its own built-in administrators may %s", x.resource(), p.ID),
					Remedies: []Remedy{{Change: "partner access switched on, by one of the customer's own built-in administrators", Call: "Set partner access", Path: x.call("PUT", "customers", x.q.ResourceID, "partnerAccess")}}})
			}
		}
	}
	if holders == 0 {
		held := "in none at all"
		if len(lacking) > 0 {
			held = "the roles of those it is in do not: " + strings.Join(lacking, ", ")
		}
		where := "every customer"
		if onCustomer {
			where = x.resource()
		}
		out = append(out, Missing{Reason: MissingNoRole, Message: fmt.Sprintf("%s is in no security group whose role holds %s (%s)", x.user(), p.ID, held),
			Remedies: []Remedy{{Change: fmt.Sprintf("%s in a security group whose role holds %s and whose scope covers %s", x.user(), p.ID, where), Call: "Set the user's security groups", Path: x.call("PUT", "users", x.q.UserID, "securityGroups")}}})
	}
	if onCustomer && p.Scoped {
		grants, err := x.grants(ctx, u, p)
		if err != nil {
			return nil, err
		}
		out = append(out, grants...)
	}
	return out, nil
}

// grants are the customer's time-bound grants of a role holding p to one of
// the user's security groups that grant nothing now: expired, pending, or
// declined or revoked.
func (x *explainer) grants(ctx context.Context, u User, p catalog.Permission) ([]Missing, error) {
	refs, err := x.sn.read(ctx, graph.Filter{ResourceType: typeGrant, ResourceIDPrefix: x.sn.msp + "/", Relation: relCustomer, SubjectType: typeCustomer, SubjectID: customerObject(x.sn.msp, x.q.ResourceID).ID})
	if err != nil {
		return nil, err
	}
	var out []Missing
	for _, ref := range refs {
		g, err := x.sn.readGrant(ctx, localID(x.sn.msp, ref.Resource.ID))
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(u.SecurityGroups, func(m Membership) bool { return m.ID == g.SecurityGroupID }) {
			continue
		}
		role, err := x.sn.readRole(ctx, g.RoleID)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(role.Permissions, p.ID) {
			continue
		}
		object := typeGrant + ":" + g.ID
		what := fmt.Sprintf("%s (role %s, to security_group:%s)", object, g.RoleID, g.SecurityGroupID)
		switch g.Status {
		case GrantExpired:
			m := Missing{Reason: MissingGrantExpired, Object: object, At: g.ExpiresAt,
				Message: fmt.Sprintf("%s expired at %s", what, g.ExpiresAt.Format(time.RFC3339))}
			if g.DecidedAt.IsZero() {
				m.Message = fmt.Sprintf("%s was requested and lapsed unanswered at %s", what, g.ExpiresAt.Format(time.RFC3339))
			}
			m.Remedies = []Remedy{{Change: "a new time-bound grant, approved by the customer", Call: "Request a grant", Path: x.call("POST", "grants")}}
			out = append(out, m)
		case GrantPending:
			out = append(out, Missing{Reason: MissingGrantPending, Object: object,
				Message:  fmt.Sprintf("%s awaits the customer's approval (until %s)", what, g.ExpiresAt.Format(time.RFC3339)),
				Remedies: []Remedy{{Change: "the grant approved, by one of the customer's own built-in administrators", Call: "Approve the grant", Path: x.call("POST", "grants", g.ID+":approve")}}})
		case GrantDeclined, GrantRevoked:
			out = append(out, Missing{Reason: MissingGrantEnded, Object: object,
				Message: fmt.Sprintf("%s was %s", what, strings.ToLower(string(g.Status)))})
		}
	}
	return out, nil
}
