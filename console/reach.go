package console

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// maxDrawn is the most users (or customers) a picture draws one by one;
// past it, each customer group's are drawn as one node with their count,
// expanded on demand.
const maxDrawn = 40

// focus is what a picture draws in full past maxDrawn: the customer groups
// expanded and the users or customers whose id or name holds Find.
type focus struct {
	Expand map[string]bool
	Find   string
	// Base is the page's path, for the links that expand a group.
	Base string
}

func focusOf(q url.Values, base string) focus {
	f := focus{Expand: map[string]bool{}, Find: strings.TrimSpace(q.Get("find")), Base: base}
	for _, g := range q["expand"] {
		f.Expand[g] = true
	}
	return f
}

// expandHref is the link that expands group g too.
func (f focus) expandHref(g string) string {
	q := url.Values{}
	for e := range f.Expand {
		q.Add("expand", e)
	}
	q.Add("expand", g)
	if f.Find != "" {
		q.Set("find", f.Find)
	}
	return f.Base + "?" + q.Encode()
}

func (f focus) found(id, name string) bool {
	if f.Find == "" {
		return false
	}
	find := strings.ToLower(f.Find)
	return strings.Contains(strings.ToLower(id), find) || strings.Contains(strings.ToLower(name), find)
}

// change is what a form's selection would change, drawn on a picture: the
// links it cuts and adds (a customer group's, "customer_group:<id>"; a
// direct association's, "direct:<user>"; a customer's in a group,
// "customer:<id>"), and who loses or gains.
type change struct {
	cut, added map[string]bool
	// members are the users (or customers) of the customer groups a save adds.
	members         map[string][]string
	losers, gainers map[string]bool
}

func newChange() *change {
	return &change{cut: map[string]bool{}, added: map[string]bool{}, members: map[string][]string{}, losers: map[string]bool{}, gainers: map[string]bool{}}
}

// link is the state of the link of key on a picture with ch.
func (ch *change) link(key string) string {
	switch {
	case ch == nil:
		return kept
	case ch.cut[key]:
		return cut
	case ch.added[key]:
		return added
	}
	return kept
}

func (ch *change) adds(key string) bool { return ch != nil && ch.added[key] }

// reported marks who a save's report says loses or gains.
func (ch *change) reported(rep *pb.SaveReport, key func(*pb.Pair) string) {
	for _, p := range rep.GetDissociated() {
		ch.losers[key(p)] = true
	}
	for _, p := range rep.GetAssociated() {
		ch.gainers[key(p)] = true
	}
}

func state(ch *change, key string) string {
	switch {
	case ch == nil:
		return ""
	case ch.losers[key]:
		return "loses"
	case ch.gainers[key]:
		return "gains"
	}
	return ""
}

// byPath groups what reach lists (users who reach a customer, or customers
// a user reaches) by their paths: by customer group, and those associated
// directly.
func byPath[T any](reach []T, id func(T) string, via func(T) []string) (byGroup map[string][]string, direct []string) {
	byGroup = map[string][]string{}
	for _, r := range reach {
		for _, v := range via(r) {
			if g := groupOf(v); g != "" {
				byGroup[g] = append(byGroup[g], id(r))
			} else if v == "direct" {
				direct = append(direct, id(r))
			}
		}
	}
	return byGroup, direct
}

// shown are those of ids a picture past maxDrawn still draws one by one:
// those the focus finds, and those a change touches.
func (f focus) shown(ids []string, name func(string) string, ch *change) []string {
	var out []string
	for _, id := range ids {
		if f.found(id, name(id)) || state(ch, id) != "" {
			out = append(out, id)
		}
	}
	return out
}

// customerPicture draws who reaches a customer and through which paths:
// users, then their customer groups (or a direct association), then the
// customer; with ch, what a save would change.
func customerPicture(customer *pb.Customer, reach []*pb.UserAccess, n *names, f focus, ch *change) *picture {
	p := newPicture(3)
	p.Change = ch != nil
	target := p.node(2, "customer:"+customer.GetCustomerId(), customer.GetDisplayName(), "customer")
	byGroup, direct := byPath(reach, (*pb.UserAccess).GetUserId, (*pb.UserAccess).GetVia)
	if ch != nil {
		for g, members := range ch.members {
			byGroup[g] = dedupe(append(byGroup[g], members...))
		}
		for key := range ch.added {
			if u, ok := strings.CutPrefix(key, "direct:"); ok {
				direct = dedupe(append(direct, u))
			}
		}
	}
	aggregate := len(reach) > maxDrawn
	user := func(id string) *node {
		u := p.node(0, "user:"+id, n.user(id), "user")
		u.State, u.Href = state(ch, id), "/users/"+url.PathEscape(id)
		return u
	}
	for _, g := range slices.Sorted(mapKeys(byGroup)) {
		gn := p.node(1, "customer_group:"+g, n.group(g), "customer_group")
		gn.Href = "/customerGroups/" + url.PathEscape(g)
		p.join(gn, target, ch.link("customer_group:"+g))
		members := byGroup[g]
		newMembers := ch.link("customer_group:" + g)
		if newMembers == cut {
			newMembers = kept
		}
		if aggregate && !f.Expand[g] {
			shown := f.shown(members, n.user, ch)
			if hidden := len(members) - len(shown); hidden > 0 {
				a := p.node(0, "aggregate:"+g, fmt.Sprintf("%d users of %s", hidden, n.group(g)), "aggregate")
				a.Href, a.Title = f.expandHref(g), "show them one by one"
				p.join(a, gn, newMembers)
			}
			members = shown
		}
		for _, id := range members {
			p.join(user(id), gn, newMembers)
		}
	}
	if len(direct) > 0 {
		dn := p.node(1, "direct", "associated directly", "direct")
		linked := false
		for _, id := range direct {
			if aggregate && !(f.found(id, n.user(id)) || state(ch, id) != "" || len(direct) <= maxDrawn) {
				continue
			}
			p.join(user(id), dn, ch.link("direct:"+id))
			linked = linked || ch.link("direct:"+id) != cut
		}
		state := kept
		if !linked {
			state = cut
		}
		p.join(dn, target, state)
	}
	p.Caption = fmt.Sprintf("%d users reach %s", len(reach), customer.GetDisplayName())
	if aggregate {
		p.Caption += fmt.Sprintf(": past %d, each customer group's users are one node (select it to show them, or find a user)", maxDrawn)
	}
	p.layout()
	return p
}

