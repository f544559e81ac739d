package tenancy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// blockedError refuses a save for the given blocks, listing every one.
func blockedError(blocks []Block) error {
	sort.Slice(blocks, func(i, j int) bool {
		a, b := blocks[i], blocks[j]
		if a.UserID != b.UserID || a.CustomerID != b.CustomerID {
			return lessPair(Pair{a.UserID, a.CustomerID}, Pair{b.UserID, b.CustomerID})
		}
		return a.Reason < b.Reason || a.Reason == b.Reason && a.AlertGroupID < b.AlertGroupID
	})
	parts := make([]string, len(blocks))
	for i, b := range blocks {
		parts[i] = fmt.Sprintf("user %q %s", b.UserID, describeReason(b))
		if b.CustomerID != "" {
			parts[i] += fmt.Sprintf(" (customer %q)", b.CustomerID)
		}
	}
	return fault.New(fault.Blocked, "save refused, nothing was written: %s", strings.Join(parts, "; ")).WithDetails(blocks)
}

func describeReason(b Block) string {
	switch b.Reason {
	case BlockAccountContact:
		return "would lose his last path but is the Account Contact (ACCOUNT_CONTACT)"
	case BlockLastAlertGroupContact:
		return fmt.Sprintf("would lose his last path but is the last contact of alert group %q (LAST_ALERT_GROUP_CONTACT)", b.AlertGroupID)
	case BlockAccountOwner:
		return "is the MSP's account owner (ACCOUNT_OWNER)"
	case BlockNotAssociated:
		return "does not reach the customer: associate him first (NOT_ASSOCIATED)"
	case BlockLastBuiltinAdministrator:
		return "is the last built-in administrator of a domain whose partner access is off (LAST_BUILTIN_ADMINISTRATOR)"
	case BlockSingleCustomer:
		return "is a single-customer user, confined to one customer (SINGLE_CUSTOMER)"
	case BlockRoleInUse:
		return fmt.Sprintf("holds the role through security group %q (ROLE_IN_USE)", b.SecurityGroupID)
	}
	return string(b.Reason)
}

// alertGroups maps a customer to its alert groups, each to its contacts.
type alertGroups map[string]map[string][]string

func (a alertGroups) add(customer, group, user string) {
	if a[customer] == nil {
		a[customer] = map[string][]string{}
	}
	a[customer][group] = append(a[customer][group], user)
}

// guard refuses a save that would dissociate a user from a customer whose
// Account Contact he is, or whose alert group would be left with no contact
// reaching the customer. It returns the alert-group contacts to remove with
// the save: the dissociated users of alert groups that keep another contact.
func (sn *snapshot) guard(ctx context.Context, d *delta, sd side, idx *pathIndex, dissociated []Pair) ([]AlertContactRemoval, error) {
	if len(dissociated) == 0 {
		return nil, nil
	}
	isDissociated := make(map[Pair]bool, len(dissociated))
	for _, p := range dissociated {
		isDissociated[p] = true
	}
	users, customers := distinct(dissociated)

	accountContacts, groups, err := sn.guardFacts(ctx, sd, idx, users, customers, isDissociated)
	if err != nil {
		return nil, err
	}
	// On the user side the index names paths of the loaded users only: the
	// other contacts of the alert groups need the customers' side.
	contactPaths := idx
	if sd == userSide && len(groups) > 0 {
		contactPaths, err = sn.loadPaths(ctx, sn.rev, customerSide, slices.Sorted(maps.Keys(groups)), d.addedGroups(customerSide))
		if err != nil {
			return nil, err
		}
	}

	var blocks []Block
	var removals []AlertContactRemoval
	for _, p := range dissociated {
		if accountContacts[p] {
			blocks = append(blocks, Block{UserID: p.UserID, CustomerID: p.CustomerID, Reason: BlockAccountContact})
		}
	}
	for _, c := range slices.Sorted(maps.Keys(groups)) {
		for _, g := range slices.Sorted(maps.Keys(groups[c])) {
			contacts := groups[c][g]
			var leaving []string
			kept := false
			for _, u := range contacts {
				if isDissociated[Pair{u, c}] {
					leaving = append(leaving, u)
				} else if len(contactPaths.paths(u, c, d)) > 0 {
					kept = true
				}
			}
			for _, u := range leaving {
				if kept {
					removals = append(removals, AlertContactRemoval{Pair: Pair{u, c}, AlertGroupID: g})
				} else {
					blocks = append(blocks, Block{UserID: u, CustomerID: c, Reason: BlockLastAlertGroupContact, AlertGroupID: g})
				}
			}
		}
	}
	if len(blocks) > 0 {
		return nil, blockedError(blocks)
	}
	return removals, nil
}

