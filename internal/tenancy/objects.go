package tenancy

import (
	"context"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// maxDisplayName is the longest display name accepted, in characters.
const maxDisplayName = 200

// scopedTypes are the object types whose ids start with their MSP's id.
var scopedTypes = append([]string{typeUser, typeCustomer, typeCustomerGroup, typeRole, typeSecurityGroup, typeGrant, typeSyncOrigin, typeIdentityProvider, typeExternalIdentity}, customerTypes...)

func checkDisplayName(field, name string) error { return checkText(field, name, maxDisplayName) }

// attributesOf is the relationship that carries obj's display name.
func attributesOf(obj graph.Object, msp, displayName string) graph.Relationship {
	return graph.Rel(obj, relAttributes, mspObject(msp)).WithAttributes(map[string]string{attrDisplayName: displayName})
}

func creates(rels ...graph.Relationship) []graph.Update {
	out := make([]graph.Update, len(rels))
	for i, r := range rels {
		out[i] = graph.Update{Op: graph.Create, Relationship: r}
	}
	return out
}

func deletes(rels []graph.Relationship) []graph.Update {
	out := make([]graph.Update, len(rels))
	for i, r := range rels {
		out[i] = graph.Update{Op: graph.Delete, Relationship: r}
	}
	return out
}

// mspExists is a precondition that msp exists; mspAbsent that it does not.
func mspExists(msp string) graph.Precondition {
	return graph.Precondition{MustMatch: true, Filter: graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relSaveEpoch}}
}

func mspAbsent(msp string) graph.Precondition {
	return graph.Precondition{Filter: graph.Filter{ResourceType: typeMSP, ResourceID: msp}}
}

// CreateMSP creates an MSP and its account owner, who becomes its first user.
func (s *Service) CreateMSP(ctx context.Context, m MSP) (*MSP, error) {
	if err := firstError(
		checkID("mspId", m.ID),
		checkID("ownerUserId", m.OwnerUserID),
		checkDisplayName("displayName", m.DisplayName),
	); err != nil {
		return nil, err
	}
	// A deleted MSP whose clean-up was interrupted may have left objects
	// behind: remove them first, so that a new MSP of the same id starts empty.
	if err := s.purgeScoped(ctx, m.ID); err != nil {
		return nil, mspCreateError(err, m.ID)
	}
	rels := append(mspRels(m), objectRels(userObject(m.ID, m.OwnerUserID), m.ID, m.OwnerUserID)...)
	_, err := s.graph.Write(writtenBy(ctx, OriginLocal), creates(append(rels, builtinGroupRels(m.ID, m.OwnerUserID)...)...), []graph.Precondition{mspAbsent(m.ID)})
	if err != nil {
		return nil, mspCreateError(err, m.ID)
	}
	return &m, nil
}

func mspCreateError(err error, msp string) error {
	if fault.Is(err, fault.Conflict) {
		return fault.New(fault.AlreadyExists, "msp %q already exists", msp)
	}
	return err
}

// purgeScoped deletes every object of msp's id prefix, and the API tokens
// scoped to msp, provided msp does not exist.
func (s *Service) purgeScoped(ctx context.Context, msp string) error {
	filters := []graph.Filter{{ResourceType: typeAPIToken, SubjectType: typeMSP, SubjectID: msp}, {ResourceType: typeIdentityProvider, ResourceID: msp}}
	for _, typ := range scopedTypes {
		filters = append(filters, graph.Filter{ResourceType: typ, ResourceIDPrefix: msp + "/"})
	}
	for _, f := range filters {
		if _, err := s.graph.DeleteMatching(ctx, f, []graph.Precondition{mspAbsent(msp)}); err != nil {
			return err
		}
	}
	// Tokens and sessions of the MSP's users: SpiceDB cannot filter
	// subjects by id prefix, so every one is read and the MSP's are deleted.
	var stale []graph.Relationship
	for _, typ := range []string{typeAPIToken, typeSession} {
		rels, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: typ, SubjectType: typeUser}, graph.Full())
		if err != nil {
			return err
		}
		for _, r := range rels {
			if strings.HasPrefix(r.Subject.ID, msp+"/") {
				stale = append(stale, r)
			}
		}
	}
	if len(stale) == 0 {
		return nil
	}
	_, err := s.graph.Write(ctx, deletes(stale), []graph.Precondition{mspAbsent(msp)})
	return err
}

