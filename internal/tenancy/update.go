package tenancy

import (
	"context"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// update changes attributes of one of msp's objects (set: attribute ->
// new value; an empty externalId removes it), keeping the others (its
// origin), as a save: a synced object is marked as drifted, a user's rename
// reaches the change feed (userRenamed). An externalId moves the user's
// external identity with it and must be no other user's. The actor must
// pass authorize. Values that do not change write nothing.
func (s *Service) update(ctx context.Context, msp string, obj existing, set map[string]string, authorize func(context.Context, *snapshot) error) (*Report, error) {
	id := obj.ids[0]
	if err := firstError(checkID("mspId", msp), checkID(obj.field, id)); err != nil {
		return nil, err
	}
	if name, ok := set[attrDisplayName]; ok {
		if err := checkDisplayName("displayName", name); err != nil {
			return nil, err
		}
	}
	if err := checkExternalID("externalId", set[attrExternalID]); err != nil {
		return nil, err
	}
	return s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := authorize(ctx, sn); err != nil {
			return nil, err
		}
		typ := obj.typ
		if typ == typeEndCustomerUser {
			typ = typeUser // an end-customer user is a user object
		}
		o := scoped(typ, msp, id)
		rels, err := sn.read(ctx, graph.Filter{ResourceType: o.Type, ResourceID: o.ID, Relation: relAttributes})
		if err != nil {
			return nil, err
		}
		if len(rels) == 0 {
			return nil, fault.New(fault.NotFound, "%s: %s %q not found", obj.field, typeNames[obj.typ], id)
		}
		attrs, changed := rels[0].Attributes(), false
		for k, v := range set {
			changed = changed || attrs[k] != v
			attrs[k] = v
		}
		if !changed {
			return nil, nil
		}
		if attrs[attrExternalID] == "" {
			delete(attrs, attrExternalID)
		}
		updates := []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(o, relAttributes, rels[0].Subject).WithAttributes(attrs)}}
		if next, ok := set[attrExternalID]; ok && next != rels[0].Attribute(attrExternalID) {
			if old := rels[0].Attribute(attrExternalID); old != "" {
				updates = append(updates, graph.Update{Op: graph.Delete, Relationship: graph.Rel(externalIdentityObject(msp, old), relUser, o)})
			}
			if next != "" {
				claim, err := sn.claimExternalID(ctx, "externalId", next, o)
				if err != nil {
					return nil, err
				}
				updates = append(updates, claim...)
			}
		}
		return updates, nil
	})
}

// UserUpdate is what an update of a user changes: the fields that are set.
type UserUpdate struct {
	DisplayName *string
	// ExternalID, when set, replaces his externalId ("" removes it).
	ExternalID *string
}

// attributes are the attributes an update sets.
func (u UserUpdate) attributes() map[string]string {
	set := map[string]string{}
	if u.DisplayName != nil {
		set[attrDisplayName] = *u.DisplayName
	}
	if u.ExternalID != nil {
		set[attrExternalID] = *u.ExternalID
	}
	return set
}

// UpdateUser changes an MSP user's display name and externalId.
func (s *Service) UpdateUser(ctx context.Context, msp, user string, u UserUpdate) (*User, error) {
	rep, err := s.update(ctx, msp, existing{"userId", typeUser, []string{user}}, u.attributes(), func(ctx context.Context, sn *snapshot) error {
		return firstError(sn.authorize(ctx, permUsersManage, mspObject(msp)), sn.requireExisting(ctx, existing{"userId", typeUser, []string{user}}))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*User, error) {
		return s.GetUser(ctx, msp, user, rev, ViewFull)
	})
}

// RenameCustomer gives a customer a new display name; the actor needs
// customers.edit on it.
func (s *Service) RenameCustomer(ctx context.Context, msp, customer, displayName string) (*Customer, error) {
	rep, err := s.update(ctx, msp, existing{"customerId", typeCustomer, []string{customer}}, map[string]string{attrDisplayName: displayName}, func(ctx context.Context, sn *snapshot) error {
		return firstError(sn.authorizeSight(ctx, typeCustomer, customer), sn.authorize(ctx, permCustomersEdit, customerObject(msp, customer)))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*Customer, error) {
		return s.GetCustomer(ctx, msp, customer, rev, ViewDefault)
	})
}

// RenameCustomerGroup gives a customer group a new display name.
func (s *Service) RenameCustomerGroup(ctx context.Context, msp, group, displayName string) (*CustomerGroup, error) {
	rep, err := s.update(ctx, msp, existing{"customerGroupId", typeCustomerGroup, []string{group}}, map[string]string{attrDisplayName: displayName}, func(ctx context.Context, sn *snapshot) error {
		return sn.authorize(ctx, permCustomerGroupsManage, mspObject(msp))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*CustomerGroup, error) {
		return s.GetCustomerGroup(ctx, msp, group, rev, ViewFull)
	})
}

// RenameSecurityGroup gives a security group a new display name; a
// built-in group keeps its role's.
func (s *Service) RenameSecurityGroup(ctx context.Context, msp, group, displayName string) (*SecurityGroup, error) {
	if _, ok := catalog.LookupBuiltinRole(group); ok {
		return nil, fault.New(fault.Blocked, "security group %q is built in and keeps its role's name", group)
	}
	rep, err := s.update(ctx, msp, existing{"securityGroupId", typeSecurityGroup, []string{group}}, map[string]string{attrDisplayName: displayName}, func(ctx context.Context, sn *snapshot) error {
		return sn.authorize(ctx, permSecurityGroupsManage, mspObject(msp))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*SecurityGroup, error) {
		sn, err := s.snapshotAtLeast(ctx, msp, rev)
		if err != nil {
			return nil, err
		}
		return sn.readSecurityGroup(ctx, group)
	})
}
