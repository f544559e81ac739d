package console

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// securityGroupsPage lists the MSP's security groups (each a role bound to a
// scope of customers) and holds the form that creates one.
type securityGroupsPage struct {
	frame
	Groups []securityGroupRow
	Create *securityGroupForm
	Notice string
}

// securityGroupRow is one security group as the list says it.
type securityGroupRow struct {
	ID, Name, RoleID, Role, Scope, Kind string
	Members                             int
}

// securityGroupForm is the New security group form: as posted, with the
// options of its choices and the API's refusal of it.
type securityGroupForm struct {
	ID, Name, Role, Scope string
	Roles                 []*pb.Role
	Customers, Groups     []row
	Members               []row
	Refusal               string
}

// Scope kinds of the form's radio buttons.
const (
	scopeAll        = "all"
	scopeAssociated = "associated"
	scopeChosen     = "chosen"
)

func (s *Server) securityGroups(c *call) error {
	return c.securityGroupsPage(http.StatusOK, &securityGroupForm{Scope: scopeAssociated}, nil)
}

func (c *call) securityGroupsPage(code int, form *securityGroupForm, sel *selection) error {
	// The groups first: the API's refusal of them is the page's.
	groups, err := c.s.roles.ListSecurityGroups(c.ctx, &pb.ListSecurityGroupsRequest{MspId: c.msp()})
	if err != nil {
		return err
	}
	var roles *pb.ListRolesResponse
	var customers []*pb.Customer
	var cgroups []*pb.CustomerGroup
	var users []*pb.User
	err = all(func() (err error) {
		roles, err = c.s.roles.ListRoles(c.ctx, &pb.ListRolesRequest{MspId: c.msp()})
		return err
	}, func() (err error) {
		customers, _, err = c.searchCustomers("", "", maxOffered)
		return err
	}, func() (err error) {
		cgroups, _, err = c.offeredGroups("", maxOffered)
		return err
	}, func() (err error) {
		users, _, err = c.offeredUsers("", maxOffered)
		return err
	})
	if err != nil {
		return err
	}
	n := newNames()
	n.addCustomers(customers)
	n.addGroups(cgroups)
	var scoped []string
	var scopedGroups []string
	for _, g := range groups.GetSecurityGroups() {
		scoped = append(scoped, g.GetScope().GetCustomers()...)
		scopedGroups = append(scopedGroups, g.GetScope().GetCustomerGroups()...)
	}
	if err := c.nameCustomers(n, scoped); err != nil {
		return err
	}
	if err := c.nameGroups(n, scopedGroups); err != nil {
		return err
	}
	roleNames := map[string]string{}
	for _, r := range roles.GetRoles() {
		roleNames[r.GetRoleId()] = r.GetDisplayName()
	}
	page := securityGroupsPage{frame: c.frame("Security groups", "securityGroups"), Create: form, Notice: notices[c.done()]}
	for _, g := range groups.GetSecurityGroups() {
		page.Groups = append(page.Groups, securityGroupRow{ID: g.GetSecurityGroupId(), Name: g.GetDisplayName(), RoleID: g.GetRoleId(), Role: named(roleNames, g.GetRoleId()),
			Scope: scopeText(g.GetScope(), n), Members: len(g.GetMembers()), Kind: securityGroupKind(g)})
	}
	slices.SortStableFunc(page.Groups, func(a, b securityGroupRow) int { return strings.Compare(a.Name, b.Name) })
	form.Roles = roles.GetRoles()
	chosen := func(field string) []string {
		if sel == nil {
			return nil
		}
		return sel.Values[field]
	}
	form.Customers = withSelection(rowsOfCustomers(customers), nil, chosen("customers"), n.customer)
	form.Groups = withSelection(rowsOfGroups(cgroups), nil, chosen("customerGroups"), n.group)
	form.Members = withSelection(rowsOfUsers(users), nil, chosen("members"), n.user)
	c.render(code, "securityGroups", page)
	return nil
}

// securityGroupKind says what sets a group apart: built in, customer-specific, synced.
func securityGroupKind(g *pb.SecurityGroup) string {
	switch {
	case g.GetBuiltIn():
		return "built in"
	case g.GetSingleCustomerUserId() != "":
		return "customer-specific to " + g.GetSingleCustomerUserId()
	case g.GetOrigin() != "" && g.GetOrigin() != "local":
		return "synced from " + g.GetOrigin()
	}
	return ""
}