// DeleteMSP deletes an MSP and everything it holds. The MSP's own
// relationships go first, in one write: from then on nothing of it grants
// access (every permission intersects with the MSP's members); its objects
// follow, one type at a time.
func (s *Service) DeleteMSP(ctx context.Context, msp string) error {
	if err := checkID("mspId", msp); err != nil {
		return err
	}
	ctx = writtenBy(ctx, OriginLocal)
	_, err := s.graph.DeleteMatching(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: msp}, []graph.Precondition{mspExists(msp)})
	if fault.Is(err, fault.Conflict) {
		return fault.New(fault.NotFound, "msp %q not found", msp)
	}
	if err != nil {
		return err
	}
	if err := s.purgeScoped(ctx, msp); err != nil && !fault.Is(err, fault.Conflict) {
		return err
	}
	return nil
}

// createScoped creates an object of msp with its display name, and extra
// relationships, refusing an existing id. The actor needs permission manage.
func (s *Service) createScoped(ctx context.Context, msp, manage string, obj graph.Object, displayName string, extra ...graph.Relationship) error {
	return s.create(ctx, msp, manage, obj, append(objectRels(obj, msp, displayName), extra...), "")
}

// create writes the relationships of a new object of msp, refusing an
// existing id, and gives a new user his externalId (when not ""), refusing
// one another user holds. The actor needs permission manage.
func (s *Service) create(ctx context.Context, msp, manage string, obj graph.Object, rels []graph.Relationship, externalID string) error {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return err
	}
	if err := sn.authorize(ctx, manage, mspObject(msp)); err != nil {
		return err
	}
	preconditions := []graph.Precondition{mspExists(msp), {Filter: graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID}}}
	updates := creates(rels...)
	if externalID != "" {
		claim, err := sn.claimExternalID(ctx, "externalId", externalID, obj)
		if err != nil {
			return err
		}
		updates = append(updates, claim...)
		preconditions = append(preconditions, graph.Precondition{Filter: sn.absent[0]})
	}
	_, err = s.graph.Write(writtenBy(ctx, OriginLocal), updates, preconditions)
	if !fault.Is(err, fault.Conflict) {
		return err
	}
	fresh, err := s.snapshot(ctx, msp)
	if err != nil {
		return err
	}
	if externalID != "" {
		if _, err := fresh.claimExternalID(ctx, "externalId", externalID, obj); err != nil {
			return err
		}
	}
	return fault.New(fault.AlreadyExists, "%s %q already exists", typeNames[obj.Type], localID(msp, obj.ID))
}

// CreateUser creates an MSP user.
func (s *Service) CreateUser(ctx context.Context, msp string, u User) (*User, error) {
	if err := firstError(checkID("mspId", msp), checkID("userId", u.ID), checkDisplayName("displayName", u.DisplayName), checkExternalID("externalId", u.ExternalID)); err != nil {
		return nil, err
	}
	obj := userObject(msp, u.ID)
	if err := s.create(ctx, msp, permUsersManage, obj, append(newUserRels(msp, obj, u.DisplayName, u.ExternalID), graph.Rel(mspObject(msp), relMember, obj)), u.ExternalID); err != nil {
		return nil, err
	}
	u.Origin = OriginLocal
	return &u, nil
}

// CreateCustomer creates a customer.
func (s *Service) CreateCustomer(ctx context.Context, msp string, c Customer) (*Customer, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", c.ID), checkDisplayName("displayName", c.DisplayName)); err != nil {
		return nil, err
	}
	if err := s.createScoped(ctx, msp, permCustomersManage, customerObject(msp, c.ID), c.DisplayName); err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateCustomerGroup creates a customer group.
