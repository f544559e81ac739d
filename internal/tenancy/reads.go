package tenancy

import (
	"context"
	"sort"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// CustomerPreferences is what the Edit Customer Preferences form shows of a
// customer: its selections (as the form saves them), its contacts and its
// partner access.
type CustomerPreferences struct {
	CustomerGroups []string
	// Users are the MSP users associated to the customer directly.
	Users []string
	// AccountContact is the Account Contact's user id, or "".
	AccountContact       string
	AlertGroups          []AlertGroup
	PartnerAccessEnabled bool
}

// Listing is one page of a list whose pages are all read at one revision.
type Listing[T any] struct {
	Items []T
	// NextPageToken continues the list; "" after its last page.
	NextPageToken string
	// CheckedAt is the revision every page of the list is read at.
	CheckedAt string
}

// at is the snapshot of the same MSP at rev (a later page of a list).
func (sn *snapshot) at(rev graph.Revision) *snapshot {
	return &snapshot{s: sn.s, msp: sn.msp, rev: rev}
}

// origins maps each object to the origin its attributes record.
func (sn *snapshot) origins(ctx context.Context, objs []graph.Object) (map[graph.Object]string, error) {
	out := make(map[graph.Object]string, len(objs))
	err := readEach(ctx, sn, sn.rev, objs, func(o graph.Object) graph.Filter {
		return graph.Filter{ResourceType: o.Type, ResourceID: o.ID, Relation: relAttributes}
	}, func(o graph.Object, rels []graph.Relationship) {
		out[o] = OriginLocal
		if len(rels) > 0 {
			out[o] = originOf(rels[0])
		}
	})
	return out, err
}

// fillMemberships fills each user's customer groups and security groups,
// each with the origin of the membership: one read per user and group type,
// and one per group named.
func (sn *snapshot) fillMemberships(ctx context.Context, users []User) error {
	type key struct {
		user int
		typ  string
	}
	keys := make([]key, 0, 2*len(users))
	for i := range users {
		keys = append(keys, key{i, typeCustomerGroup}, key{i, typeSecurityGroup})
	}
	found := make(map[key][]graph.Relationship, len(keys))
	groups := map[graph.Object]bool{}
	err := readEach(ctx, sn, sn.rev, keys, func(k key) graph.Filter {
		return graph.Filter{ResourceType: k.typ, SubjectType: typeUser, SubjectID: userObject(sn.msp, users[k.user].ID).ID}
	}, func(k key, rels []graph.Relationship) {
		found[k] = rels
		for _, r := range rels {
			if r.Relation == relMember {
				groups[r.Resource] = true
			}
		}
	})
	if err != nil {
		return err
	}
	origins, err := sn.origins(ctx, sortedObjects(groups))
	if err != nil {
		return err
	}
	for k, rels := range found {
		ms := memberships(rels, func(r graph.Relationship) (string, graph.Object) {
			return localID(sn.msp, r.Resource.ID), r.Resource
		}, func(group graph.Object) string { return origins[group] })
		if k.typ == typeCustomerGroup {
			users[k.user].CustomerGroups = ms
		} else {
			users[k.user].SecurityGroups = ms
		}
	}
	return nil
}

// memberships are the member relationships among rels, each named by the
// other end and with its origin: that of the group's system when a
// synced_member relationship of the same pair marks it, else local.
func memberships(rels []graph.Relationship, end func(graph.Relationship) (id string, group graph.Object), groupOrigin func(graph.Object) string) []Membership {
	type pair struct{ resource, subject graph.Object }
	synced := map[pair]bool{}
	for _, r := range rels {
		if r.Relation == relSyncedMember {
			synced[pair{r.Resource, r.Subject}] = true
		}
	}
	out := []Membership{}
	for _, r := range rels {
		if r.Relation == relMember {
			id, group := end(r)
			out = append(out, Membership{ID: id, Origin: membershipOrigin(groupOrigin(group), synced[pair{r.Resource, r.Subject}])})
		}
	}
	sortMemberships(out)
	return out
}

// fillCustomerGroups fills each group's members (with their memberships'
// origins) and customers: two reads per group.
func (sn *snapshot) fillCustomerGroups(ctx context.Context, groups []CustomerGroup) error {
	type key struct {
		group     int
		customers bool
	}
	keys := make([]key, 0, 2*len(groups))
	for i := range groups {
		keys = append(keys, key{i, false}, key{i, true})
	}
	return readEach(ctx, sn, sn.rev, keys, func(k key) graph.Filter {
		g := customerGroupObject(sn.msp, groups[k.group].ID)
		if k.customers {
			return graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: g.Type, SubjectID: g.ID}
		}
		return graph.Filter{ResourceType: g.Type, ResourceID: g.ID}
	}, func(k key, rels []graph.Relationship) {
		g := &groups[k.group]
		if k.customers {
			g.Customers = sortedIDs(sn.msp, rels, func(r graph.Relationship) string { return r.Resource.ID })
			return
		}
		g.Members = memberships(rels, func(r graph.Relationship) (string, graph.Object) {
			return localID(sn.msp, r.Subject.ID), r.Resource
		}, func(graph.Object) string { return g.Origin })
	})
}