// scopeText says a scope for people: "every customer", "Zylker Corp and
// the customers of Zoho".
func scopeText(s *pb.Scope, n *names) string {
	switch {
	case s.GetAllCustomers():
		return "every customer"
	case s.GetAssociatedCustomers():
		return "each member's associated customers"
	}
	var parts []string
	for _, c := range s.GetCustomers() {
		parts = append(parts, n.customer(c))
	}
	for _, g := range s.GetCustomerGroups() {
		parts = append(parts, "the customers of "+n.group(g))
	}
	return listed(parts, "no customer")
}

// createSecurityGroup binds the chosen role to the chosen scope; the API
// refuses a scope that cannot hold one of the role's permissions, and says
// why, beside the form as posted.
func (s *Server) createSecurityGroup(c *call) error {
	sel, err := selectionOf(c.r, "customers", "customerGroups", "members")
	if err != nil {
		return err
	}
	f := c.r.PostForm
	form := &securityGroupForm{ID: strings.TrimSpace(f.Get("securityGroupId")), Name: strings.TrimSpace(f.Get("displayName")), Role: f.Get("roleId"), Scope: f.Get("scope")}
	scope := &pb.Scope{AllCustomers: form.Scope == scopeAll, AssociatedCustomers: form.Scope == scopeAssociated}
	if form.Scope == scopeChosen {
		scope.Customers, scope.CustomerGroups = sel.Values["customers"], sel.Values["customerGroups"]
	}
	_, err = s.roles.CreateSecurityGroup(c.ctx, &pb.CreateSecurityGroupRequest{MspId: c.msp(), SecurityGroupId: form.ID, DisplayName: form.Name, RoleId: form.Role, Scope: scope, Members: sel.Values["members"]})
	if err != nil {
		return c.refusedWith(err, func(msg string) error {
			form.Refusal = msg
			return c.securityGroupsPage(http.StatusBadRequest, form, &sel)
		})
	}
	c.seeOther("/securityGroups/"+url.PathEscape(form.ID), "created")
	return nil
}

// securityGroupPage is one security group: what it grants, where, to whom
// (its picture), and its members as a form.
type securityGroupPage struct {
	frame
	Group *pb.SecurityGroup
	Role  *pb.Role
	Scope string
	Kind  string
	// Whom counts its members: "1 member".
	Whom    string
	Picture *picture
	// Members is the form of its members.
	Members *formView
	Notice  string
	Refusal string
}

func (s *Server) securityGroup(c *call) error {
	return c.securityGroupPage(http.StatusOK, nil, "")
}

func (c *call) securityGroupPage(code int, sel *selection, refusal string) error {
	id := c.r.PathValue("group")
	g, err := c.s.roles.GetSecurityGroup(c.ctx, &pb.GetSecurityGroupRequest{MspId: c.msp(), SecurityGroupId: id})
	if err != nil {
		return err
	}
	var role *pb.Role
	var users []*pb.User
	var more bool
	err = all(func() (err error) {
		role, err = c.s.roles.GetRole(c.ctx, &pb.GetRoleRequest{MspId: c.msp(), RoleId: g.GetRoleId()})
		return err
	}, func() (err error) {
		users, more, err = c.offeredUsers("", maxOffered)
		return err
	})
	if err != nil {
		return err
	}
	n := newNames()
	n.addUsers(users)
	// The customer groups of its scope with their customers: where it grants.
	cgroups, err := c.fullGroups(g.GetScope().GetCustomerGroups())
	if err != nil {
		return err
	}
	customers := slices.Clone(g.GetScope().GetCustomers())
	for _, cg := range cgroups {
		customers = append(customers, cg.GetCustomers()...)
	}
	n.addGroups(slices.Collect(maps.Values(cgroups)))
	if err := all(func() error { return c.nameUsers(n, g.GetMembers()) },
		func() error { return c.nameCustomers(n, customers) },
		func() error { return c.nameGroups(n, g.GetScope().GetCustomerGroups()) }); err != nil {
		return err
	}
	chosen := g.GetMembers()
	if sel != nil {
		chosen = sel.Values["users"]
	}
	at := "/securityGroups/" + url.PathEscape(id)
	page := securityGroupPage{frame: c.frame(g.GetDisplayName(), "securityGroups"), Group: g, Role: role, Scope: scopeText(g.GetScope(), n), Kind: securityGroupKind(g),
		Whom: count(len(g.GetMembers()), "member", "members"), Picture: securityGroupPicture(g, role, cgroups, n), Notice: notices[c.done()], Refusal: refusal,
		Members: &formView{Action: at + "/members", Choices: []choice{{Legend: "Members", Field: "users", Rows: withSelection(rowsOfUsers(users), g.GetMembers(), chosen, n.user),
			Find: finder(more, at, "users"), What: "users"}}}}
	c.render(code, "securityGroup", page)
	return nil
}

