package tenancy

import (
	"context"
	"maps"
	"slices"
	"sort"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
)

// The paths that grant a user access to a customer, as named in reports and in
// "via": a direct association, or a customer group that holds both.
const viaDirect = "direct"

func viaCustomerGroup(group string) string { return typeCustomerGroup + ":" + group }

// appendVia appends the names of the paths the index found, as paths names
// them; label names a customer group by its SpiceDB id.
func appendVia(via []string, p reach.Paths, label func(group string) string) []string {
	if p.Direct {
		via = append(via, viaDirect)
	}
	for _, g := range p.CustomerGroups {
		via = append(via, label(g))
	}
	return via
}

// groupLabel names the customer groups of msp by their SpiceDB ids.
func groupLabel(msp string) func(group string) string {
	return func(g string) string { return viaCustomerGroup(localID(msp, g)) }
}

// edge is a relationship that makes or breaks a path: customer#direct@user,
// customer#customer_group@customer_group, or customer_group#member@user. Ids are
// local to the MSP.
type edge struct {
	relation string // relDirect, relCustomerGroup or relMember
	from, to string // (customer, user), (customer, group) or (group, user)
}

// delta is what a save does to paths: the edges it removes and adds, and the
// users and customers it deletes outright.
type delta struct {
	removed, added map[edge]bool
	// joined are the customer groups each customer joins (its added customer_group edges).
	joined        map[string][]string
	goneUsers     map[string]bool
	goneCustomers map[string]bool
}

// deltaOf classifies a save's updates of msp.
func deltaOf(msp string, updates []graph.Update) *delta {
	d := &delta{removed: map[edge]bool{}, added: map[edge]bool{}, joined: map[string][]string{}, goneUsers: map[string]bool{}, goneCustomers: map[string]bool{}}
	for _, u := range updates {
		r := u.Relationship
		set := d.added
		if u.Op == graph.Delete {
			set = d.removed
		}
		if e, ok := edgeOf(msp, r); ok {
			set[e] = true
			if u.Op != graph.Delete && e.relation == relCustomerGroup {
				d.joined[e.from] = append(d.joined[e.from], e.to)
			}
			continue
		}
		if u.Op != graph.Delete {
			continue
		}
		switch {
		case r.Resource.Type == typeMSP && r.Relation == relMember:
			d.goneUsers[localID(msp, r.Subject.ID)] = true
		case r.Resource.Type == typeCustomer && r.Relation == relMSP:
			d.goneCustomers[localID(msp, r.Resource.ID)] = true
		}
	}
	return d
}

// edgeOf returns the path edge r is, if it is one.
func edgeOf(msp string, r graph.Relationship) (edge, bool) {
	from, to := localID(msp, r.Resource.ID), localID(msp, r.Subject.ID)
	switch {
	case r.Resource.Type == typeCustomer && r.Relation == relDirect && r.Subject.Type == typeUser,
		r.Resource.Type == typeCustomer && r.Relation == relCustomerGroup && r.Subject.Type == typeCustomerGroup,
		r.Resource.Type == typeCustomerGroup && r.Relation == relMember && r.Subject.Type == typeUser:
		return edge{relation: r.Relation, from: from, to: to}, true
	}
	return edge{}, false
}

// has reports whether e exists after the delta, given whether it existed before.
func (d *delta) has(e edge, before bool) bool {
	if d == nil {
		return before
	}
	return d.added[e] || (before && !d.removed[e])
}

// side is the end of the (user, customer) pairs from which a computation reads:
// one read per user or one per customer, whichever is fewer.
type side int

const (
	userSide side = iota
	customerSide
)

func sideFor(pairs []Pair) (side, []string, []string) {
	users, customers := distinct(pairs)
	if len(users) <= len(customers) {
		return userSide, users, customers
	}
	return customerSide, users, customers
}

func distinct(pairs []Pair) (users, customers []string) {
	us, cs := map[string]bool{}, map[string]bool{}
	for _, p := range pairs {
		us[p.UserID], cs[p.CustomerID] = true, true
	}
	return slices.Sorted(maps.Keys(us)), slices.Sorted(maps.Keys(cs))
}

// pathIndex holds the path edges read at one revision around a set of users
// (user side) or customers (customer side): enough to name every path between
// any loaded object and any object of the other kind.
type pathIndex struct {
	direct          map[Pair]bool
	groupsOf        map[string]map[string]bool // customer -> its customer groups
	membersOf       map[string]map[string]bool // customer group -> its users
	accountContacts map[Pair]bool              // customer side only
}

func newPathIndex() *pathIndex {
	return &pathIndex{direct: map[Pair]bool{}, groupsOf: map[string]map[string]bool{}, membersOf: map[string]map[string]bool{}, accountContacts: map[Pair]bool{}}
}

