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

// Settings are an MSP's settings.
type Settings struct {
	// EndCustomerRoleSelection lets new end-customer users get any role;
	// without it they all get the portal role.
	EndCustomerRoleSelection bool
	// OwnDomainCustomerID is the customer that is the MSP's own domain (seed
	// 003), whose administrators may be MSP staff; "" for none.
	OwnDomainCustomerID string
	// SyncCreatesCustomers makes a sync create, with its system as origin, a
	// customer its snapshot names that does not exist here; without it the
	// sync leaves that customer out. The default (an MSP that never set it)
	// is true.
	SyncCreatesCustomers bool
}

// EndCustomerUser is a user of a customer account and his role there.
type EndCustomerUser struct {
	UserID      string
	DisplayName string
	CustomerID  string
	Role        string
	// ExternalID is how his customer's identity provider names him ("" for none).
	ExternalID string
}

const endCustomerRelPrefix = "end_customer_"

func endCustomerRel(role string) string { return endCustomerRelPrefix + role }

// GetSettings returns msp's settings.
func (s *Service) GetSettings(ctx context.Context, msp string) (*Settings, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	return sn.settings(ctx)
}

func (sn *snapshot) settings(ctx context.Context) (*Settings, error) {
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typeMSP, ResourceID: sn.msp, Relation: relRoleSelection},
		graph.Filter{ResourceType: typeMSP, ResourceID: sn.msp, Relation: relSyncCreatesNoCustomers})
	if err != nil {
		return nil, err
	}
	own, err := sn.ownDomain(ctx)
	if err != nil {
		return nil, err
	}
	set := func(relation string) bool {
		return slices.ContainsFunc(rels, func(r graph.Relationship) bool { return r.Relation == relation })
	}
	return &Settings{EndCustomerRoleSelection: set(relRoleSelection), OwnDomainCustomerID: own, SyncCreatesCustomers: !set(relSyncCreatesNoCustomers)}, nil
}

// UpdateSettings replaces msp's settings.
func (s *Service) UpdateSettings(ctx context.Context, msp string, settings Settings) (*Settings, error) {
	if settings.OwnDomainCustomerID != "" {
		if err := checkID("ownDomainCustomerId", settings.OwnDomainCustomerID); err != nil {
			return nil, err
		}
	}
	flag := func(relation string, on bool) graph.Update {
		op := graph.Delete
		if on {
			op = graph.Touch
		}
		return graph.Update{Op: op, Relationship: graph.Rel(mspObject(msp), relation, mspObject(msp))}
	}
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		var own []string
		if settings.OwnDomainCustomerID != "" {
			own = []string{settings.OwnDomainCustomerID}
		}
		if err := firstError(sn.requireExisting(ctx, existing{"ownDomainCustomerId", typeCustomer, own}), sn.authorize(ctx, permSettingsManage, mspObject(msp))); err != nil {
			return nil, err
		}
		updates := []graph.Update{flag(relRoleSelection, settings.EndCustomerRoleSelection), flag(relSyncCreatesNoCustomers, !settings.SyncCreatesCustomers)}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relOwnDomain})
		if err != nil {
			return nil, err
		}
		return append(updates, selectionUpdates(current, relOwnDomain, own, func(c string) graph.Relationship {
			return graph.Rel(mspObject(msp), relOwnDomain, customerObject(msp, c))
		})...), nil
	})
	if err != nil {
		return nil, err
	}
	return &settings, nil
}

// endCustomerRoles reads the end-customer roles held in the customer (all of
// its end-customer users, or only user's).
func (sn *snapshot) endCustomerRoles(ctx context.Context, customer, user string) ([]graph.Relationship, error) {
	f := graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(sn.msp, customer).ID}
	if user != "" {
		f.SubjectType, f.SubjectID = typeUser, userObject(sn.msp, user).ID
	}
	rels, err := sn.read(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []graph.Relationship
	for _, r := range rels {
		if strings.HasPrefix(r.Relation, endCustomerRelPrefix) && r.Subject.Type == typeUser {
			out = append(out, r)
		}
	}
	return out, nil
}

