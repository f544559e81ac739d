package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

func newExplainCommand() *cobra.Command {
	return questionCommand(&cobra.Command{
		Use:   "explain --msp MSP --user USER [--customer CUSTOMER] [--permission PERMISSION]",
		Short: "Explain a check: the paths that grant it as a tree, or what is missing",
		Long: `Ask a running mspauthz the check, then explain the answer with what the API can read.
Allowed: every granting path as a tree, from the user to the customer (a customer group,
a direct association, a security group and its role, a time-bound grant). Denied: what
was read — the user's customer groups and security groups, the customer's customer
groups and who reaches it through what (these two read at least as fresh as the check),
partner access — and what is missing, with the form that adds it. For scripts: mspauthz
check --json.

` + clientExitCodes,
		Example: `  mspauthz explain --msp acme --user alex --customer zylker
  mspauthz explain --msp acme --user dana --customer zylker`,
	}, func(w io.Writer, a *checked) error {
		fmt.Fprintln(w, a.q.verdict(a.ans))
		if a.ans.GetAllowed() {
			a.paths().write(w)
			return nil
		}
		return a.denial(w)
	})
}

// read gets one of the MSP's resources.
func (a *checked) read(out proto.Message, segments ...string) error {
	return a.c.ask(a.ctx, http.MethodGet, mspPath(a.q.msp, segments...), nil, nil, out)
}

// paths is the tree of the granting paths: the user at the root, each path
// a branch that ends at the resource.
func (a *checked) paths() *tree {
	root := &tree{label: a.q.subject()}
	for _, via := range a.ans.GetVia() {
		n := root
		for _, step := range a.path(via) {
			n = n.add(step)
		}
		n.add(a.q.resource())
	}
	return root
}

// path is the steps of one granting path from the user to the resource
// (the resource not included).
func (a *checked) path(via string) []string {
	kind, id, _ := strings.Cut(via, ":")
	switch kind {
	case "direct":
		return []string{"direct association (Edit Customer Preferences)"}
	case "customer_group":
		return []string{via + " (member)"}
	case "security_group":
		return []string{via + " (member" + a.securityGroup(id) + ")"}
	case "grant":
		var g pb.Grant
		if err := a.read(&g, "grants", id); err != nil {
			return []string{via + " (time-bound grant; not readable: " + err.Error() + ")"}
		}
		return []string{
			"security_group:" + g.GetSecurityGroupId() + " (member)",
			fmt.Sprintf("%s (time-bound grant of role %s, %s until %s)", via, g.GetRoleId(), g.GetStatus(), g.GetExpiresAt().AsTime().Format(time.RFC3339)),
		}
	case "end_customer_role":
		return []string{via + " (the user's role as one of the customer's own users)"}
	}
	return []string{via}
}

// securityGroup describes a security group's role and scope, after a "; ".
func (a *checked) securityGroup(id string) string {
	var sg pb.SecurityGroup
	if err := a.read(&sg, "securityGroups", id); err != nil {
		return "; not readable: " + err.Error()
	}
	return fmt.Sprintf("; role %s; scope: %s", sg.GetRoleId(), scope(sg.GetScope()))
}

