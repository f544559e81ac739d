package tenancy

import (
	"context"
	"errors"
	"strings"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
)

// Actor is the user on whose behalf a call is made. The zero Actor is a
// trusted service (the platform, or an MSP's service token acting for nobody),
// which holds every right within the MSPs it may reach.
type Actor struct {
	UserID string
	// OwnCredential says that the call comes with the user's own credential
	// (his user token), not with a service's that acts on his behalf: only
	// then does it carry his consent (see requireConsent).
	OwnCredential bool
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
// The reachability index, when it can answer, finds a user without SpiceDB.
func (s *Service) UserExists(ctx context.Context, msp, user string) (bool, error) {
	if err := firstError(checkID("mspId", msp), checkID("userId", user)); err != nil {
		return false, err
	}
	is := []graph.Check{{Resource: userObject(msp, user), Permission: relMSP, Subject: mspObject(msp)}}
	// The index holds every user's msp edge: a user it finds exists (it is at
	// least as fresh as this service's last write); SpiceDB confirms the rest.
	var indexed []bool
	if _, ok := s.readIndex(ctx, "", func(v reach.View) { indexed, _ = v.Check(is) }); ok && indexed[0] {
		return true, nil
	}
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
	permCustomersView        = "customers.view"
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
// id). A trusted service (no actor) passes. Whether he may know of the
// customers the call touches is decided before, by requireExisting: a
// customer he may not see is "not found", never "forbidden".
func (sn *snapshot) requirePermission(ctx context.Context, obj graph.Object, permission string, refusal func(user string) error) error {
	ok, err := sn.holds(ctx, obj, permission)
	if err != nil || ok {
		return err
	}
	return refusal(actorFrom(ctx).UserID)
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

// requireConsent refuses a decision that is the customer's own — switching
// its partner access, answering a grant request, revoking a grant from its
// side — unless the actor is one of the customer's own built-in
// administrators calling with his own credential (as GDAP wants the
// customer's approval): the platform, a service token (whoever it acts for)
// and everyone else are refused with CUSTOMER_CONSENT_REQUIRED. For the MSP's
// own domain, whose built-in administrators are MSP staff, that is their own
// user token.
func (sn *snapshot) requireConsent(ctx context.Context, customer, decision string) error {
	a := actorFrom(ctx)
	consents := false
	if a.UserID != "" && a.OwnCredential {
		var err error
		if consents, err = sn.holds(ctx, customerObject(sn.msp, customer), permissionBuiltinAdministrator); err != nil {
			return err
		}
	}
	if consents {
		return nil
	}
	return fault.New(fault.PermissionDenied, "%s is customer %q's own decision: only one of its built-in administrators, with his own user token, makes it (CUSTOMER_CONSENT_REQUIRED)", decision, customer).
		WithDetails([]Block{{UserID: a.UserID, CustomerID: customer, Reason: BlockCustomerConsentRequired}})
}

// authorizeParty lets through either party to a customer's affairs: the
// MSP's holders of permission (an MSP permission of the catalog; a trusted
// service holds it), or else the customer's side, as customerSide decides. A
// refusal names both.
func (sn *snapshot) authorizeParty(ctx context.Context, permission string, customerSide func() error) error {
	mspSide := sn.authorize(ctx, permission, mspObject(sn.msp))
	if mspSide == nil || !fault.Is(mspSide, fault.PermissionDenied) {
		return mspSide
	}
	err := customerSide()
	var refusal *fault.Error
	if errors.As(err, &refusal) && refusal.Kind == fault.PermissionDenied {
		return fault.New(fault.PermissionDenied, "%s; %s", mspSide.Error(), refusal.Message).WithDetails(refusal.Details)
	}
	return err
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

// permAuditView is the permission to read the MSP's audit trail.
const permAuditView = "audit.view"

// AuthorizeAuditView refuses an actor who may not read the audit trail of msp
// (which must exist): the MSP's holders of audit.view read it all; a
// customer's events (customer, when not "") are read by them and by the
// customer's own built-in administrators. A customer the actor may not see
// is not found.
func (s *Service) AuthorizeAuditView(ctx context.Context, msp, customer string) error {
	if customer != "" {
		if err := checkID("customerId", customer); err != nil {
			return err
		}
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return err
	}
	if customer == "" {
		return sn.authorize(ctx, permAuditView, mspObject(msp))
	}
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
		return err
	}
	return sn.authorizeParty(ctx, permAuditView, func() error {
		return sn.requireCustomerAdministrator(ctx, customer, "read its audit events")
	})
}
