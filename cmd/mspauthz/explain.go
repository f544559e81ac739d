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
was read — the user's customer groups and security groups, who reaches the customer and
through which groups (read at least as fresh as the check), partner access — and what
is missing, with the form that adds it. For scripts: mspauthz check --json.

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
func (e *checked) read(out proto.Message, segments ...string) error {
	return e.c.ask(e.ctx, http.MethodGet, mspPath(e.q.msp, segments...), nil, nil, out)
}

// paths is the tree of the granting paths: the user at the root, each path
// a branch that ends at the resource.
func (e *checked) paths() *tree {
	root := &tree{label: e.q.subject()}
	for _, via := range e.ans.GetVia() {
		n := root
		for _, step := range e.path(via) {
			n = n.add(step)
		}
		n.add(e.q.resource())
	}
	return root
}

// path is the steps of one granting path from the user to the resource
// (the resource not included).
func (e *checked) path(via string) []string {
	kind, id, _ := strings.Cut(via, ":")
	switch kind {
	case "direct":
		return []string{"direct association (Edit Customer Preferences)"}
	case "customer_group":
		return []string{via + " (member)"}
	case "security_group":
		return []string{via + " (member" + e.securityGroup(id) + ")"}
	case "grant":
		var g pb.Grant
		if err := e.read(&g, "grants", id); err != nil {
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
func (e *checked) securityGroup(id string) string {
	var sg pb.SecurityGroup
	if err := e.read(&sg, "securityGroups", id); err != nil {
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
func (e *checked) denial(w io.Writer) error {
	var user pb.User
	if err := e.read(&user, "users", e.q.user); err != nil {
		return err
	}
	if e.q.permission == "access" && e.q.customer != "" {
		return e.noPath(w, &user)
	}
	return e.noPermission(w, &user)
}

// noPath explains a denied customer access: no customer group of the user's
// holds the customer, and he is not associated directly.
func (e *checked) noPath(w io.Writer, user *pb.User) error {
	var reached pb.ListCustomerUsersResponse
	if err := e.c.list(e.ctx, mspPath(e.q.msp, "customers", e.q.customer, "users"), url.Values{"atLeastAsFresh": {e.ans.GetCheckedAt()}}, &reached); err != nil {
		return err
	}
	groups := make([]string, len(user.GetCustomerGroups()))
	for i, g := range user.GetCustomerGroups() {
		groups[i] = g.GetCustomerGroupId()
	}
	// Who reaches the customer through what: the customer groups that hold it, as far as their members show them.
	through := map[string][]string{}
	for _, u := range reached.GetUsers() {
		for _, via := range u.GetVia() {
			through[via] = append(through[via], u.GetUserId())
		}
	}
	holders := []string{}
	for via := range through {
		if strings.HasPrefix(via, "customer_group:") {
			holders = append(holders, via)
		}
	}
	slices.Sort(holders)

	read := &tree{label: "what was read:"}
	read.add(e.q.subject() + "'s customer groups: " + listOrNone(groups))
	if c := user.GetSingleCustomerId(); c != "" {
		read.add(fmt.Sprintf("%s is a single-customer user, confined to customer:%s", e.q.subject(), c))
	}
	who := read.add(fmt.Sprintf("%s is reached by %d users", e.q.resource(), len(reached.GetUsers())))
	for _, via := range slices.Sorted(maps.Keys(through)) {
		who.add(via + ": " + strings.Join(through[via], ", "))
	}
	read.add("a customer group that holds " + e.q.resource() + " shows here only through its members: the API lists a customer's users, not its groups")
	read.write(w)

	missing := &tree{label: "missing, any one of:"}
	if len(holders) > 0 {
		missing.add(fmt.Sprintf("%s in %s: Edit User (PUT %s)", e.q.subject(), strings.Join(holders, " or "), mspPath(e.q.msp, "users", e.q.user, "customerGroups")))
	}
	if len(groups) > 0 {
		missing.add(fmt.Sprintf("%s in customer_group:%s: Edit Customer Group (PUT %s)", e.q.resource(), strings.Join(groups, " or customer_group:"), mspPath(e.q.msp, "customerGroups", "{group}", "customers")))
	}
	missing.add(fmt.Sprintf("a direct association: Edit Customer Preferences (PUT %s)", mspPath(e.q.msp, "customers", e.q.customer, "preferences")))
	if c := user.GetSingleCustomerId(); c != "" {
		missing.add(fmt.Sprintf("first, while %s is confined to customer:%s, the forms refuse him other customers: delete his customer-specific security group, then assign a full-permission one", e.q.subject(), c))
	}
	missing.write(w)
	return nil
}

// noPermission explains a denied permission other than customer access:
// the user's security groups and their roles, whether he reaches the
// customer, and its partner access.
func (e *checked) noPermission(w io.Writer, user *pb.User) error {
	var catalog pb.ListPermissionsResponse
	if err := e.c.ask(e.ctx, http.MethodGet, "/v1/permissions", nil, nil, &catalog); err != nil {
		return err
	}
	for _, p := range catalog.GetPermissions() {
		if p.GetPermission() == e.q.permission {
			fmt.Fprintf(w, "%s: %s (%s level)\n", p.GetPermission(), p.GetDescription(), p.GetLevel())
		}
	}
	read := &tree{label: "what was read:"}
	groups := read.add(e.q.subject() + "'s security groups")
	if len(user.GetSecurityGroups()) == 0 {
		groups.label += ": none"
	}
	for _, m := range user.GetSecurityGroups() {
		groups.add(e.grantsOf(m.GetSecurityGroupId()))
	}
	if e.q.customer != "" {
		access, err := e.q.check(e.ctx, e.c, "access")
		if err != nil {
			return err
		}
		reaches := "no"
		if access.GetAllowed() {
			reaches = "yes, via " + strings.Join(access.GetVia(), ", ")
		}
		read.add(fmt.Sprintf("%s reaches %s: %s", e.q.subject(), e.q.resource(), reaches))
		var partner pb.PartnerAccess
		if err := e.read(&partner, "customers", e.q.customer, "partnerAccess"); err != nil {
			read.add("partner access of " + e.q.resource() + ": not readable: " + err.Error())
		} else {
			read.add("partner access of " + e.q.resource() + ": " + onOff(partner.GetEnabled()))
		}
	}
	read.add("not read here: time-bound grants and end-customer roles")
	read.write(w)
	missing := &tree{label: "missing:"}
	missing.add(fmt.Sprintf("a security group of %s's whose role holds %s and whose scope covers %s (PUT %s)",
		e.q.subject(), e.q.permission, e.q.resource(), mspPath(e.q.msp, "users", e.q.user, "securityGroups")))
	missing.write(w)
	return nil
}

// grantsOf describes a security group: its role, whether the role holds the
// permission, and its scope.
func (e *checked) grantsOf(id string) string {
	var sg pb.SecurityGroup
	if err := e.read(&sg, "securityGroups", id); err != nil {
		return "security_group:" + id + ": not readable: " + err.Error()
	}
	var role pb.Role
	holds := "whose permissions are not readable"
	if err := e.read(&role, "roles", sg.GetRoleId()); err == nil {
		holds = "which does not hold " + e.q.permission
		if slices.Contains(role.GetPermissions(), e.q.permission) {
			holds = "which holds " + e.q.permission
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