// userPicture draws what a user reaches and through which paths: the user,
// his customer groups (or a direct association), then the customers; with
// ch, what a save of his groups would change.
func userPicture(user *pb.User, reach []*pb.CustomerAccess, n *names, f focus, ch *change) *picture {
	p := newPicture(3)
	p.Change = ch != nil
	root := p.node(0, "user:"+user.GetUserId(), user.GetDisplayName(), "user")
	byGroup, direct := byPath(reach, (*pb.CustomerAccess).GetCustomerId, (*pb.CustomerAccess).GetVia)
	if ch != nil {
		for g, customers := range ch.members {
			byGroup[g] = dedupe(append(byGroup[g], customers...))
		}
	}
	aggregate := len(reach) > maxDrawn
	customer := func(id string) *node {
		c := p.node(2, "customer:"+id, n.customer(id), "customer")
		c.State, c.Href = state(ch, id), customerPath(id)
		return c
	}
	for _, g := range slices.Sorted(mapKeys(byGroup)) {
		gn := p.node(1, "customer_group:"+g, n.group(g), "customer_group")
		gn.Href = "/customerGroups/" + url.PathEscape(g)
		p.join(root, gn, ch.link("customer_group:"+g))
		customers := byGroup[g]
		adding := kept
		if ch.adds("customer_group:" + g) {
			adding = added
		}
		if aggregate && !f.Expand[g] {
			shown := f.shown(customers, n.customer, ch)
			if hidden := len(customers) - len(shown); hidden > 0 {
				a := p.node(2, "aggregate:"+g, fmt.Sprintf("%d customers of %s", hidden, n.group(g)), "aggregate")
				a.Href, a.Title = f.expandHref(g), "show them one by one"
				p.join(gn, a, adding)
			}
			customers = shown
		}
		for _, id := range customers {
			p.join(gn, customer(id), adding)
		}
	}
	if len(direct) > 0 {
		dn := p.node(1, "direct", "associated directly", "direct")
		p.join(root, dn, kept)
		for _, id := range direct {
			if aggregate && len(direct) > maxDrawn && !f.found(id, n.customer(id)) {
				continue
			}
			p.join(dn, customer(id), kept)
		}
	}
	p.Caption = fmt.Sprintf("%s reaches %d customers", user.GetDisplayName(), len(reach))
	if aggregate {
		p.Caption += fmt.Sprintf(": past %d, each customer group's customers are one node (select it to show them, or find a customer)", maxDrawn)
	}
	p.layout()
	return p
}

// groupPicture draws a customer group's members, the group and its
// customers; with ch, the customers a save of the group would cut and add.
func groupPicture(g *pb.CustomerGroup, customers []string, n *names, ch *change) *picture {
	p := newPicture(3)
	p.Change = ch != nil
	gn := p.node(1, "customer_group:"+g.GetCustomerGroupId(), g.GetDisplayName(), "customer_group")
	members := g.GetMembers()
	if len(members) > maxDrawn {
		a := p.node(0, "aggregate:members", fmt.Sprintf("%d members", len(members)), "aggregate")
		p.join(a, gn, kept)
	} else {
		for _, m := range members {
			u := p.node(0, "user:"+m.GetUserId(), n.user(m.GetUserId()), "user")
			u.Href = "/users/" + url.PathEscape(m.GetUserId())
			p.join(u, gn, kept)
		}
	}
	shown := customers
	if len(shown) > maxDrawn {
		var changed []string
		for _, id := range shown {
			if ch.link("customer:"+id) != kept {
				changed = append(changed, id)
			}
		}
		a := p.node(2, "aggregate:customers", fmt.Sprintf("%d customers unchanged", len(shown)-len(changed)), "aggregate")
		p.join(gn, a, kept)
		shown = changed
	}
	for _, id := range shown {
		c := p.node(2, "customer:"+id, n.customer(id), "customer")
		c.Href, c.State = customerPath(id), state(ch, id)
		p.join(gn, c, ch.link("customer:"+id))
	}
	p.Caption = fmt.Sprintf("%s: %d members, %d customers", g.GetDisplayName(), len(members), len(g.GetCustomers()))
	p.layout()
	return p
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// membersOrNone are ch's members, or none without a change.
func (ch *change) membersOrNone() map[string][]string {
	if ch == nil {
		return nil
	}
	return ch.members
}