// guardFacts reads, at the snapshot, which dissociated pairs are Account
// Contacts, and every alert group (with all its contacts) in which a
// dissociated user is a contact of the customer he leaves.
func (sn *snapshot) guardFacts(ctx context.Context, sd side, idx *pathIndex, users, customers []string, isDissociated map[Pair]bool) (map[Pair]bool, alertGroups, error) {
	msp := sn.msp
	groups := alertGroups{}
	if sd == customerSide {
		err := readEach(ctx, sn, sn.rev, customers, func(c string) graph.Filter {
			return graph.Filter{ResourceType: typeUserAlertGroup, ResourceIDPrefix: customerObjectPrefix(msp, c), Relation: relContact}
		}, func(c string, rels []graph.Relationship) {
			for _, r := range rels {
				_, g := customerObjectIDs(msp, r.Resource.ID)
				groups.add(c, g, localID(msp, r.Subject.ID))
			}
		})
		return idx.accountContacts, keepLeaving(groups, isDissociated), err
	}

	accountContacts := map[Pair]bool{}
	type alertGroupKey struct{ customer, group string }
	involved := map[alertGroupKey]bool{}
	type read struct {
		user     string
		relation string
	}
	var reads []read
	for _, u := range users {
		reads = append(reads, read{u, relAccountContact}, read{u, relContact})
	}
	err := readEach(ctx, sn, sn.rev, reads, func(rd read) graph.Filter {
		if rd.relation == relAccountContact {
			return graph.Filter{ResourceType: typeCustomer, Relation: relAccountContact, SubjectType: typeUser, SubjectID: userObject(msp, rd.user).ID}
		}
		return graph.Filter{ResourceType: typeUserAlertGroup, Relation: relContact, SubjectType: typeUser, SubjectID: userObject(msp, rd.user).ID}
	}, func(rd read, rels []graph.Relationship) {
		for _, r := range rels {
			if rd.relation == relAccountContact {
				accountContacts[Pair{rd.user, localID(msp, r.Resource.ID)}] = true
				continue
			}
			c, g := customerObjectIDs(msp, r.Resource.ID)
			if isDissociated[Pair{rd.user, c}] {
				involved[alertGroupKey{c, g}] = true
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	keys := slices.Collect(maps.Keys(involved))
	err = readEach(ctx, sn, sn.rev, keys, func(k alertGroupKey) graph.Filter {
		return graph.Filter{ResourceType: typeUserAlertGroup, ResourceID: alertGroupObject(msp, k.customer, k.group).ID, Relation: relContact}
	}, func(k alertGroupKey, rels []graph.Relationship) {
		for _, r := range rels {
			groups.add(k.customer, k.group, localID(msp, r.Subject.ID))
		}
	})
	return accountContacts, groups, err
}

// keepLeaving keeps the alert groups that one of the dissociated users leaves.
func keepLeaving(groups alertGroups, isDissociated map[Pair]bool) alertGroups {
	out := alertGroups{}
	for c, byGroup := range groups {
		for g, contacts := range byGroup {
			if slices.ContainsFunc(contacts, func(u string) bool { return isDissociated[Pair{u, c}] }) {
				for _, u := range contacts {
					out.add(c, g, u)
				}
			}
		}
	}
	return out
}