// CreateEndCustomerUser adds a user to a customer with an end-customer role:
// the portal role unless the MSP has enabled role selection. An existing
// end-customer user may join another customer, with a role of its own there.
func (s *Service) CreateEndCustomerUser(ctx context.Context, msp, customer string, u EndCustomerUser) (*EndCustomerUser, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("userId", u.UserID), checkDisplayName("displayName", u.DisplayName), checkExternalID("externalId", u.ExternalID)); err != nil {
		return nil, err
	}
	c, user := customerObject(msp, customer), userObject(msp, u.UserID)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, c); err != nil {
			return nil, err
		}
		settings, err := sn.settings(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case u.Role == "":
			u.Role = catalog.DefaultEndCustomerRole
		case !settings.EndCustomerRoleSelection && u.Role != catalog.DefaultEndCustomerRole:
			return nil, fault.New(fault.Blocked, "role: the MSP has not enabled role selection; new end-customer users get the %q role", catalog.DefaultEndCustomerRole)
		}
		if _, ok := catalog.LookupEndCustomerRole(u.Role); !ok {
			return nil, fault.New(fault.Invalid, "role: %q is not an end-customer role", u.Role)
		}
		known, err := sn.readAll(ctx,
			graph.Filter{ResourceType: typeUser, ResourceID: user.ID, Relation: relMSP},
			graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relMember, SubjectType: typeUser, SubjectID: user.ID})
		if err != nil {
			return nil, err
		}
		own, err := sn.ownDomain(ctx)
		if err != nil {
			return nil, err
		}
		staff := false
		for _, r := range known {
			if r.Relation == relMember {
				staff = true
			}
		}
		if staff && customer != own {
			return nil, fault.New(fault.Blocked, "userId: %q is an MSP user; MSP users hold end-customer roles only in the MSP's own domain", u.UserID)
		}
		held, err := sn.endCustomerRoles(ctx, customer, u.UserID)
		if err != nil {
			return nil, err
		}
		if len(held) > 0 {
			return nil, fault.New(fault.AlreadyExists, "user %q is already a user of customer %q", u.UserID, customer)
		}
		rels := []graph.Relationship{graph.Rel(c, endCustomerRel(u.Role), user)}
		if staff || slices.ContainsFunc(known, func(r graph.Relationship) bool { return r.Relation == relMSP }) {
			if u.ExternalID != "" {
				return nil, fault.New(fault.Invalid, "externalId: user %q exists already; set his externalId with PATCH", u.UserID)
			}
			return creates(rels...), nil
		}
		rels = append(rels, newUserRels(msp, user, u.DisplayName, u.ExternalID)...)
		updates := creates(append(rels, graph.Rel(mspObject(msp), relEndCustomer, user))...)
		if u.ExternalID == "" {
			return updates, nil
		}
		claim, err := sn.claimExternalID(ctx, "externalId", u.ExternalID, user)
		return append(updates, claim...), err
	})
	if err != nil {
		return nil, err
	}
	u.CustomerID = customer
	return &u, nil
}

// SetEndCustomerRole changes a user's role in one customer; his roles in
// other customers do not change.
func (s *Service) SetEndCustomerRole(ctx context.Context, msp, customer, user, role string) (*EndCustomerUser, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("userId", user)); err != nil {
		return nil, err
	}
	if _, ok := catalog.LookupEndCustomerRole(role); !ok {
		return nil, fault.New(fault.Invalid, "role: %q is not an end-customer role", role)
	}
	c := customerObject(msp, customer)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, c); err != nil {
			return nil, err
		}
		held, err := sn.endCustomerRoles(ctx, customer, user)
		if err != nil {
			return nil, err
		}
		if len(held) == 0 {
			return nil, fault.New(fault.NotFound, "userId: user %q is not a user of customer %q", user, customer)
		}
		want := graph.Rel(c, endCustomerRel(role), userObject(msp, user))
		if held[0].String() == want.String() {
			return nil, nil
		}
		return append(deletes(held), graph.Update{Op: graph.Create, Relationship: want}), nil
	})
	if err != nil {
		return nil, err
	}
	return &EndCustomerUser{UserID: user, CustomerID: customer, Role: role}, nil
}

// ListEndCustomerUsers lists a customer's own users and their roles.
func (s *Service) ListEndCustomerUsers(ctx context.Context, msp, customer string) ([]EndCustomerUser, error) {
	if err := checkID("customerId", customer); err != nil {
		return nil, err
	}
	return s.listEndCustomerUsersAt(ctx, msp, customer, "")
}