// fillPreferences fills each customer's preferences, when the actor may
// manage customers (and so edit them with the form); otherwise it leaves
// them out. Two reads per customer.
func (sn *snapshot) fillPreferences(ctx context.Context, customers []Customer) error {
	if ok, err := sn.holds(ctx, mspObject(sn.msp), relationOf(permCustomersManage)); err != nil || !ok {
		return err
	}
	type key struct {
		customer    int
		alertGroups bool
	}
	keys := make([]key, 0, 2*len(customers))
	for i := range customers {
		customers[i].Preferences = &CustomerPreferences{CustomerGroups: []string{}, Users: []string{}, AlertGroups: []AlertGroup{}, PartnerAccessEnabled: true}
		keys = append(keys, key{i, false}, key{i, true})
	}
	return readEach(ctx, sn, sn.rev, keys, func(k key) graph.Filter {
		if k.alertGroups {
			return graph.Filter{ResourceType: typeUserAlertGroup, ResourceIDPrefix: customerObjectPrefix(sn.msp, customers[k.customer].ID)}
		}
		return graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(sn.msp, customers[k.customer].ID).ID}
	}, func(k key, rels []graph.Relationship) {
		p := customers[k.customer].Preferences
		if k.alertGroups {
			p.AlertGroups = alertGroupsOf(sn.msp, rels)
			return
		}
		for _, r := range rels {
			switch r.Relation {
			case relCustomerGroup:
				p.CustomerGroups = append(p.CustomerGroups, localID(sn.msp, r.Subject.ID))
			case relDirect:
				p.Users = append(p.Users, localID(sn.msp, r.Subject.ID))
			case relAccountContact:
				p.AccountContact = localID(sn.msp, r.Subject.ID)
			case relPartnerOff:
				p.PartnerAccessEnabled = false
			}
		}
		sort.Strings(p.CustomerGroups)
		sort.Strings(p.Users)
	})
}

// alertGroupsOf are the alert groups that rels (relationships of one
// customer's user_alert_group objects) describe, sorted by id, each with its
// contacts.
func alertGroupsOf(msp string, rels []graph.Relationship) []AlertGroup {
	byID := map[string]*AlertGroup{}
	var ids []string
	for _, r := range rels {
		customer, id := customerObjectIDs(msp, r.Resource.ID)
		ag, ok := byID[id]
		if !ok {
			ag = &AlertGroup{CustomerID: customer, AlertGroupID: id, Contacts: []string{}}
			byID[id] = ag
			ids = append(ids, id)
		}
		if r.Relation == relContact {
			ag.Contacts = append(ag.Contacts, localID(msp, r.Subject.ID))
		}
	}
	sort.Strings(ids)
	out := make([]AlertGroup, len(ids))
	for i, id := range ids {
		out[i] = *byID[id]
		sort.Strings(out[i].Contacts)
	}
	return out
}

// ListCustomerGroupCustomers lists a customer group's customers, a page at
// a time, every page at the first page's revision; in the full view with
// their preferences.
func (s *Service) ListCustomerGroupCustomers(ctx context.Context, msp, group string, page Page, atLeastAsFresh string, view View) (*Listing[Customer], error) {
	_, sn, err := s.getNamed(ctx, msp, "customerGroupId", typeCustomerGroup, group, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	g := customerGroupObject(msp, group)
	rels, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: g.Type, SubjectID: g.ID}, sn.rev, page)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rels))
	for i, r := range rels {
		ids[i] = r.Resource.ID
	}
	sn = sn.at(rev)
	customers, err := sn.customersNamed(ctx, rev, ids)
	if err == nil && view.full(ViewBasic) {
		err = sn.fillPreferences(ctx, customers)
	}
	if err != nil {
		return nil, err
	}
	return &Listing[Customer]{Items: customers, NextPageToken: next, CheckedAt: string(rev)}, nil
}