// securityGroupPicture draws what a group grants, where: its members, the
// group with its role, and its scope (the customers and customer groups it
// names, each group with its customers of cgroups; or every customer, or
// each member's own).
func securityGroupPicture(g *pb.SecurityGroup, role *pb.Role, cgroups map[string]*pb.CustomerGroup, n *names) *picture {
	s := g.GetScope()
	layers := 3
	if len(s.GetCustomerGroups()) > 0 {
		layers = 4 // the groups' customers
	}
	p := newPicture(layers)
	sg := p.node(1, "security_group:"+g.GetSecurityGroupId(), g.GetDisplayName()+" · "+role.GetDisplayName(), "security_group")
	sg.Title = fmt.Sprintf("%s grants %d permissions of %s", g.GetDisplayName(), len(role.GetPermissions()), role.GetDisplayName())
	members := g.GetMembers()
	if len(members) > maxDrawn {
		p.join(p.node(0, "aggregate:members", fmt.Sprintf("%d members", len(members)), "aggregate"), sg, kept)
	} else {
		for _, m := range members {
			u := p.node(0, "user:"+m, n.user(m), "user")
			u.Href = "/users/" + url.PathEscape(m)
			p.join(u, sg, kept)
		}
	}
	switch {
	case s.GetAllCustomers():
		p.join(sg, p.node(2, "scope:all", "every customer", "aggregate"), kept)
	case s.GetAssociatedCustomers():
		p.join(sg, p.node(2, "scope:associated", "each member's own customers", "aggregate"), kept)
	}
	for _, cg := range s.GetCustomerGroups() {
		x := p.node(2, "customer_group:"+cg, n.group(cg), "customer_group")
		x.Href = "/customerGroups/" + url.PathEscape(cg)
		p.join(sg, x, kept)
		customers := cgroups[cg].GetCustomers()
		if len(customers) > maxDrawn {
			p.join(x, p.node(3, "aggregate:"+cg, fmt.Sprintf("%d customers", len(customers)), "aggregate"), kept)
			continue
		}
		for _, cu := range customers {
			y := p.node(3, "customer:"+cu, n.customer(cu), "customer")
			y.Href = customerPath(cu)
			p.join(x, y, kept)
		}
	}
	for _, cu := range s.GetCustomers() {
		x := p.node(2, "customer:"+cu, n.customer(cu), "customer")
		x.Href = customerPath(cu)
		p.join(sg, x, kept)
	}
	p.Caption = fmt.Sprintf("%s grants %s's %d permissions to %s on %s", g.GetDisplayName(), role.GetDisplayName(), len(role.GetPermissions()), count(len(members), "member", "members"), scopeText(s, n))
	p.layout()
	return p
}

// setSecurityGroupMembers saves the group's members as the form selects them.
func (s *Server) setSecurityGroupMembers(c *call) error {
	sel, err := selectionOf(c.r, "users")
	if err != nil {
		return err
	}
	_, err = s.roles.SetSecurityGroupMembers(c.ctx, &pb.SetSecurityGroupMembersRequest{MspId: c.msp(), SecurityGroupId: c.r.PathValue("group"), Members: sel.Values["users"], AllowEmpty: sel.Posted})
	if err != nil {
		return c.refusedWith(err, func(msg string) error { return c.securityGroupPage(http.StatusBadRequest, &sel, msg) })
	}
	c.seeOther("/securityGroups/"+url.PathEscape(c.r.PathValue("group")), "members")
	return nil
}

// deleteSecurityGroup deletes the group: its members lose what it granted.
func (s *Server) deleteSecurityGroup(c *call) error {
	_, err := s.roles.DeleteSecurityGroup(c.ctx, &pb.DeleteSecurityGroupRequest{MspId: c.msp(), SecurityGroupId: c.r.PathValue("group")})
	if err != nil {
		return c.refusedWith(err, func(msg string) error { return c.securityGroupPage(http.StatusBadRequest, nil, msg) })
	}
	c.seeOther("/securityGroups", "deleted")
	return nil
}
