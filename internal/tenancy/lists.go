package tenancy

import (
	"context"
	"sort"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Page asks for one page of a list.
type Page struct {
	// Size is the most items to return: 0 means DefaultPageSize, at most MaxPageSize.
	Size int
	// Token is the NextPageToken of the previous page, or "" for the first.
	Token string
}

// Page sizes of lists.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

func (p Page) decode() (uint32, graph.PageToken, error) {
	if p.Size < 0 || p.Size > MaxPageSize {
		return 0, graph.PageToken{}, fault.New(fault.Invalid, "pageSize: %d is outside 0..%d", p.Size, MaxPageSize)
	}
	size := uint32(p.Size)
	if size == 0 {
		size = DefaultPageSize
	}
	if p.Token == "" {
		return size, graph.PageToken{}, nil
	}
	tok, err := graph.DecodePageToken(p.Token)
	return size, tok, err
}

// named is a listed object: its id (local to its MSP), display name and origin.
type named struct {
	ID          string
	DisplayName string
	Origin      string
}

// namedOf is the object whose attributes relationship is attributes.
func namedOf(id string, attributes graph.Relationship) named {
	return named{ID: id, DisplayName: attributes.Attribute(attrDisplayName), Origin: originOf(attributes)}
}

func (n named) customer() Customer { return Customer{ID: n.ID, DisplayName: n.DisplayName} }

func (n named) customerGroup() CustomerGroup {
	return CustomerGroup{ID: n.ID, DisplayName: n.DisplayName, Origin: n.Origin}
}

// listNamed lists the objects whose attributes relationship the filter
// selects, a page at a time, at the revision rev for the first page.
func (s *Service) listNamed(ctx context.Context, f graph.Filter, rev graph.Revision, page Page, localize func(string) string) ([]named, string, error) {
	size, tok, err := page.decode()
	if err != nil {
		return nil, "", err
	}
	if tok.Revision != "" {
		rev = tok.Revision
	}
	f.Relation = relAttributes
	rels, cursor, readAt, err := s.graph.ReadPage(ctx, f, graph.At(rev), size, tok.Cursor)
	if err != nil {
		return nil, "", graph.ContinuationError(err, tok)
	}
	out := make([]named, len(rels))
	for i, r := range rels {
		out[i] = namedOf(localize(r.Resource.ID), r)
	}
	if cursor == "" {
		return out, "", nil
	}
	return out, graph.PageToken{Revision: readAt, Cursor: cursor}.Encode(), nil
}

// ListMSPs lists MSPs with their owners, a page at a time.
func (s *Service) ListMSPs(ctx context.Context, page Page) ([]MSP, string, error) {
	// Every page reads at one revision: pin it before the first.
	_, rev, err := s.graph.Check(ctx, nil, graph.Full())
	if err != nil {
		return nil, "", err
	}
	items, next, err := s.listNamed(ctx, graph.Filter{ResourceType: typeMSP}, rev, page, func(id string) string { return id })
	if err != nil {
		return nil, "", err
	}
	out := make([]MSP, len(items))
	indexes := make([]int, len(items))
	for i := range indexes {
		indexes[i] = i
	}
	err = each(ctx, s.readParallelism, indexes, func(ctx context.Context, i int) error {
		m, err := s.GetMSP(ctx, items[i].ID)
		if fault.Is(err, fault.NotFound) {
			// Deleted since the page was read: list it as it was.
			m, err = &MSP{ID: items[i].ID, DisplayName: items[i].DisplayName}, nil
		}
		if err == nil {
			out[i] = *m
		}
		return err
	})
	return out, next, err
}

// listScoped lists msp's objects of one type.
func (s *Service) listScoped(ctx context.Context, msp, typ string, page Page) ([]named, string, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, "", err
	}
	return s.listNamed(ctx, graph.Filter{ResourceType: typ, ResourceIDPrefix: msp + "/"}, sn.rev, page, func(id string) string { return localID(msp, id) })
}

// ListUsers lists an MSP's users (its staff; end-customer users are listed
// per customer), a page at a time.
func (s *Service) ListUsers(ctx context.Context, msp string, page Page) ([]User, string, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, "", err
	}
	if err := sn.authorize(ctx, permUsersManage, mspObject(msp)); err != nil {
		return nil, "", err
	}
	size, tok, err := page.decode()
	if err != nil {
		return nil, "", err
	}
	rev := sn.rev
	if tok.Revision != "" {
		rev = tok.Revision
	}
	members, cursor, readAt, err := s.graph.ReadPage(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relMember}, graph.At(rev), size, tok.Cursor)
	if err != nil {
		return nil, "", graph.ContinuationError(err, tok)
	}
	single, err := (&snapshot{s: s, msp: msp, rev: rev}).singleCustomers(ctx)
	if err != nil {
		return nil, "", err
	}
	out := make([]User, len(members))
	err = readEach(ctx, sn, rev, indexes(len(members)), func(i int) graph.Filter {
		return graph.Filter{ResourceType: typeUser, ResourceID: members[i].Subject.ID, Relation: relAttributes}
	}, func(i int, attrs []graph.Relationship) {
		id := localID(msp, members[i].Subject.ID)
		out[i] = User{ID: id, SingleCustomerID: single[id], Origin: OriginLocal}
		if len(attrs) > 0 {
			out[i].DisplayName, out[i].Origin = attrs[0].Attribute(attrDisplayName), originOf(attrs[0])
		}
	})
	if err != nil || cursor == "" {
		return out, "", err
	}
	return out, graph.PageToken{Revision: readAt, Cursor: cursor}.Encode(), nil
}