func (s *Service) CreateCustomerGroup(ctx context.Context, msp string, g CustomerGroup) (*CustomerGroup, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerGroupId", g.ID), checkDisplayName("displayName", g.DisplayName)); err != nil {
		return nil, err
	}
	if err := s.createScoped(ctx, msp, permCustomerGroupsManage, customerGroupObject(msp, g.ID), g.DisplayName); err != nil {
		return nil, err
	}
	g.Origin = OriginLocal
	return &g, nil
}

// readAll reads every filter at the snapshot and returns all that matched.
func (sn *snapshot) readAll(ctx context.Context, filters ...graph.Filter) ([]graph.Relationship, error) {
	var all []graph.Relationship
	err := readEach(ctx, sn, sn.rev, filters, func(f graph.Filter) graph.Filter { return f }, func(_ graph.Filter, rels []graph.Relationship) {
		all = append(all, rels...)
	})
	return all, err
}

// DeleteUser deletes an MSP user for good, with every association he has.
// The guards apply as to any save: the account owner, an Account Contact or
// the last contact of an alert group cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, msp, user string) (*Report, error) {
	if err := checkID("userId", user); err != nil {
		return nil, err
	}
	return s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := firstError(sn.authorize(ctx, permUsersManage, mspObject(msp)), sn.requireExisting(ctx, existing{"userId", typeUser, []string{user}})); err != nil {
			return nil, err
		}
		return sn.userDeletion(ctx, user)
	})
}

// userDeletion deletes a user and every relationship that points at him,
// unless he is the account owner. A single-customer user's customer-specific
// security group (and its role) exists for him alone: it goes with him, so
// that nothing of him is left and his id can be given again.
func (sn *snapshot) userDeletion(ctx context.Context, user string) ([]graph.Update, error) {
	u := userObject(sn.msp, user)
	bySubject := func(typ string) graph.Filter {
		return graph.Filter{ResourceType: typ, SubjectType: typeUser, SubjectID: u.ID}
	}
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typeUser, ResourceID: u.ID},
		bySubject(typeMSP), bySubject(typeCustomer), bySubject(typeCustomerGroup), bySubject(typeUserAlertGroup), bySubject(typeSecurityGroup), bySubject(typeAPIToken),
		bySubject(typeSession), bySubject(typeExternalIdentity),
		bySubject(typeWindow), bySubject(typeOutageComment), bySubject(typeMonitorGroup))
	if err != nil {
		return nil, err
	}
	out := deletes(rels)
	for _, r := range rels {
		switch {
		case r.Resource.Type == typeMSP && r.Relation == relOwner:
			return nil, blockedError([]Block{{UserID: user, Reason: BlockAccountOwner}})
		case r.Resource.Type == typeSecurityGroup && r.Relation == relConfines:
			group, err := sn.securityGroupDeletion(ctx, localID(sn.msp, r.Resource.ID))
			if err != nil {
				return nil, err
			}
			out = append(out, group...)
		}
	}
	return out, nil
}

// DeleteCustomer deletes a customer with its alert groups, its grants and
// every relationship that points at it.
func (s *Service) DeleteCustomer(ctx context.Context, msp, customer string) (*Report, error) {
	if err := checkID("customerId", customer); err != nil {
		return nil, err
	}
	return s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := firstError(sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}), sn.authorize(ctx, permCustomersManage, mspObject(msp))); err != nil {
			return nil, err
		}
		filters := []graph.Filter{{ResourceType: typeCustomer, ResourceID: customerObject(msp, customer).ID}, {ResourceType: typeIdentityProvider, ResourceID: identityProviderObject(msp, customer).ID},
			// the markers that say a connected system put it in a customer group
			{ResourceType: typeCustomerGroup, Relation: relSystemCustomer, SubjectType: typeCustomer, SubjectID: customerObject(msp, customer).ID}}
		for _, typ := range customerTypes {
			filters = append(filters, graph.Filter{ResourceType: typ, ResourceIDPrefix: customerObjectPrefix(msp, customer)})
		}
		rels, err := sn.readAll(ctx, filters...)
		if err != nil {
			return nil, err
		}
		grants, err := sn.grantsPointingAt(ctx, relCustomer, customerObject(msp, customer))
		if err != nil {
			return nil, err
		}
		return deletes(append(rels, grants...)), nil
	})
}

