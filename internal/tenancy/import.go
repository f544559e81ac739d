package tenancy

import (
	"context"
	"strconv"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// BulkMSP is a whole new MSP and everything it holds, imported at once: what
// CreateMSP, the Create calls and the forms would write one by one, checked
// against the same rules, written with SpiceDB's bulk import.
type BulkMSP struct {
	MSP MSP
	// Users are the MSP's users besides its account owner.
	Users          []User
	Customers      []Customer
	CustomerGroups []BulkCustomerGroup
	// DirectUsers are the users associated directly with a customer.
	DirectUsers []Pair
	// AccountContacts are the customers' Account Contacts (one per customer):
	// each must reach his customer.
	AccountContacts []Pair
	AlertGroups     []BulkAlertGroup
}

// BulkCustomerGroup is a customer group with its customers and members.
type BulkCustomerGroup struct {
	ID          string
	DisplayName string
	Customers   []string
	Members     []string
}

// BulkAlertGroup is a customer's user alert group and its contacts, each of
// whom must reach the customer.
type BulkAlertGroup struct {
	CustomerID string
	ID         string
	Contacts   []string
}

// importChunk is how many relationships one bulk import call carries: each
// call is a transaction of its own, and reports progress. Each is also a
// revision that every watch of the reachability index loads whole (SpiceDB's
// PostgreSQL watch reads a revision's changes at once): 10,000 keeps the
// import's peak heap near twice the steady one where 50,000 took four times.
const importChunk = 10_000

// ImportMSP creates b's MSP with everything it holds, refusing an MSP that
// exists. The relationships go in bulk imports of importChunk, each a
// transaction of its own, and the MSP's own (its members, owner and save
// epoch) last, whole, in one: until it lands the MSP does not exist and
// nothing of it grants anything (every permission intersects with the MSP's
// members), so an import cut short leaves no MSP, and running it again clears
// what the first one left. That last transaction holds one membership per
// user, so it is a bulk import too, whatever its size: SpiceDB streams it into
// PostgreSQL with COPY, which binds no parameters, where a WriteRelationships
// of it is one INSERT past PostgreSQL's 65,535 parameters above 7,281 users. A
// bulk import only creates, failing on any relationship that exists: the MSP's
// attributes relationship, which every MSP has, makes it fail if the MSP was
// created meanwhile. progress, if not nil, is told after each chunk how many
// of the total relationships are written.
func (s *Service) ImportMSP(ctx context.Context, b BulkMSP, progress func(done, total int)) error {
	if err := b.check(); err != nil {
		return err
	}
	if err := s.purgeScoped(ctx, b.MSP.ID); err != nil {
		return mspCreateError(err, b.MSP.ID)
	}
	// The objects' relationships are made as they are imported, a chunk at
	// a time (counted first): at scale, all of them at once would be most of
	// the import's memory.
	total, done := 0, 0
	own := b.relationships(func(graph.Relationship) { total++ })
	total += len(own)
	var chunk []graph.Relationship
	var err error
	send := func() {
		if err = s.graph.Import(ctx, chunk); err != nil {
			err = importError(err, b.MSP.ID, done, total)
			return
		}
		done += len(chunk)
		chunk = nil
		if progress != nil {
			progress(done, total)
		}
	}
	b.relationships(func(r graph.Relationship) {
		if err == nil {
			if chunk = append(chunk, r); len(chunk) == importChunk {
				send()
			}
		}
	})
	if err == nil && len(chunk) > 0 {
		send()
	}
	if err != nil {
		return err
	}
	if err := s.graph.Import(ctx, own); err != nil {
		if fault.Is(err, fault.Conflict) {
			return mspCreateError(err, b.MSP.ID)
		}
		return importError(err, b.MSP.ID, done, total)
	}
	if progress != nil {
		progress(total, total)
	}
	return nil
}

func importError(err error, msp string, done, total int) error {
	if fault.Is(err, fault.Conflict) { // another writer created objects of the new MSP's ids meanwhile
		return fault.Wrap(err, fault.Conflict, "import of msp %q: objects of its ids appeared during the import; run it again", msp)
	}
	return fault.Wrap(err, fault.KindOf(err), "import of msp %q stopped after %d of %d relationships (the MSP does not exist until all land; running the import again starts over)", msp, done, total)
}

// relationships gives each of the MSP's objects' relationships to objects,
// and returns the MSP's own (of which it is the resource), which make it exist.
func (b BulkMSP) relationships(objects func(graph.Relationship)) (own []graph.Relationship) {
	msp := b.MSP.ID
	each := func(rels ...graph.Relationship) {
		for _, r := range rels {
			objects(r)
		}
	}
	all := append(mspRels(b.MSP), builtinGroupRels(msp, b.MSP.OwnerUserID)...)
	all = append(all, objectRels(userObject(msp, b.MSP.OwnerUserID), msp, b.MSP.OwnerUserID)...)
	for _, r := range all {
		if r.Resource == mspObject(msp) {
			own = append(own, r)
		} else {
			objects(r)
		}
	}
	for _, u := range b.Users {
		obj := userObject(msp, u.ID)
		each(objectRels(obj, msp, u.DisplayName)...)
		own = append(own, graph.Rel(mspObject(msp), relMember, obj))
	}
	for _, c := range b.Customers {
		each(objectRels(customerObject(msp, c.ID), msp, c.DisplayName)...)
	}
	for _, g := range b.CustomerGroups {
		each(objectRels(customerGroupObject(msp, g.ID), msp, g.DisplayName)...)
		for _, c := range g.Customers {
			each(customerInGroup(msp, c, g.ID))
		}
		for _, u := range g.Members {
			each(groupMember(msp, g.ID, u))
		}
	}
	for _, p := range b.DirectUsers {
		each(directUser(msp, p.CustomerID, p.UserID))
	}
	for _, p := range b.AccountContacts {
		each(accountContact(msp, p.CustomerID, p.UserID))
	}
	for _, ag := range b.AlertGroups {
		obj := alertGroupObject(msp, ag.CustomerID, ag.ID)
		each(alertGroupCustomer(obj, msp, ag.CustomerID))
		for _, u := range ag.Contacts {
			each(alertGroupContact(obj, msp, u))
		}
	}
	return own
}

// check applies the rules the Create calls and the forms apply one by one:
// valid and unique ids and names, references to objects of the MSP, and
// contacts who reach their customer.
func (b BulkMSP) check() error {
	m := b.MSP
	if err := firstError(checkID("mspId", m.ID), checkID("ownerUserId", m.OwnerUserID), checkDisplayName("displayName", m.DisplayName)); err != nil {
		return err
	}
	users := map[string]bool{m.OwnerUserID: true}
	for i, u := range b.Users {
		if err := addNamed(users, "users", i, "user", u.ID, u.DisplayName); err != nil {
			return err
		}
	}
	customers := map[string]bool{}
	for i, c := range b.Customers {
		if err := addNamed(customers, "customers", i, "customer", c.ID, c.DisplayName); err != nil {
			return err
		}
	}
	reach := newPathIndex() // who reaches whom, as the forms' guards see it
	groups := map[string]bool{}
	for i, g := range b.CustomerGroups {
		field := "customerGroups[" + strconv.Itoa(i) + "]"
		if err := firstError(
			addNamed(groups, "customerGroups", i, "customer group", g.ID, g.DisplayName),
			checkSelection(field+".customers", g.Customers), checkSelection(field+".members", g.Members),
			known(field+".customers", "customer", customers, g.Customers...), known(field+".members", "user", users, g.Members...),
		); err != nil {
			return err
		}
		for _, c := range g.Customers {
			addTo(reach.groupsOf, c, g.ID)
		}
		for _, u := range g.Members {
			addTo(reach.membersOf, g.ID, u)
		}
	}
	direct := map[Pair]bool{}
	for i, p := range b.DirectUsers {
		field := "directUsers[" + strconv.Itoa(i) + "]"
		if err := firstError(known(field+".customerId", "customer", customers, p.CustomerID), known(field+".userId", "user", users, p.UserID)); err != nil {
			return err
		}
		if direct[p] {
			return fault.New(fault.Invalid, "%s: user %q is associated with customer %q twice", field, p.UserID, p.CustomerID)
		}
		direct[p] = true
		reach.direct[p] = true
	}
	contacts := map[string]bool{}
	for i, p := range b.AccountContacts {
		field := "accountContacts[" + strconv.Itoa(i) + "]"
		if err := firstError(known(field+".customerId", "customer", customers, p.CustomerID), known(field+".userId", "user", users, p.UserID), mustReach(reach, field, p)); err != nil {
			return err
		}
		if contacts[p.CustomerID] {
			return fault.New(fault.Invalid, "%s: customer %q has two Account Contacts", field, p.CustomerID)
		}
		contacts[p.CustomerID] = true
	}
	alertGroups := map[[2]string]bool{}
	for i, ag := range b.AlertGroups {
		field := "alertGroups[" + strconv.Itoa(i) + "]"
		if err := firstError(
			known(field+".customerId", "customer", customers, ag.CustomerID), checkID(field+".id", ag.ID),
			checkSelection(field+".contacts", ag.Contacts), checkNotEmpty(SaveOptions{}, field+".contacts", len(ag.Contacts)),
			known(field+".contacts", "user", users, ag.Contacts...),
		); err != nil {
			return err
		}
		key := [2]string{ag.CustomerID, ag.ID}
		if alertGroups[key] {
			return fault.New(fault.Invalid, "%s: alert group %q of customer %q is given twice", field, ag.ID, ag.CustomerID)
		}
		alertGroups[key] = true
		for _, u := range ag.Contacts {
			if err := mustReach(reach, field, Pair{UserID: u, CustomerID: ag.CustomerID}); err != nil {
				return err
			}
		}
	}
	return nil
}

// addNamed checks the id and display name of the i-th object of a list and
// adds its id to set, refusing one given twice.
func addNamed(set map[string]bool, list string, i int, typ, id, displayName string) error {
	field := list + "[" + strconv.Itoa(i) + "]"
	if err := firstError(checkID(field+".id", id), checkDisplayName(field+".displayName", displayName)); err != nil {
		return err
	}
	if set[id] {
		return fault.New(fault.Invalid, "%s.id: %s %q is given twice", field, typ, id)
	}
	set[id] = true
	return nil
}

func known(field, typ string, set map[string]bool, ids ...string) error {
	for _, id := range ids {
		if !set[id] {
			return fault.New(fault.Invalid, "%s: %s %q is not among the MSP's %ss", field, typ, id, typ)
		}
	}
	return nil
}

// mustReach refuses a contact who does not reach his customer.
func mustReach(x *pathIndex, field string, p Pair) error {
	if len(x.paths(p.UserID, p.CustomerID, nil)) > 0 {
		return nil
	}
	return fault.New(fault.Invalid, "%s: user %q does not reach customer %q (a contact must be associated with his customer)", field, p.UserID, p.CustomerID)
}