// ListCustomers lists an MSP's customers, a page at a time.
func (s *Service) ListCustomers(ctx context.Context, msp string, page Page) ([]Customer, string, error) {
	if a := actorFrom(ctx); a.UserID != "" {
		return s.listVisibleCustomers(ctx, msp, a)
	}
	items, next, err := s.listScoped(ctx, msp, typeCustomer, page)
	out := make([]Customer, len(items))
	for i, it := range items {
		out[i] = it.customer()
	}
	return out, next, err
}

// ListCustomerGroups lists an MSP's customer groups, a page at a time.
func (s *Service) ListCustomerGroups(ctx context.Context, msp string, page Page) ([]CustomerGroup, string, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, "", err
	}
	if err := sn.authorize(ctx, permCustomerGroupsManage, mspObject(msp)); err != nil {
		return nil, "", err
	}
	items, next, err := s.listScoped(ctx, msp, typeCustomerGroup, page)
	out := make([]CustomerGroup, len(items))
	for i, it := range items {
		out[i] = it.customerGroup()
	}
	return out, next, err
}

// GetMSP returns an MSP with its owner.
func (s *Service) GetMSP(ctx context.Context, msp string) (*MSP, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relOwner},
		graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relAttributes})
	if err != nil {
		return nil, err
	}
	m := &MSP{ID: msp}
	for _, r := range rels {
		if r.Relation == relOwner {
			m.OwnerUserID = localID(msp, r.Subject.ID)
		} else {
			m.DisplayName = r.Attribute(attrDisplayName)
		}
	}
	return m, nil
}

// getNamed returns one of msp's objects by id, or NotFound naming field,
// and the snapshot it was read at.
func (s *Service) getNamed(ctx context.Context, msp, field, typ, id string) (named, *snapshot, error) {
	if err := checkID(field, id); err != nil {
		return named{}, nil, err
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return named{}, nil, err
	}
	if err := sn.authorizeSight(ctx, typ, id); err != nil {
		return named{}, nil, err
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typ, ResourceID: scoped(typ, msp, id).ID, Relation: relAttributes})
	if err != nil {
		return named{}, nil, err
	}
	if len(rels) == 0 {
		return named{}, nil, fault.New(fault.NotFound, "%s: %s %q not found", field, typeNames[typ], id)
	}
	return namedOf(id, rels[0]), sn, nil
}

// GetUser returns an MSP user.
func (s *Service) GetUser(ctx context.Context, msp, user string) (*User, error) {
	n, sn, err := s.getNamed(ctx, msp, "userId", typeUser, user)
	if err != nil {
		return nil, err
	}
	single, err := sn.singleCustomers(ctx)
	if err != nil {
		return nil, err
	}
	u := &User{ID: n.ID, DisplayName: n.DisplayName, SingleCustomerID: single[n.ID], Origin: n.Origin}
	if u.CustomerGroups, err = sn.membershipsOf(ctx, user, typeCustomerGroup); err != nil {
		return nil, err
	}
	if u.SecurityGroups, err = sn.membershipsOf(ctx, user, typeSecurityGroup); err != nil {
		return nil, err
	}
	return u, nil
}

// GetCustomer returns a customer.
func (s *Service) GetCustomer(ctx context.Context, msp, customer string) (*Customer, error) {
	n, _, err := s.getNamed(ctx, msp, "customerId", typeCustomer, customer)
	if err != nil {
		return nil, err
	}
	c := n.customer()
	return &c, nil
}

