package tenancy

import (
	"context"
	"fmt"
	"slices"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// MaxBatchGet is the most objects one batch get returns.
const MaxBatchGet = 1000

// BatchGetUsers returns the MSP's users of ids, in their order, with their
// names and origins but not their memberships (as GetUser's BASIC view), all
// read at one revision (AIP-231): what a page needs to name the users an
// access listing returned. Errors: Invalid (no ids, more than MaxBatchGet, a
// bad id), PermissionDenied (users.manage, unless all are the caller),
// NotFound naming the first id that is no user.
func (s *Service) BatchGetUsers(ctx context.Context, msp string, ids []string, atLeastAsFresh string) ([]User, error) {
	found, sn, err := s.batchNamed(ctx, msp, "userIds", typeUser, ids, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	single, err := sn.singleCustomers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(found))
	for i, n := range found {
		out[i] = User{ID: n.ID, DisplayName: n.DisplayName, SingleCustomerID: single[n.ID], Origin: n.Origin, ExternalID: n.ExternalID}
	}
	return out, nil
}

// BatchGetCustomers returns the customers of ids, in their order, without
// their preferences (as GetCustomer's BASIC view), read at one revision.
// A customer the caller may not see is not found for him.
func (s *Service) BatchGetCustomers(ctx context.Context, msp string, ids []string, atLeastAsFresh string) ([]Customer, error) {
	found, _, err := s.batchNamed(ctx, msp, "customerIds", typeCustomer, ids, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	out := make([]Customer, len(found))
	for i, n := range found {
		out[i] = n.customer()
	}
	return out, nil
}

// BatchGetCustomerGroups returns the customer groups of ids, in their
// order, without their members and customers, read at one revision; it
// needs customer_groups.manage.
func (s *Service) BatchGetCustomerGroups(ctx context.Context, msp string, ids []string, atLeastAsFresh string) ([]CustomerGroup, error) {
	found, _, err := s.batchNamed(ctx, msp, "customerGroupIds", typeCustomerGroup, ids, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	out := make([]CustomerGroup, len(found))
	for i, n := range found {
		out[i] = n.customerGroup()
	}
	return out, nil
}

// batchNamed reads the objects of typ of ids at one snapshot, in the order
// of ids (a repeated id is answered twice), once the actor may see them all:
// one read of each object's attributes, in parallel.
func (s *Service) batchNamed(ctx context.Context, msp, field, typ string, ids []string, atLeastAsFresh string) ([]named, *snapshot, error) {
	if len(ids) == 0 || len(ids) > MaxBatchGet {
		return nil, nil, fault.New(fault.Invalid, "%s: %d ids asked, between 1 and %d answered", field, len(ids), MaxBatchGet)
	}
	checks := []error{checkID("mspId", msp)}
	for i, id := range ids {
		checks = append(checks, checkID(fmt.Sprintf("%s[%d]", field, i), id))
	}
	if err := firstError(checks...); err != nil {
		return nil, nil, err
	}
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, nil, err
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	if err := sn.authorizeSightOf(ctx, field, typ, distinct); err != nil {
		return nil, nil, err
	}
	attributes := make(map[string]graph.Relationship, len(distinct))
	err = readEach(ctx, sn, sn.rev, distinct, func(id string) graph.Filter {
		return graph.Filter{ResourceType: typ, ResourceID: scoped(typ, msp, id).ID, Relation: relAttributes}
	}, func(id string, rels []graph.Relationship) {
		if len(rels) > 0 {
			attributes[id] = rels[0]
		}
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]named, len(ids))
	for i, id := range ids {
		r, ok := attributes[id]
		if !ok {
			return nil, nil, fault.New(fault.NotFound, "%s[%d]: %s %q not found", field, i, typeNames[typ], id)
		}
		out[i] = namedOf(id, r)
	}
	return out, sn, nil
}
