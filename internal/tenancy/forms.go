package tenancy

import (
	"context"
	"slices"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// SaveOptions qualify a form save.
type SaveOptions struct {
	// ValidateOnly computes the report (and the guards) and writes nothing.
	ValidateOnly bool
	// AllowEmpty accepts an empty selection, which removes every association
	// the form holds; without it an empty selection is refused as a likely mistake.
	AllowEmpty bool
}

// EditCustomerPreferences is the Edit Customer Preferences form: it sets the
// customer groups a customer belongs to and the MSP users associated to it
// directly, each as a full new selection.
func (s *Service) EditCustomerPreferences(ctx context.Context, msp, customer string, customerGroups, users []string, opts SaveOptions) (*Report, error) {
	if err := firstError(
		checkID("customerId", customer),
		checkSelection("customerGroups", customerGroups),
		checkSelection("users", users),
		checkNotEmpty(opts, "customerGroups and users", len(customerGroups)+len(users)),
	); err != nil {
		return nil, err
	}
	c := customerObject(msp, customer)
	return s.save(ctx, msp, opts.ValidateOnly, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx,
			existing{"customerId", typeCustomer, []string{customer}},
			existing{"customerGroups", typeCustomerGroup, customerGroups},
			existing{"users", typeUser, users},
		); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersManage, mspObject(msp)); err != nil {
			return nil, err
		}
		if err := sn.requireConfinedTo(ctx, customer, users); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeCustomer, ResourceID: c.ID})
		if err != nil {
			return nil, err
		}
		groups := selectionUpdates(current, relCustomerGroup, customerGroups, func(id string) graph.Relationship {
			return customerInGroup(msp, customer, id)
		})
		direct := selectionUpdates(current, relDirect, users, func(id string) graph.Relationship {
			return directUser(msp, customer, id)
		})
		return append(groups, direct...), nil
	})
}

// EditCustomerGroup is the Edit Customer Group form: it sets the customers of
// a customer group, as a full new selection.
func (s *Service) EditCustomerGroup(ctx context.Context, msp, group string, customers []string, opts SaveOptions) (*Report, error) {
	if err := firstError(
		checkID("customerGroupId", group),
		checkSelection("customers", customers),
		checkNotEmpty(opts, "customers", len(customers)),
	); err != nil {
		return nil, err
	}
	g := customerGroupObject(msp, group)
	return s.save(ctx, msp, opts.ValidateOnly, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx,
			existing{"customerGroupId", typeCustomerGroup, []string{group}},
			existing{"customers", typeCustomer, customers},
		); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomerGroupsManage, mspObject(msp)); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: typeCustomerGroup, SubjectID: g.ID})
		if err != nil {
			return nil, err
		}
		return selectionUpdates(current, relCustomerGroup, customers, func(id string) graph.Relationship {
			return customerInGroup(msp, id, group)
		}), nil
	})
}

// EditUser is the Edit User form: it sets the customer groups of a user, as a
// full new selection.
func (s *Service) EditUser(ctx context.Context, msp, user string, customerGroups []string, opts SaveOptions) (*Report, error) {
	if err := firstError(
		checkID("userId", user),
		checkSelection("customerGroups", customerGroups),
		checkNotEmpty(opts, "customerGroups", len(customerGroups)),
	); err != nil {
		return nil, err
	}
	u := userObject(msp, user)
	return s.save(ctx, msp, opts.ValidateOnly, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx,
			existing{"userId", typeUser, []string{user}},
			existing{"customerGroups", typeCustomerGroup, customerGroups},
		); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permUsersManage, mspObject(msp)); err != nil {
			return nil, err
		}
		if len(customerGroups) > 0 {
			if err := sn.requireUnconfined(ctx, "", []string{user}); err != nil {
				return nil, err
			}
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: typeCustomerGroup, Relation: relMember, SubjectType: typeUser, SubjectID: u.ID})
		if err != nil {
			return nil, err
		}
		return selectionUpdates(current, relMember, customerGroups, func(id string) graph.Relationship {
			return groupMember(msp, id, user)
		}), nil
	})
}

// selectionUpdates turns a full new selection into updates: it deletes the
// current relationships of relation that the selection drops and creates the
// ones it adds. rel builds the relationship for a selected id.
func selectionUpdates(current []graph.Relationship, relation string, selected []string, rel func(string) graph.Relationship) []graph.Update {
	wanted := make(map[string]bool, len(selected))
	for _, id := range selected {
		wanted[rel(id).String()] = true
	}
	have := map[string]bool{}
	var updates []graph.Update
	for _, r := range current {
		if r.Relation != relation {
			continue
		}
		have[r.String()] = true
		if !wanted[r.String()] {
			updates = append(updates, graph.Update{Op: graph.Delete, Relationship: r})
		}
	}
	for _, id := range selected {
		if r := rel(id); !have[r.String()] {
			updates = append(updates, graph.Update{Op: graph.Create, Relationship: r})
		}
	}
	return updates
}

func checkNotEmpty(opts SaveOptions, field string, n int) error {
	if n == 0 && !opts.AllowEmpty {
		return fault.New(fault.Invalid, "%s: the selection is empty; to remove every association send allowEmpty: true", field)
	}
	return nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	i := slices.IndexFunc(errs, func(err error) bool { return err != nil })
	if i < 0 {
		return nil
	}
	return errs[i]
}
