package tenancy

import (
	"context"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// rename gives one of msp's objects a new display name, keeping the rest of
// its attributes (its origin), as a save: a synced object is marked as
// drifted, a user's rename reaches the change feed (userRenamed). The actor
// must pass authorize. A name that does not change writes nothing.
func (s *Service) rename(ctx context.Context, msp string, obj existing, displayName string, authorize func(context.Context, *snapshot) error) (*Report, error) {
	id := obj.ids[0]
	if err := firstError(checkID("mspId", msp), checkID(obj.field, id), checkDisplayName("displayName", displayName)); err != nil {
		return nil, err
	}
	return s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := authorize(ctx, sn); err != nil {
			return nil, err
		}
		o := scoped(obj.typ, msp, id)
		rels, err := sn.read(ctx, graph.Filter{ResourceType: o.Type, ResourceID: o.ID, Relation: relAttributes})
		if err != nil {
			return nil, err
		}
		if len(rels) == 0 {
			return nil, fault.New(fault.NotFound, "%s: %s %q not found", obj.field, typeNames[obj.typ], id)
		}
		if rels[0].Attribute(attrDisplayName) == displayName {
			return nil, nil
		}
		attrs := rels[0].Attributes()
		attrs[attrDisplayName] = displayName
		return []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(o, relAttributes, rels[0].Subject).WithAttributes(attrs)}}, nil
	})
}

// RenameUser gives an MSP user a new display name.
func (s *Service) RenameUser(ctx context.Context, msp, user, displayName string) (*User, error) {
	rep, err := s.rename(ctx, msp, existing{"userId", typeUser, []string{user}}, displayName, func(ctx context.Context, sn *snapshot) error {
		return sn.authorize(ctx, permUsersManage, mspObject(msp))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*User, error) {
		return s.GetUser(ctx, msp, user, rev)
	})
}

// RenameCustomer gives a customer a new display name; the actor needs
// customers.edit on it.
func (s *Service) RenameCustomer(ctx context.Context, msp, customer, displayName string) (*Customer, error) {
	rep, err := s.rename(ctx, msp, existing{"customerId", typeCustomer, []string{customer}}, displayName, func(ctx context.Context, sn *snapshot) error {
		return firstError(sn.authorizeSight(ctx, typeCustomer, customer), sn.authorize(ctx, permCustomersEdit, customerObject(msp, customer)))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*Customer, error) {
		return s.GetCustomer(ctx, msp, customer, rev, ViewDefault)
	})
}

// RenameCustomerGroup gives a customer group a new display name.
func (s *Service) RenameCustomerGroup(ctx context.Context, msp, group, displayName string) (*CustomerGroup, error) {
	rep, err := s.rename(ctx, msp, existing{"customerGroupId", typeCustomerGroup, []string{group}}, displayName, func(ctx context.Context, sn *snapshot) error {
		return sn.authorize(ctx, permCustomerGroupsManage, mspObject(msp))
	})
	return readBack(ctx, rep, err, func(ctx context.Context, rev string) (*CustomerGroup, error) {
		return s.GetCustomerGroup(ctx, msp, group, rev)
	})
}

// RenameSecurityGroup gives a security group a new display name; a
// built-in group keeps its role's.
func (s *Service) RenameSecurityGroup(ctx context.Context, msp, group, displayName string) (*SecurityGroup, error) {
	if _, ok := catalog.LookupBuiltinRole(group); ok {
		return nil, fault.New(fault.Blocked, "security group %q is built in and keeps its role's name", group)
	}
	rep, err := s.rename(ctx, msp, existing{"securityGroupId", typeSecurityGroup, []string{group}}, displayName, func(ctx context.Context, sn *snapshot) error {
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