// GetCustomerGroup returns a customer group.
func (s *Service) GetCustomerGroup(ctx context.Context, msp, group string) (*CustomerGroup, error) {
	n, sn, err := s.getNamed(ctx, msp, "customerGroupId", typeCustomerGroup, group)
	if err != nil {
		return nil, err
	}
	g := n.customerGroup()
	obj := customerGroupObject(msp, group)
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typeCustomerGroup, ResourceID: obj.ID, Relation: relMember},
		graph.Filter{ResourceType: typeCustomerGroup, ResourceID: obj.ID, Relation: relSyncedMember})
	if err != nil {
		return nil, err
	}
	synced := map[string]bool{}
	for _, r := range rels {
		if r.Relation == relSyncedMember {
			synced[r.Subject.ID] = true
		}
	}
	for _, r := range rels {
		if r.Relation == relMember {
			g.Members = append(g.Members, Membership{ID: localID(msp, r.Subject.ID), Origin: membershipOrigin(g.Origin, synced[r.Subject.ID])})
		}
	}
	sortMemberships(g.Members)
	return &g, nil
}

// authorizeSight refuses an actor who may not see one of msp's objects: a
// customer he cannot see does not exist for him (see requireExisting); users
// (but himself) and customer groups need the permission that manages them.
func (sn *snapshot) authorizeSight(ctx context.Context, typ, id string) error {
	a := actorFrom(ctx)
	switch {
	case a.UserID == "":
		return nil
	case typ == typeCustomer:
		return sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{id}})
	case typ == typeUser && id == a.UserID:
		return nil
	case typ == typeUser:
		return sn.authorize(ctx, permUsersManage, mspObject(sn.msp))
	}
	return sn.authorize(ctx, permCustomerGroupsManage, mspObject(sn.msp))
}

// listVisibleCustomers lists, in one page, the customers an actor may see.
func (s *Service) listVisibleCustomers(ctx context.Context, msp string, a Actor) ([]Customer, string, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, "", err
	}
	ids, _, err := s.graph.LookupResources(ctx, typeCustomer, permissionVisible, userObject(msp, a.UserID), graph.At(sn.rev))
	if err != nil {
		return nil, "", err
	}
	sort.Strings(ids)
	out, err := sn.customersNamed(ctx, sn.rev, ids)
	return out, "", err
}

// pointReadLimit is the most customers customersNamed reads one by one; for
// more, one read of every customer's attributes costs fewer calls.
const pointReadLimit = 32

// customersNamed returns the customers of ids (graph ids, of the snapshot's
// MSP) with their display names as of rev, in the order of ids.
func (sn *snapshot) customersNamed(ctx context.Context, rev graph.Revision, ids []string) ([]Customer, error) {
	out := make([]Customer, len(ids))
	for i, id := range ids {
		out[i] = Customer{ID: localID(sn.msp, id)}
	}
	name := func(rels []graph.Relationship) string {
		if len(rels) == 0 {
			return ""
		}
		return rels[0].Attribute(attrDisplayName)
	}
	if len(ids) <= pointReadLimit {
		err := readEach(ctx, sn, rev, indexes(len(ids)), func(i int) graph.Filter {
			return graph.Filter{ResourceType: typeCustomer, ResourceID: ids[i], Relation: relAttributes}
		}, func(i int, rels []graph.Relationship) { out[i].DisplayName = name(rels) })
		return out, err
	}
	rels, _, err := sn.s.graph.Read(ctx, graph.Filter{ResourceType: typeCustomer, ResourceIDPrefix: sn.msp + "/", Relation: relAttributes}, graph.At(rev))
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(rels))
	for _, r := range rels {
		names[r.Resource.ID] = r.Attribute(attrDisplayName)
	}
	for i, id := range ids {
		out[i].DisplayName = names[id]
	}
	return out, nil
}

// membershipsOf lists the groups of type typ (customer or security groups)
// the user is a member of, each with the membership's origin.
func (sn *snapshot) membershipsOf(ctx context.Context, user, typ string) ([]Membership, error) {
	u := userObject(sn.msp, user)
	rels, err := sn.readAll(ctx,
		graph.Filter{ResourceType: typ, Relation: relMember, SubjectType: typeUser, SubjectID: u.ID},
		graph.Filter{ResourceType: typ, Relation: relSyncedMember, SubjectType: typeUser, SubjectID: u.ID})
	if err != nil {
		return nil, err
	}
	synced := map[graph.Object]bool{}
	var groups []graph.Object
	for _, r := range rels {
		if r.Relation == relSyncedMember {
			synced[r.Resource] = true
		} else {
			groups = append(groups, r.Resource)
		}
	}
	var out []Membership
	err = readEach(ctx, sn, sn.rev, groups, func(g graph.Object) graph.Filter {
		return graph.Filter{ResourceType: g.Type, ResourceID: g.ID, Relation: relAttributes}
	}, func(g graph.Object, attrs []graph.Relationship) {
		origin := OriginLocal
		if len(attrs) > 0 {
			origin = originOf(attrs[0])
		}
		out = append(out, Membership{ID: localID(sn.msp, g.ID), Origin: membershipOrigin(origin, synced[g])})
	})
	sortMemberships(out)
	return out, err
}

func sortMemberships(ms []Membership) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
}
