package tenancy

import (
	"context"
	"slices"
	"sort"
	"strings"

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

// View is how much of an object a read answers (AIP-157).
type View int

const (
	// ViewDefault is the call's default: ViewBasic for a list, ViewFull for a get.
	ViewDefault View = iota
	// ViewBasic leaves out what takes more reads to fill (a customer's preferences).
	ViewBasic
	// ViewFull answers everything.
	ViewFull
)

// full reports whether v, the view of a call whose default is def, is ViewFull.
func (v View) full(def View) bool {
	if v == ViewDefault {
		v = def
	}
	return v == ViewFull
}

// named is a listed object: its id (local to its MSP), display name and origin.
type named struct {
	ID          string
	DisplayName string
	Origin      string
	ExternalID  string
}

// namedOf is the object whose attributes relationship is attributes.
func namedOf(id string, attributes graph.Relationship) named {
	return named{ID: id, DisplayName: attributes.Attribute(attrDisplayName), Origin: originOf(attributes), ExternalID: attributes.Attribute(attrExternalID)}
}

func (n named) customer() Customer { return Customer{ID: n.ID, DisplayName: n.DisplayName} }

func (n named) customerGroup() CustomerGroup {
	return CustomerGroup{ID: n.ID, DisplayName: n.DisplayName, Origin: n.Origin}
}

// readPage reads one page of the relationships f selects: the first page at
// rev, the next ones at the revision of the first, which their token
// carries. It returns the next page's token ("" after the last page) and the
// revision it read at.
func (s *Service) readPage(ctx context.Context, f graph.Filter, rev graph.Revision, page Page) ([]graph.Relationship, string, graph.Revision, error) {
	size, tok, err := page.decode()
	if err != nil {
		return nil, "", "", err
	}
	if tok.Revision != "" {
		rev = tok.Revision
	}
	rels, cursor, readAt, err := s.graph.ReadPage(ctx, f, graph.At(rev), size, tok.Cursor)
	if err != nil {
		return nil, "", "", graph.ContinuationError(err, tok)
	}
	if cursor == "" {
		return rels, "", readAt, nil
	}
	return rels, graph.PageToken{Revision: readAt, Cursor: cursor}.Encode(), readAt, nil
}

// listNamed lists the objects whose attributes relationship the filter
// selects, a page at a time, at the revision rev for the first page.
func (s *Service) listNamed(ctx context.Context, f graph.Filter, rev graph.Revision, page Page, localize func(string) string) ([]named, string, error) {
	f.Relation = relAttributes
	rels, next, _, err := s.readPage(ctx, f, rev, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]named, len(rels))
	for i, r := range rels {
		out[i] = namedOf(localize(r.Resource.ID), r)
	}
	return out, next, nil
}

// ListMSPs lists MSPs with their owners, a page at a time: every MSP, or
// only msp when it is given (all that its tokens see).
func (s *Service) ListMSPs(ctx context.Context, only string, page Page) ([]MSP, string, error) {
	// Every page reads at one revision: pin it before the first.
	_, rev, err := s.graph.Check(ctx, nil, graph.Full())
	if err != nil {
		return nil, "", err
	}
	items, next, err := s.listNamed(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: only}, rev, page, func(id string) string { return id })
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