// scope says which customers a security group's scope covers.
func scope(s *pb.Scope) string {
	switch {
	case s.GetAllCustomers():
		return "every customer"
	case s.GetAssociatedCustomers():
		return "each member's associated customers"
	}
	var parts []string
	if len(s.GetCustomers()) > 0 {
		parts = append(parts, "customers "+strings.Join(s.GetCustomers(), ", "))
	}
	if len(s.GetCustomerGroups()) > 0 {
		parts = append(parts, "customer groups "+strings.Join(s.GetCustomerGroups(), ", "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// denial prints what was read and what is missing.
func (a *checked) denial(w io.Writer) error {
	var user pb.User
	if err := a.read(&user, "users", a.q.user); err != nil {
		return err
	}
	if a.q.permission == "access" && a.q.customer != "" {
		return a.noPath(w, &user)
	}
	return a.noPermission(w, &user)
}

// noPath explains a denied customer access: no customer group of the user's
// holds the customer, and he is not associated directly.
func (a *checked) noPath(w io.Writer, user *pb.User) error {
	fresh := url.Values{"atLeastAsFresh": {a.ans.GetCheckedAt()}}
	var holders pb.ListCustomerCustomerGroupsResponse
	if err := a.c.list(a.ctx, mspPath(a.q.msp, "customers", a.q.customer, "customerGroups"), fresh, &holders); err != nil {
		return err
	}
	var reached pb.ListCustomerUsersResponse
	if err := a.c.list(a.ctx, mspPath(a.q.msp, "customers", a.q.customer, "users"), fresh, &reached); err != nil {
		return err
	}
	groups := make([]string, len(user.GetCustomerGroups()))
	for i, g := range user.GetCustomerGroups() {
		groups[i] = g.GetCustomerGroupId()
	}
	holding := make([]string, len(holders.GetCustomerGroups()))
	for i, g := range holders.GetCustomerGroups() {
		holding[i] = g.GetCustomerGroupId()
	}
	through := map[string][]string{} // who reaches the customer, by path
	for _, u := range reached.GetUsers() {
		for _, via := range u.GetVia() {
			through[via] = append(through[via], u.GetUserId())
		}
	}

	read := &tree{label: "what was read:"}
	read.add(a.q.subject() + "'s customer groups: " + listOrNone(groups))
	if c := user.GetSingleCustomerId(); c != "" {
		read.add(fmt.Sprintf("%s is a single-customer user, confined to customer:%s", a.q.subject(), c))
	}
	read.add(a.q.resource() + "'s customer groups: " + listOrNone(holding))
	who := read.add(fmt.Sprintf("%s is reached by %d users", a.q.resource(), len(reached.GetUsers())))
	for _, via := range slices.Sorted(maps.Keys(through)) {
		who.add(via + ": " + strings.Join(through[via], ", "))
	}
	read.write(w)

	missing := &tree{label: "missing, any one of:"}
	if len(holding) > 0 {
		missing.add(fmt.Sprintf("%s in customer_group:%s: Edit User (PUT %s)", a.q.subject(), strings.Join(holding, " or customer_group:"), mspPath(a.q.msp, "users", a.q.user, "customerGroups")))
	}
	for _, g := range groups {
		missing.add(fmt.Sprintf("%s in customer_group:%s: Edit Customer Group (PUT %s)", a.q.resource(), g, mspPath(a.q.msp, "customerGroups", g, "customers")))
	}
	missing.add(fmt.Sprintf("a direct association: Edit Customer Preferences (PUT %s)", mspPath(a.q.msp, "customers", a.q.customer, "preferences")))
	if c := user.GetSingleCustomerId(); c != "" {
		missing.add(fmt.Sprintf("first, while %s is confined to customer:%s, the forms refuse him other customers: delete his customer-specific security group, then assign a full-permission one", a.q.subject(), c))
	}
	missing.write(w)
	return nil
}

// noPermission explains a denied permission other than customer access:
// the user's security groups and their roles, whether he reaches the
// customer, and its partner access.
func (a *checked) noPermission(w io.Writer, user *pb.User) error {
	var catalog pb.ListPermissionsResponse
	if err := a.c.ask(a.ctx, http.MethodGet, "/v1/permissions", nil, nil, &catalog); err != nil {
		return err
	}
	for _, p := range catalog.GetPermissions() {
		if p.GetPermission() == a.q.permission {
			fmt.Fprintf(w, "%s: %s (%s level)\n", p.GetPermission(), p.GetDescription(), p.GetLevel())
		}
	}
	read := &tree{label: "what was read:"}
	groups := read.add(a.q.subject() + "'s security groups")
	if len(user.GetSecurityGroups()) == 0 {
		groups.label += ": none"
	}
	for _, m := range user.GetSecurityGroups() {
		groups.add(a.holdsPermission(m.GetSecurityGroupId()))
	}
	if a.q.customer != "" {
		access, err := a.q.check(a.ctx, a.c, "access")
		if err != nil {
			return err
		}
		reaches := "no"
		if access.GetAllowed() {
			reaches = "yes, via " + strings.Join(access.GetVia(), ", ")
		}
		read.add(fmt.Sprintf("%s reaches %s: %s", a.q.subject(), a.q.resource(), reaches))
		var partner pb.PartnerAccess
		if err := a.read(&partner, "customers", a.q.customer, "partnerAccess"); err != nil {
			read.add("partner access of " + a.q.resource() + ": not readable: " + err.Error())
		} else {
			read.add("partner access of " + a.q.resource() + ": " + onOff(partner.GetEnabled()))
		}
	}
	read.add("not read here: time-bound grants and end-customer roles")
	read.write(w)
	missing := &tree{label: "missing:"}
	missing.add(fmt.Sprintf("a security group of %s's whose role holds %s and whose scope covers %s (PUT %s)",
		a.q.subject(), a.q.permission, a.q.resource(), mspPath(a.q.msp, "users", a.q.user, "securityGroups")))
	missing.write(w)
	return nil
}

// holdsPermission describes a security group: its role, whether the role holds the
// permission, and its scope.
func (a *checked) holdsPermission(id string) string {
	var sg pb.SecurityGroup
	if err := a.read(&sg, "securityGroups", id); err != nil {
		return "security_group:" + id + ": not readable: " + err.Error()
	}
	var role pb.Role
	holds := "whose permissions are not readable"
	if err := a.read(&role, "roles", sg.GetRoleId()); err == nil {
		holds = "which does not hold " + a.q.permission
		if slices.Contains(role.GetPermissions(), a.q.permission) {
			holds = "which holds " + a.q.permission
		}
	}
	return fmt.Sprintf("security_group:%s: role %s, %s; scope: %s", id, sg.GetRoleId(), holds, scope(sg.GetScope()))
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// tree is a line of an explanation with the lines under it.
type tree struct {
	label    string
	children []*tree
}

// add appends a line under t and returns it.
func (t *tree) add(label string) *tree {
	c := &tree{label: label}
	t.children = append(t.children, c)
	return c
}

// write prints t's label, then the lines under it with their branches.
func (t *tree) write(w io.Writer) {
	fmt.Fprintln(w, t.label)
	t.writeChildren(w, "")
}

func (t *tree) writeChildren(w io.Writer, indent string) {
	for i, c := range t.children {
		branch, under := "├── ", "│   "
		if i == len(t.children)-1 {
			branch, under = "└── ", "    "
		}
		fmt.Fprintln(w, indent+branch+c.label)
		c.writeChildren(w, indent+under)
	}
}
