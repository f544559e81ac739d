package tenancy

import (
	"context"
	"slices"
	"time"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// permissionBuiltinAdministrator: an administrator of the customer's own
// domain, which its end-customer users of builtinAdministratorRole are (and,
// in the MSP's own domain, its staff of that role).
const (
	permissionBuiltinAdministrator = "builtin_administrator"
	builtinAdministratorRole       = "admin"
)

// PermissionSwitchToOwnDomain: an MSP user who may switch between the partner
// view and the MSP's own domain, as one of its built-in administrators.
const PermissionSwitchToOwnDomain = "switch_to_own_domain"

// LoginAsDuration is how long a Login As grant lasts.
const LoginAsDuration = time.Hour

// PartnerAccess says whether a customer's partner ("MSP management") access is on.
type PartnerAccess struct {
	CustomerID string
	Enabled    bool
	// WrittenAt is the ZedToken of a switch; CheckedAt the one a read was answered at.
	WrittenAt string
	CheckedAt string
}

func partnerOff(msp, customer string) graph.Relationship {
	return graph.Rel(customerObject(msp, customer), relPartnerOff, graph.Object{Type: typeUser, ID: "*"})
}

// GetPartnerAccess tells whether a customer's partner access is on, at least
// as fresh as atLeastAsFresh (the newest, when empty).
func (s *Service) GetPartnerAccess(ctx context.Context, msp, customer, atLeastAsFresh string) (*PartnerAccess, error) {
	if err := checkID("customerId", customer); err != nil {
		return nil, err
	}
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
		return nil, err
	}
	off, err := sn.read(ctx, graph.FilterOf(partnerOff(msp, customer)))
	if err != nil {
		return nil, err
	}
	return &PartnerAccess{CustomerID: customer, Enabled: len(off) == 0, CheckedAt: string(sn.rev)}, nil
}

// SetPartnerAccess switches a customer's partner access on or off: the
// customer's own decision (seed 003), which only one of its built-in
// administrators makes, with his own credential (see requireConsent). So a
// domain whose partner access is off always has a built-in administrator, and
// guardAdministrators keeps it so: the account can never become unreachable.
func (s *Service) SetPartnerAccess(ctx context.Context, msp, customer string, enabled bool) (*PartnerAccess, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer)); err != nil {
		return nil, err
	}
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return nil, err
		}
		if err := sn.requireConsent(ctx, customer, "switching partner access"); err != nil {
			return nil, err
		}
		op := graph.Touch
		if enabled {
			op = graph.Delete
		}
		return []graph.Update{{Op: op, Relationship: partnerOff(msp, customer)}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &PartnerAccess{CustomerID: customer, Enabled: enabled, WrittenAt: rep.WrittenAt}, nil
}

// guardAdministrators refuses a save that would take away the last built-in
// administrator of a customer domain whose partner access is off.
func (sn *snapshot) guardAdministrators(ctx context.Context, updates []graph.Update) error {
	leaving := map[string][]string{} // customer -> administrators the save removes
	var goneUsers []string
	for _, u := range updates {
		r := u.Relationship
		if u.Op != graph.Delete {
			continue
		}
		switch {
		case r.Resource.Type == typeCustomer && r.Relation == endCustomerRel(builtinAdministratorRole):
			c := localID(sn.msp, r.Resource.ID)
			leaving[c] = append(leaving[c], localID(sn.msp, r.Subject.ID))
		case r.Resource.Type == typeMSP && (r.Relation == relMember || r.Relation == relEndCustomer):
			goneUsers = append(goneUsers, localID(sn.msp, r.Subject.ID))
		}
	}
	if len(goneUsers) > 0 {
		// A user leaving the MSP leaves every domain he administers.
		for _, u := range goneUsers {
			rels, err := sn.read(ctx, graph.Filter{ResourceType: typeCustomer, Relation: endCustomerRel(builtinAdministratorRole), SubjectType: typeUser, SubjectID: userObject(sn.msp, u).ID})
			if err != nil {
				return err
			}
			for _, r := range rels {
				c := localID(sn.msp, r.Resource.ID)
				leaving[c] = append(leaving[c], u)
			}
		}
	}
	var blocks []Block
	for c, users := range leaving {
		off, err := sn.read(ctx, graph.FilterOf(partnerOff(sn.msp, c)))
		if err != nil {
			return err
		}
		if len(off) == 0 {
			continue
		}
		admins, _, err := sn.s.graph.LookupSubjects(ctx, customerObject(sn.msp, c), permissionBuiltinAdministrator, typeUser, graph.At(sn.rev))
		if err != nil {
			return err
		}
		remaining := slices.DeleteFunc(admins, func(id string) bool { return slices.Contains(users, localID(sn.msp, id)) })
		if len(remaining) == 0 {
			for _, u := range users {
				blocks = append(blocks, Block{UserID: u, CustomerID: c, Reason: BlockLastBuiltinAdministrator})
			}
		}
	}
	if len(blocks) > 0 {
		return blockedError(blocks)
	}
	return nil
}

