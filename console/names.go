package console

import (
	"strings"
	"sync"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// names are the display names of a page's users, customers and customer
// groups, as the API answered them; an id it did not name stands for itself.
type names struct {
	mu                       sync.Mutex
	users, customers, groups map[string]string
}

func newNames() *names {
	return &names{users: map[string]string{}, customers: map[string]string{}, groups: map[string]string{}}
}

func (n *names) addUsers(us []*pb.User) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, u := range us {
		n.users[u.GetUserId()] = u.GetDisplayName()
	}
}

func (n *names) addCustomers(cs []*pb.Customer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range cs {
		n.customers[c.GetCustomerId()] = c.GetDisplayName()
	}
}

func (n *names) addGroups(gs []*pb.CustomerGroup) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range gs {
		n.groups[g.GetCustomerGroupId()] = g.GetDisplayName()
	}
}

// missing are the distinct ids that m does not name yet.
func (n *names) missing(m map[string]string, ids []string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, id := range dedupe(ids) {
		if _, ok := m[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

func named(m map[string]string, id string) string {
	if name := m[id]; name != "" {
		return name
	}
	return id
}

func (n *names) user(id string) string { n.mu.Lock(); defer n.mu.Unlock(); return named(n.users, id) }
func (n *names) customer(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return named(n.customers, id)
}
func (n *names) group(id string) string { n.mu.Lock(); defer n.mu.Unlock(); return named(n.groups, id) }

// via says a path for people: "Site24x7", "a direct association".
func (n *names) via(v string) string {
	kind, id, _ := strings.Cut(v, ":")
	switch kind {
	case "direct":
		return "a direct association"
	case "customer_group":
		return n.group(id)
	case "security_group":
		return "security group " + id
	case "grant":
		return "grant " + id
	}
	return v
}

// vias says paths for people: "Site24x7 and Zoho".
func (n *names) vias(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = n.via(v)
	}
	return listed(out, "no path")
}

// listed says items for people: "A, B and C", or none without any.
func listed(items []string, none string) string {
	switch len(items) {
	case 0:
		return none
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
