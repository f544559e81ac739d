package tenancy

import (
	"context"
	"slices"
	"strings"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Actor is the user on whose behalf a call is made. The zero Actor is a
// trusted service (the platform, or an MSP's service token acting for nobody),
// which holds every right within the MSPs it may reach.
type Actor struct {
	UserID string
}

type actorKey struct{}

// WithActor returns ctx acting as a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// UserExists reports whether user is a user of msp, of its staff or of one
// of its customers: one whose rights a call may have. An absence is confirmed
// at a revision that sees every write acknowledged before the call (a fully
// consistent read can miss a user created a moment ago; see graph.Full).
func (s *Service) UserExists(ctx context.Context, msp, user string) (bool, error) {
	if err := firstError(checkID("mspId", msp), checkID("userId", user)); err != nil {
		return false, err
	}
	is := []graph.Check{{Resource: userObject(msp, user), Permission: relMSP, Subject: mspObject(msp)}}
	found, _, err := s.graph.Check(ctx, is, graph.Full())
	if err != nil || found[0] {
		return err == nil, err
	}
	fresh, err := s.graph.FreshRevision(ctx)
	if err != nil {
		return false, err
	}
	found, _, err = s.graph.Check(ctx, is, graph.AtLeast(fresh))
	return err == nil && found[0], err
}

// The permissions of the catalog that admin calls require.
const (
	permUsersManage          = "users.manage"
	permCustomersManage      = "customers.manage"
	permCustomerGroupsManage = "customer_groups.manage"
	permRolesManage          = "roles.manage"
	permSecurityGroupsManage = "security_groups.manage"
	permSettingsManage       = "settings.manage"
	permCustomersEdit        = "customers.edit"
)

// relationOf is the schema name of a permission of the catalog.
func relationOf(permission string) string { return strings.ReplaceAll(permission, ".", "_") }

// authorize refuses an actor who lacks a permission of the catalog on obj at
// the snapshot.
func (sn *snapshot) authorize(ctx context.Context, permission string, obj graph.Object) error {
	return sn.requirePermission(ctx, obj, relationOf(permission), func(user string) error {
		return fault.New(fault.PermissionDenied, "user %q lacks %s", user, permission)
	})
}

// requirePermission is the one way an actor is checked: it refuses an actor
// who lacks the schema permission on obj at the snapshot, with refusal(his
// id), or "not found" when he may not know of the customer (see denied). A
// trusted service (no actor) passes.
func (sn *snapshot) requirePermission(ctx context.Context, obj graph.Object, permission string, refusal func(user string) error) error {
	ok, err := sn.holds(ctx, obj, permission)
	if err != nil || ok {
		return err
	}
	a := actorFrom(ctx)
	return sn.denied(ctx, a, obj, refusal(a.UserID))
}

// holds reports whether the actor holds the schema permission on obj at the
// snapshot; a trusted service (no actor) holds every one.
func (sn *snapshot) holds(ctx context.Context, obj graph.Object, permission string) (bool, error) {
	a := actorFrom(ctx)
	if a.UserID == "" {
		return true, nil
	}
	ok, _, err := sn.s.graph.Check(ctx, []graph.Check{{Resource: obj, Permission: permission, Subject: userObject(sn.msp, a.UserID)}}, graph.At(sn.rev))
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// denied is the error for an actor refused on obj: "forbidden" when he may
// know of the customer obj is or belongs to, "not found" when he may not.
func (sn *snapshot) denied(ctx context.Context, a Actor, obj graph.Object, forbidden error) error {
	customer := ""
	switch {
	case obj.Type == typeCustomer:
		customer = localID(sn.msp, obj.ID)
	case slices.Contains(customerTypes, obj.Type):
		customer, _ = alertGroupIDs(sn.msp, obj.ID)
	default:
		return forbidden
	}
	visible, _, err := sn.s.graph.Check(ctx, []graph.Check{{Resource: customerObject(sn.msp, customer), Permission: permissionVisible, Subject: userObject(sn.msp, a.UserID)}}, graph.At(sn.rev))
	if err != nil {
		return err
	}
	if !visible[0] {
		return fault.New(fault.NotFound, "customerId: customer %q not found", customer)
	}
	return forbidden
}

// authorizeGrant refuses an actor who may not manage what he grants (manage),
// or who would grant permissions he does not hold himself over the scope: no
// privilege escalation. Customer permissions over a few customers must be held
// on each of them; over a wider scope (customer groups, whose customers
// change, every customer, or each member's associated customers) they must be
// held on every customer.
func (sn *snapshot) authorizeGrant(ctx context.Context, manage string, permissions []string, scope Scope) error {
	if err := sn.authorize(ctx, manage, mspObject(sn.msp)); err != nil {
		return err
	}
	a := actorFrom(ctx)
	if a.UserID == "" {
		return nil
	}
	actor := userObject(sn.msp, a.UserID)
	var checks []graph.Check
	var names []string
	for _, id := range permissions {
		p, _ := catalog.Lookup(id)
		switch {
		case p.Level == catalog.MSP:
			checks = append(checks, graph.Check{Resource: mspObject(sn.msp), Permission: p.Relation(), Subject: actor})
			names = append(names, id)
		case scope.limited() && len(scope.CustomerGroups) == 0:
			for _, c := range scope.Customers {
				checks = append(checks, graph.Check{Resource: customerObject(sn.msp, c), Permission: p.Relation(), Subject: actor})
				names = append(names, id+" on customer "+c)
			}
		default:
			checks = append(checks, graph.Check{Resource: mspObject(sn.msp), Permission: "all_" + p.Relation(), Subject: actor})
			names = append(names, id+" on every customer")
		}
	}
	held, _, err := sn.s.graph.Check(ctx, checks, graph.At(sn.rev))
	if err != nil {
		return err
	}
	var missing []string
	for i, ok := range held {
		if !ok {
			missing = append(missing, names[i])
		}
	}
	if len(missing) > 0 {
		return fault.New(fault.PermissionDenied, "user %q cannot grant what he does not hold: %s", a.UserID, strings.Join(missing, ", "))
	}
	return nil
}

// PermAuditView is the permission to read the MSP's audit trail.
const PermAuditView = "audit.view"

// AuthorizeMSP refuses an actor who lacks an MSP permission of the catalog in
// msp (which must exist), for callers outside the domain (the audit trail).
func (s *Service) AuthorizeMSP(ctx context.Context, msp, permission string) error {
	if p, ok := catalog.Lookup(permission); !ok || p.Level != catalog.MSP {
		return fault.New(fault.Internal, "%q is not an MSP permission of the catalog", permission)
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return err
	}
	return sn.authorize(ctx, permission, mspObject(msp))
}