// LoginAsGrant lets a user act in a customer's domain until it expires.
type LoginAsGrant struct {
	UserID     string
	CustomerID string
	ExpiresAt  time.Time
	CheckedAt  string
}

// LoginAs checks, at least as fresh as atLeastAsFresh (the newest, when
// empty), whether the actor may Login As the customer and grants it for
// LoginAsDuration. A denial says why: PARTNER_ACCESS_DISABLED or
// NOT_PERMITTED.
func (s *Service) LoginAs(ctx context.Context, msp, customer, atLeastAsFresh string) (*LoginAsGrant, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer)); err != nil {
		return nil, err
	}
	a, err := requireActor(ctx, "Login As")
	if err != nil {
		return nil, err
	}
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
		return nil, err
	}
	c, u := customerObject(msp, customer), userObject(msp, a.UserID)
	answers, _, err := s.graph.Check(ctx, []graph.Check{
		{Resource: c, Permission: "login_as", Subject: u},
		{Resource: c, Permission: "customers_login_as", Subject: u},
	}, graph.At(sn.rev))
	if err != nil {
		return nil, err
	}
	switch {
	case answers[0]:
		return &LoginAsGrant{UserID: a.UserID, CustomerID: customer, ExpiresAt: s.now().Add(LoginAsDuration), CheckedAt: string(sn.rev)}, nil
	case answers[1]:
		return nil, fault.New(fault.PermissionDenied, "Login As %q refused: the customer has switched partner access off (PARTNER_ACCESS_DISABLED)", customer).
			WithDetails([]Block{{UserID: a.UserID, CustomerID: customer, Reason: BlockPartnerAccessDisabled}})
	}
	return nil, fault.New(fault.PermissionDenied, "Login As %q refused: user %q holds no customers.login_as there (NOT_PERMITTED)", customer, a.UserID).
		WithDetails([]Block{{UserID: a.UserID, CustomerID: customer, Reason: BlockNotPermitted}})
}

// GlobalViews are the MSP-wide views a customer appears in unless its
// partner access is off, by the permission that shows it there.
var GlobalViews = map[string]string{
	"email_tracker": "global_email_tracker",
	"policies":      "global_policies",
	"rules":         "global_rules",
}

// partnerGated maps the catalog permissions that partner access gates to the
// schema permissions that apply the gate: a check of customers.login_as is
// answered as Login As would be, with the customer's switch applied.
var partnerGated = map[string]string{
	"customers.login_as":         "login_as",
	"email_logs.view":            "email_logs",
	"global_views.email_tracker": GlobalViews["email_tracker"],
	"global_views.policies":      GlobalViews["policies"],
	"global_views.rules":         GlobalViews["rules"],
}

// RelationOf is the permission of the schema that answers a check of the
// catalog permission p: its own, or the one that applies partner access.
func RelationOf(p catalog.Permission) string {
	if gated, ok := partnerGated[p.ID]; ok {
		return gated
	}
	return p.Relation()
}

// GlobalViewCustomers lists, a page at a time and at least as fresh as
// atLeastAsFresh (the newest, when empty), the customers the actor may see
// in a global view (all customers whose partner access is on, for a trusted
// service).
func (s *Service) GlobalViewCustomers(ctx context.Context, msp, view string, page Page, atLeastAsFresh string) ([]Customer, string, string, error) {
	permission, ok := GlobalViews[view]
	if !ok {
		return nil, "", "", fault.New(fault.Invalid, "view: %q is not a global view (email_tracker, policies, rules)", view)
	}
	keep := s.open(ctx, msp)
	if a := actorFrom(ctx); a.UserID != "" {
		keep = s.permitted(ctx, msp, permission, a.UserID)
	}
	out, next, rev, err := s.customersPage(ctx, msp, page, atLeastAsFresh, "", keep)
	return out, next, string(rev), err
}

// open keeps, for customersPage, the customers whose partner access is on.
func (s *Service) open(ctx context.Context, msp string) func(graph.Revision, []string) ([]string, error) {
	return func(rev graph.Revision, ids []string) ([]string, error) {
		off, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: typeCustomer, ResourceIDPrefix: msp + "/", Relation: relPartnerOff}, graph.At(rev))
		if err != nil {
			return nil, err
		}
		closed := make(map[string]bool, len(off))
		for _, o := range off {
			closed[o.Resource.ID] = true
		}
		return slices.DeleteFunc(ids, func(id string) bool { return closed[id] }), nil
	}
}

// ownDomain reads the MSP's own domain, if it has one.
func (sn *snapshot) ownDomain(ctx context.Context) (string, error) {
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: sn.msp, Relation: relOwnDomain})
	if err != nil || len(rels) == 0 {
		return "", err
	}
	return localID(sn.msp, rels[0].Subject.ID), nil
}