// customerForm returns the snapshot at which an actor who may see the
// customer and holds permission on it (a customer or an MSP permission of
// the catalog) reads it: "not found" when he may not see it, "forbidden"
// when he may but lacks the permission.
func (s *Service) customerForm(ctx context.Context, msp, customer, atLeastAsFresh, permission string) (*snapshot, error) {
	_, sn, err := s.getNamed(ctx, msp, "customerId", typeCustomer, customer, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	obj := customerObject(msp, customer)
	if permission == permCustomersManage {
		obj = mspObject(msp)
	}
	return sn, sn.authorize(ctx, permission, obj)
}

// ListCustomerCustomerGroups lists a customer's customer groups (with their
// members and customers), a page at a time, every page at the first page's
// revision. It needs customers.manage, as the form that edits them.
func (s *Service) ListCustomerCustomerGroups(ctx context.Context, msp, customer string, page Page, atLeastAsFresh string) (*Listing[CustomerGroup], error) {
	sn, err := s.customerForm(ctx, msp, customer, atLeastAsFresh, permCustomersManage)
	if err != nil {
		return nil, err
	}
	rels, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(msp, customer).ID, Relation: relCustomerGroup}, sn.rev, page)
	if err != nil {
		return nil, err
	}
	sn = sn.at(rev)
	objs := make([]graph.Object, len(rels))
	for i, r := range rels {
		objs[i] = r.Subject
	}
	groups := make([]CustomerGroup, len(objs))
	err = readEach(ctx, sn, rev, indexes(len(objs)), func(i int) graph.Filter {
		return graph.Filter{ResourceType: objs[i].Type, ResourceID: objs[i].ID, Relation: relAttributes}
	}, func(i int, attrs []graph.Relationship) {
		groups[i] = CustomerGroup{ID: localID(msp, objs[i].ID), Origin: OriginLocal}
		if len(attrs) > 0 {
			groups[i] = namedOf(groups[i].ID, attrs[0]).customerGroup()
		}
	})
	if err == nil {
		err = sn.fillCustomerGroups(ctx, groups)
	}
	if err != nil {
		return nil, err
	}
	return &Listing[CustomerGroup]{Items: groups, NextPageToken: next, CheckedAt: string(rev)}, nil
}

// ListAlertGroups lists a customer's user alert groups with their contacts,
// a page at a time, every page at the first page's revision. It needs
// customers.edit on the customer, as setting them does.
func (s *Service) ListAlertGroups(ctx context.Context, msp, customer string, page Page, atLeastAsFresh string) (*Listing[AlertGroup], error) {
	sn, err := s.customerForm(ctx, msp, customer, atLeastAsFresh, permCustomersEdit)
	if err != nil {
		return nil, err
	}
	rels, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: typeUserAlertGroup, ResourceIDPrefix: customerObjectPrefix(msp, customer), Relation: relCustomer}, sn.rev, page)
	if err != nil {
		return nil, err
	}
	var all []graph.Relationship
	err = readEach(ctx, sn, rev, rels, func(r graph.Relationship) graph.Filter {
		return graph.Filter{ResourceType: r.Resource.Type, ResourceID: r.Resource.ID}
	}, func(_ graph.Relationship, found []graph.Relationship) { all = append(all, found...) })
	if err != nil {
		return nil, err
	}
	return &Listing[AlertGroup]{Items: alertGroupsOf(msp, all), NextPageToken: next, CheckedAt: string(rev)}, nil
}

// GetAlertGroup returns one of a customer's user alert groups with its
// contacts. It needs customers.edit on the customer, as setting it does.
func (s *Service) GetAlertGroup(ctx context.Context, msp, customer, alertGroup, atLeastAsFresh string) (*AlertGroup, error) {
	if err := checkID("alertGroupId", alertGroup); err != nil {
		return nil, err
	}
	sn, err := s.customerForm(ctx, msp, customer, atLeastAsFresh, permCustomersEdit)
	if err != nil {
		return nil, err
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeUserAlertGroup, ResourceID: alertGroupObject(msp, customer, alertGroup).ID})
	if err != nil {
		return nil, err
	}
	groups := alertGroupsOf(msp, rels)
	if len(groups) == 0 {
		return nil, fault.New(fault.NotFound, "alertGroupId: alert group %q of customer %q not found", alertGroup, customer)
	}
	return &groups[0], nil
}

// sortedIDs are the ids (local to msp) that id picks of rels, sorted.
func sortedIDs(msp string, rels []graph.Relationship, id func(graph.Relationship) string) []string {
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = localID(msp, id(r))
	}
	sort.Strings(out)
	return out
}

// sortedObjects are the objects of a set, sorted.
func sortedObjects(set map[graph.Object]bool) []graph.Object {
	out := make([]graph.Object, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