// DeleteCustomerGroup deletes a customer group and every relationship that
// points at it; the guards apply to the users it leaves without a path.
func (s *Service) DeleteCustomerGroup(ctx context.Context, msp, group string) (*Report, error) {
	if err := checkID("customerGroupId", group); err != nil {
		return nil, err
	}
	return s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := firstError(sn.authorize(ctx, permCustomerGroupsManage, mspObject(msp)), sn.requireExisting(ctx, existing{"customerGroupId", typeCustomerGroup, []string{group}})); err != nil {
			return nil, err
		}
		return sn.customerGroupDeletion(ctx, group)
	})
}

// customerGroupDeletion deletes a customer group and every relationship that
// points at it.
func (sn *snapshot) customerGroupDeletion(ctx context.Context, group string) ([]graph.Update, error) {
	g := customerGroupObject(sn.msp, group)
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typeCustomerGroup, ResourceID: g.ID},
		graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: typeCustomerGroup, SubjectID: g.ID})
	if err != nil {
		return nil, err
	}
	return deletes(rels), nil
}

// requireReach refuses users who do not reach the customer at the snapshot.
func (sn *snapshot) requireReach(ctx context.Context, customer string, users []string) error {
	pairs := make([]Pair, len(users))
	for i, u := range users {
		pairs[i] = Pair{u, customer}
	}
	has, err := sn.accessAt(ctx, sn.rev, pairs)
	if err != nil {
		return err
	}
	var blocks []Block
	for _, p := range pairs {
		if !has[p] {
			blocks = append(blocks, Block{UserID: p.UserID, CustomerID: customer, Reason: BlockNotAssociated})
		}
	}
	if len(blocks) > 0 {
		return blockedError(blocks)
	}
	return nil
}

// SetAccountContact makes user the customer's Account Contact. He must reach
// the customer; from then on no save may take his last path to it.
func (s *Service) SetAccountContact(ctx context.Context, msp, customer, user string) (string, error) {
	if err := firstError(checkID("customerId", customer), checkID("userId", user)); err != nil {
		return "", err
	}
	c := customerObject(msp, customer)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}, existing{"userId", typeUser, []string{user}}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, c); err != nil {
			return nil, err
		}
		if err := sn.requireReach(ctx, customer, []string{user}); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeCustomer, ResourceID: c.ID, Relation: relAccountContact})
		if err != nil {
			return nil, err
		}
		return selectionUpdates(current, relAccountContact, []string{user}, func(id string) graph.Relationship {
			return accountContact(msp, customer, id)
		}), nil
	})
	if err != nil {
		return "", err
	}
	return rep.WrittenAt, nil
}

// SetAlertGroupContacts creates or replaces a customer's alert group with the
// given contacts, each of whom must reach the customer.
func (s *Service) SetAlertGroupContacts(ctx context.Context, msp, customer, alertGroup string, contacts []string) (string, error) {
	if err := firstError(
		checkID("customerId", customer),
		checkID("alertGroupId", alertGroup),
		checkSelection("contacts", contacts),
		checkNotEmpty(SaveOptions{}, "contacts", len(contacts)),
	); err != nil {
		return "", err
	}
	c, ag := customerObject(msp, customer), alertGroupObject(msp, customer, alertGroup)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}, existing{"contacts", typeUser, contacts}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, c); err != nil {
			return nil, err
		}
		if err := sn.requireReach(ctx, customer, contacts); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeUserAlertGroup, ResourceID: ag.ID})
		if err != nil {
			return nil, err
		}
		updates := selectionUpdates(current, relCustomer, []string{customer}, func(string) graph.Relationship {
			return alertGroupCustomer(ag, msp, customer)
		})
		return append(updates, selectionUpdates(current, relContact, contacts, func(id string) graph.Relationship {
			return alertGroupContact(ag, msp, id)
		})...), nil
	})
	if err != nil {
		return "", err
	}
	return rep.WrittenAt, nil
}