// ListUsers lists an MSP's users (its staff; end-customer users are listed
// per customer), a page at a time, only those whose id or display name
// contains search (in any case) when it is given; in the full view (the
// default) each with his memberships.
func (s *Service) ListUsers(ctx context.Context, msp string, page Page, view View, search string) ([]User, string, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, "", err
	}
	if err := sn.authorize(ctx, permUsersManage, mspObject(msp)); err != nil {
		return nil, "", err
	}
	members, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: typeMSP, ResourceID: msp, Relation: relMember}, sn.rev, page)
	if err != nil {
		return nil, "", err
	}
	// Every page reads at the first page's revision.
	sn = &snapshot{s: s, msp: msp, rev: rev}
	single, err := sn.singleCustomers(ctx)
	if err != nil {
		return nil, "", err
	}
	out := make([]User, len(members))
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = localID(msp, m.Subject.ID)
		out[i] = User{ID: ids[i], SingleCustomerID: single[ids[i]], Origin: OriginLocal}
	}
	err = readEach(ctx, sn, rev, indexes(len(members)), func(i int) graph.Filter {
		return graph.Filter{ResourceType: typeUser, ResourceID: members[i].Subject.ID, Relation: relAttributes}
	}, func(i int, attrs []graph.Relationship) {
		if len(attrs) > 0 {
			out[i].DisplayName, out[i].Origin, out[i].ExternalID = attrs[0].Attribute(attrDisplayName), originOf(attrs[0]), attrs[0].Attribute(attrExternalID)
		}
	})
	if err != nil {
		return nil, "", err
	}
	out = slices.DeleteFunc(out, func(u User) bool { return !matches(search, u.ID, u.DisplayName) })
	if !view.full(ViewFull) {
		return out, next, nil
	}
	if err := sn.fillMemberships(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// ListCustomers lists the customers of an MSP the actor may see, a page at
// a time, only those whose id or display name contains search (in any
// case) when it is given; in the full view with their preferences, read at
// the page's revision.
func (s *Service) ListCustomers(ctx context.Context, msp string, page Page, view View, search string) ([]Customer, string, error) {
	var keep func(graph.Revision, []string) ([]string, error)
	if a := actorFrom(ctx); a.UserID != "" {
		keep = s.permitted(ctx, msp, permissionVisible, a.UserID)
	}
	out, next, rev, err := s.customersPage(ctx, msp, page, "", search, keep)
	if err != nil {
		return nil, "", err
	}
	if view.full(ViewBasic) {
		if err := (&snapshot{s: s, msp: msp, rev: rev}).fillPreferences(ctx, out); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// ListCustomerGroups lists an MSP's customer groups, a page at a time, only
// those whose id or display name contains search (in any case) when it is
// given; in the full view (the default) each with its members and customers.
func (s *Service) ListCustomerGroups(ctx context.Context, msp string, page Page, view View, search string) ([]CustomerGroup, string, error) {
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, "", err
	}
	if err := sn.authorize(ctx, permCustomerGroupsManage, mspObject(msp)); err != nil {
		return nil, "", err
	}
	rels, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: typeCustomerGroup, ResourceIDPrefix: msp + "/", Relation: relAttributes}, sn.rev, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]CustomerGroup, 0, len(rels))
	for _, r := range rels {
		if g := namedOf(localID(msp, r.Resource.ID), r).customerGroup(); matches(search, g.ID, g.DisplayName) {
			out = append(out, g)
		}
	}
	if !view.full(ViewFull) {
		return out, next, nil
	}
	if err := (&snapshot{s: s, msp: msp, rev: rev}).fillCustomerGroups(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
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
// and the snapshot it was read at: at least as fresh as atLeastAsFresh, when
// given.
func (s *Service) getNamed(ctx context.Context, msp, field, typ, id, atLeastAsFresh string) (named, *snapshot, error) {
	if err := checkID(field, id); err != nil {
		return named{}, nil, err
	}
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
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

// GetUser returns an MSP user with his memberships.
func (s *Service) GetUser(ctx context.Context, msp, user, atLeastAsFresh string, view View) (*User, error) {
	n, sn, err := s.getNamed(ctx, msp, "userId", typeUser, user, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	single, err := sn.singleCustomers(ctx)
	if err != nil {
		return nil, err
	}
	u := []User{{ID: n.ID, DisplayName: n.DisplayName, SingleCustomerID: single[n.ID], Origin: n.Origin, ExternalID: n.ExternalID}}
	if view.full(ViewFull) {
		if err := sn.fillMemberships(ctx, u); err != nil {
			return nil, err
		}
	}
	return &u[0], nil
}

// GetCustomer returns a customer; in the full view (the default) with its
// preferences, for an actor who may manage customers.
func (s *Service) GetCustomer(ctx context.Context, msp, customer, atLeastAsFresh string, view View) (*Customer, error) {
	n, sn, err := s.getNamed(ctx, msp, "customerId", typeCustomer, customer, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	c := []Customer{n.customer()}
	if view.full(ViewFull) {
		if err := sn.fillPreferences(ctx, c); err != nil {
			return nil, err
		}
	}
	return &c[0], nil
}

// GetCustomerGroup returns a customer group; in the full view (the default)
// with its members and customers.
func (s *Service) GetCustomerGroup(ctx context.Context, msp, group, atLeastAsFresh string, view View) (*CustomerGroup, error) {
	n, sn, err := s.getNamed(ctx, msp, "customerGroupId", typeCustomerGroup, group, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	g := []CustomerGroup{n.customerGroup()}
	if view.full(ViewFull) {
		if err := sn.fillCustomerGroups(ctx, g); err != nil {
			return nil, err
		}
	}
	return &g[0], nil
}

// authorizeSight refuses an actor who may not see one of msp's objects: a
// customer he cannot see does not exist for him (see requireExisting); users
// (but himself) and customer groups need the permission that manages them.
func (sn *snapshot) authorizeSight(ctx context.Context, typ, id string) error {
	return sn.authorizeSightOf(ctx, "customerId", typ, []string{id})
}

// authorizeSightOf is authorizeSight of several objects of one type, field
// naming them: one check for all.
func (sn *snapshot) authorizeSightOf(ctx context.Context, field, typ string, ids []string) error {
	a := actorFrom(ctx)
	switch {
	case a.UserID == "":
		return nil
	case typ == typeCustomer:
		return sn.requireExisting(ctx, existing{field, typeCustomer, ids})
	case typ == typeUser && !slices.ContainsFunc(ids, func(id string) bool { return id != a.UserID }):
		return nil
	case typ == typeUser:
		return sn.authorize(ctx, permUsersManage, mspObject(sn.msp))
	}
	return sn.authorize(ctx, permCustomerGroupsManage, mspObject(sn.msp))
}

// customersPage lists one page of msp's customers, in id order, with their
// names: those that match search (see matches) and that keep (when given)
// retains, of a page of all of them (graph ids, read at rev). A page may so hold fewer customers than its size,
// even none, with a next token after it: the list ends where the token is "".
// Every page reads at the revision of the first, which is at least as fresh
// as atLeastAsFresh (the newest, when empty).
func (s *Service) customersPage(ctx context.Context, msp string, page Page, atLeastAsFresh, search string, keep func(rev graph.Revision, ids []string) ([]string, error)) ([]Customer, string, graph.Revision, error) {
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, "", "", err
	}
	rels, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: typeCustomer, ResourceIDPrefix: msp + "/", Relation: relAttributes}, sn.rev, page)
	if err != nil {
		return nil, "", "", err
	}
	ids := make([]string, 0, len(rels))
	names := make(map[string]string, len(rels))
	for _, r := range rels {
		if name := r.Attribute(attrDisplayName); matches(search, localID(msp, r.Resource.ID), name) {
			ids = append(ids, r.Resource.ID)
			names[r.Resource.ID] = name
		}
	}
	if keep != nil && len(ids) > 0 {
		if ids, err = keep(rev, ids); err != nil {
			return nil, "", "", err
		}
	}
	out := make([]Customer, len(ids))
	for i, id := range ids {
		out[i] = Customer{ID: localID(msp, id), DisplayName: names[id]}
	}
	return out, next, rev, nil
}

// matches reports whether an object of that id and display name is one a
// search finds: its id or name contains the text, in any case ("" finds all).
func matches(search, id, name string) bool {
	search = strings.ToLower(search)
	return strings.Contains(strings.ToLower(id), search) || strings.Contains(strings.ToLower(name), search)
}

// permitted keeps, for customersPage, the customers on which one of msp's
// users has permission: one bulk check a page.
func (s *Service) permitted(ctx context.Context, msp, permission, user string) func(graph.Revision, []string) ([]string, error) {
	return func(rev graph.Revision, ids []string) ([]string, error) {
		checks := make([]graph.Check, len(ids))
		for i, id := range ids {
			checks[i] = graph.Check{Resource: graph.Object{Type: typeCustomer, ID: id}, Permission: permission, Subject: userObject(msp, user)}
		}
		allowed, _, err := s.graph.Check(ctx, checks, graph.At(rev))
		if err != nil {
			return nil, err
		}
		var kept []string
		for i, id := range ids {
			if allowed[i] {
				kept = append(kept, id)
			}
		}
		return kept, nil
	}
}

// customersNamed returns the customers of ids (graph ids, of the snapshot's
// MSP) with their display names as of rev, in the order of ids: one point
// read each (a page's worth, read in parallel).
func (sn *snapshot) customersNamed(ctx context.Context, rev graph.Revision, ids []string) ([]Customer, error) {
	out := make([]Customer, len(ids))
	for i, id := range ids {
		out[i] = Customer{ID: localID(sn.msp, id)}
	}
	err := readEach(ctx, sn, rev, indexes(len(ids)), func(i int) graph.Filter {
		return graph.Filter{ResourceType: typeCustomer, ResourceID: ids[i], Relation: relAttributes}
	}, func(i int, rels []graph.Relationship) {
		if len(rels) > 0 {
			out[i].DisplayName = rels[0].Attribute(attrDisplayName)
		}
	})
	return out, err
}

func sortMemberships(ms []Membership) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
}