func addTo(m map[string]map[string]bool, k, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

// paths names every path from user to customer, after the delta d (nil: as read).
func (x *pathIndex) paths(user, customer string, d *delta) []string {
	if d != nil && (d.goneUsers[user] || d.goneCustomers[customer]) {
		return nil
	}
	var via []string
	if d.has(edge{relDirect, customer, user}, x.direct[Pair{user, customer}]) {
		via = append(via, viaDirect)
	}
	groups := x.groupsOf[customer]
	candidates := slices.Collect(maps.Keys(groups))
	if d != nil {
		for _, g := range d.joined[customer] {
			if !groups[g] {
				candidates = append(candidates, g)
			}
		}
	}
	sort.Strings(candidates)
	candidates = slices.Compact(candidates)
	for _, g := range candidates {
		if d.has(edge{relCustomerGroup, customer, g}, groups[g]) &&
			d.has(edge{relMember, g, user}, x.membersOf[g][user]) {
			via = append(via, viaCustomerGroup(g))
		}
	}
	return via
}

// loadPaths reads, at rev, the path edges around the given users or customers
// (per side), plus the other end of extraGroups (their members on the customer
// side, their customers on the user side) for groups a delta adds.
func (sn *snapshot) loadPaths(ctx context.Context, rev graph.Revision, sd side, ids []string, extraGroups []string) (*pathIndex, error) {
	x := newPathIndex()
	msp := sn.msp
	groups := map[string]bool{}
	for _, g := range extraGroups {
		groups[g] = true
	}
	if sd == customerSide {
		err := readEach(ctx, sn, rev, ids, func(c string) graph.Filter {
			return graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(msp, c).ID}
		}, func(c string, rels []graph.Relationship) {
			for _, r := range rels {
				to := localID(msp, r.Subject.ID)
				switch r.Relation {
				case relDirect:
					x.direct[Pair{to, c}] = true
				case relCustomerGroup:
					addTo(x.groupsOf, c, to)
					groups[to] = true
				case relAccountContact:
					x.accountContacts[Pair{to, c}] = true
				}
			}
		})
		if err != nil {
			return nil, err
		}
		err = readEach(ctx, sn, rev, slices.Sorted(maps.Keys(groups)), func(g string) graph.Filter {
			return graph.Filter{ResourceType: typeCustomerGroup, ResourceID: customerGroupObject(msp, g).ID, Relation: relMember}
		}, func(g string, rels []graph.Relationship) {
			for _, r := range rels {
				addTo(x.membersOf, g, localID(msp, r.Subject.ID))
			}
		})
		return x, err
	}

	type read struct {
		user     string
		relation string
	}
	var reads []read
	for _, u := range ids {
		reads = append(reads, read{u, relDirect}, read{u, relMember})
	}
	err := readEach(ctx, sn, rev, reads, func(rd read) graph.Filter {
		f := graph.Filter{ResourceType: typeCustomer, Relation: relDirect, SubjectType: typeUser, SubjectID: userObject(msp, rd.user).ID}
		if rd.relation == relMember {
			f.ResourceType, f.Relation = typeCustomerGroup, relMember
		}
		return f
	}, func(rd read, rels []graph.Relationship) {
		for _, r := range rels {
			from := localID(msp, r.Resource.ID)
			if rd.relation == relDirect {
				x.direct[Pair{rd.user, from}] = true
				continue
			}
			addTo(x.membersOf, from, rd.user)
			groups[from] = true
		}
	})
	if err != nil {
		return nil, err
	}
	err = readEach(ctx, sn, rev, slices.Sorted(maps.Keys(groups)), func(g string) graph.Filter {
		return graph.Filter{ResourceType: typeCustomer, Relation: relCustomerGroup, SubjectType: typeCustomerGroup, SubjectID: customerGroupObject(msp, g).ID}
	}, func(g string, rels []graph.Relationship) {
		for _, r := range rels {
			addTo(x.groupsOf, localID(msp, r.Resource.ID), g)
		}
	})
	return x, err
}

// loadPairs reads, at rev, what names every path of the given pairs: each
// customer's direct users and customer groups, and each user's customer
// groups. One read per distinct user and per distinct customer.
func (sn *snapshot) loadPairs(ctx context.Context, rev graph.Revision, pairs []Pair) (*pathIndex, error) {
	x := newPathIndex()
	users, customers := distinct(pairs)
	msp := sn.msp
	var filters []graph.Filter
	for _, c := range customers {
		filters = append(filters, graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(msp, c).ID})
	}
	for _, u := range users {
		filters = append(filters, graph.Filter{ResourceType: typeCustomerGroup, Relation: relMember, SubjectType: typeUser, SubjectID: userObject(msp, u).ID})
	}
	err := readEach(ctx, sn, rev, filters, func(f graph.Filter) graph.Filter { return f }, func(_ graph.Filter, rels []graph.Relationship) {
		for _, r := range rels {
			from, to := localID(msp, r.Resource.ID), localID(msp, r.Subject.ID)
			switch {
			case r.Resource.Type == typeCustomer && r.Relation == relDirect:
				x.direct[Pair{to, from}] = true
			case r.Resource.Type == typeCustomer && r.Relation == relCustomerGroup:
				addTo(x.groupsOf, from, to)
			case r.Resource.Type == typeCustomerGroup && r.Relation == relMember:
				addTo(x.membersOf, from, to)
			}
		}
	})
	return x, err
}