// listEndCustomerUsersAt lists a customer's own users at least as fresh as
// atLeastAsFresh.
func (s *Service) listEndCustomerUsersAt(ctx context.Context, msp, customer, atLeastAsFresh string) ([]EndCustomerUser, error) {
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
		return nil, err
	}
	rels, err := sn.endCustomerRoles(ctx, customer, "")
	if err != nil {
		return nil, err
	}
	out := make([]EndCustomerUser, len(rels))
	err = readEach(ctx, sn, sn.rev, indexes(len(rels)), func(i int) graph.Filter {
		return graph.Filter{ResourceType: typeUser, ResourceID: rels[i].Subject.ID, Relation: relAttributes}
	}, func(i int, attrs []graph.Relationship) {
		out[i] = EndCustomerUser{UserID: localID(msp, rels[i].Subject.ID), CustomerID: customer, Role: strings.TrimPrefix(rels[i].Relation, endCustomerRelPrefix)}
		if len(attrs) > 0 {
			out[i].DisplayName, out[i].ExternalID = attrs[0].Attribute(attrDisplayName), attrs[0].Attribute(attrExternalID)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, err
}

// DeleteEndCustomerUser takes a user out of one customer (his role, and the
// monitor groups granted him there); a user left in no customer is deleted.
func (s *Service) DeleteEndCustomerUser(ctx context.Context, msp, customer, user string) error {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("userId", user)); err != nil {
		return err
	}
	u := userObject(msp, user)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, customerObject(msp, customer)); err != nil {
			return nil, err
		}
		held, err := sn.endCustomerRoles(ctx, customer, user)
		if err != nil {
			return nil, err
		}
		if len(held) == 0 {
			return nil, fault.New(fault.NotFound, "userId: user %q is not a user of customer %q", user, customer)
		}
		everywhere, err := sn.readAll(ctx,
			graph.Filter{ResourceType: typeCustomer, SubjectType: typeUser, SubjectID: u.ID},
			graph.Filter{ResourceType: typeMonitorGroup, ResourceIDPrefix: customerObjectPrefix(msp, customer), Relation: relSpokesperson, SubjectType: typeUser, SubjectID: u.ID})
		if err != nil {
			return nil, err
		}
		gone := slices.Clone(held)
		elsewhere := false
		for _, r := range everywhere {
			switch {
			case r.Resource.Type == typeMonitorGroup:
				gone = append(gone, r)
			case r.Resource.ID != customerObject(msp, customer).ID && strings.HasPrefix(r.Relation, endCustomerRelPrefix):
				elsewhere = true
			}
		}
		if !elsewhere {
			own, err := sn.readAll(ctx,
				graph.Filter{ResourceType: typeUser, ResourceID: u.ID},
				graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relEndCustomer, SubjectType: typeUser, SubjectID: u.ID},
				graph.Filter{ResourceType: typeAPIToken, SubjectType: typeUser, SubjectID: u.ID},
				graph.Filter{ResourceType: typeSession, SubjectType: typeUser, SubjectID: u.ID},
				graph.Filter{ResourceType: typeExternalIdentity, SubjectType: typeUser, SubjectID: u.ID},
				graph.Filter{ResourceType: typeWindow, SubjectType: typeUser, SubjectID: u.ID},
				graph.Filter{ResourceType: typeOutageComment, SubjectType: typeUser, SubjectID: u.ID},
				graph.Filter{ResourceType: typeMonitorGroup, SubjectType: typeUser, SubjectID: u.ID})
			if err != nil {
				return nil, err
			}
			gone = append(gone, own...)
		}
		return deletes(gone), nil
	})
	return err
}

// UpdateEndCustomerUser changes the display name and externalId of one of
// a customer's own users; the actor needs customers.edit on the customer.
func (s *Service) UpdateEndCustomerUser(ctx context.Context, msp, customer, user string, u UserUpdate) (*EndCustomerUser, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer)); err != nil {
		return nil, err
	}
	rep, err := s.update(ctx, msp, existing{"userId", typeEndCustomerUser, []string{user}}, u.attributes(), func(ctx context.Context, sn *snapshot) error {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return err
		}
		if err := sn.authorize(ctx, permCustomersEdit, customerObject(msp, customer)); err != nil {
			return err
		}
		held, err := sn.endCustomerRoles(ctx, customer, user)
		if err == nil && len(held) == 0 {
			err = fault.New(fault.NotFound, "userId: user %q is not a user of customer %q", user, customer)
		}
		return err
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*EndCustomerUser, error) {
		users, err := s.listEndCustomerUsersAt(ctx, msp, customer, rev)
		if err != nil {
			return nil, err
		}
		for _, e := range users {
			if e.UserID == user {
				return &e, nil
			}
		}
		return nil, fault.New(fault.NotFound, "userId: user %q is not a user of customer %q", user, customer)
	})
}
