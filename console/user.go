package console

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// usersPage lists the MSP's users, and holds the Add User form.
type usersPage struct {
	frame
	Rows   []row
	Add    *addUserForm
	Notice string
}

// addUserForm is Add User: a user, and with "Put in a Customer-Specific
// Security Group" (seed 004) the customer he is confined to and the
// permissions of the group made for him there; as posted, with the API's
// refusal.
type addUserForm struct {
	ID, Name, Customer string
	Single             bool
	// chosen are the permissions ticked.
	chosen      []string
	Customers   []row
	Permissions []permissionRow
	Refusal     string
}

func (s *Server) users(c *call) error {
	return c.usersPage(http.StatusOK, nil)
}

// usersPage draws the users and Add User, as posted (add) or fresh.
func (c *call) usersPage(code int, add *addUserForm) error {
	var users []*pb.User
	var catalog *pb.ListPermissionsResponse
	var customers []*pb.Customer
	err := all(func() (err error) {
		users, err = c.allUsers(pb.View_FULL)
		return err
	}, func() (err error) {
		catalog, err = c.s.roles.ListPermissions(c.ctx, &pb.ListPermissionsRequest{})
		return err
	}, func() (err error) {
		customers, _, err = c.searchCustomers("", "", maxListed)
		return err
	})
	if err != nil {
		return err
	}
	page := usersPage{frame: c.frame("Users", "users"), Add: add, Notice: notices[c.done()]}
	for _, u := range users {
		meta := count(len(u.GetCustomerGroups()), "customer group", "customer groups") + ", " + count(len(u.GetSecurityGroups()), "security group", "security groups")
		if u.GetSingleCustomerId() != "" {
			meta += " · confined to " + u.GetSingleCustomerId()
		}
		page.Rows = append(page.Rows, row{ID: u.GetUserId(), Name: u.GetDisplayName(), Meta: meta})
	}
	if page.Add == nil {
		page.Add = &addUserForm{}
	}
	page.Add.Customers = rowsOfCustomers(customers)
	// The permissions a customer-specific group may grant, all ticked until
	// the person chooses.
	for _, p := range catalog.GetPermissions() {
		if p.GetScoped() {
			page.Add.Permissions = append(page.Add.Permissions, permissionRow{CatalogPermission: p, Checked: add == nil || slices.Contains(add.chosen, p.GetPermission())})
		}
	}
	c.render(code, "users", page)
	return nil
}

// addUser creates the user; a single-customer user gets his
// customer-specific security group, which his page then shows selected.
func (s *Server) addUser(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	f := c.r.PostForm
	add := &addUserForm{ID: strings.TrimSpace(f.Get("userId")), Name: strings.TrimSpace(f.Get("displayName")), Customer: strings.TrimSpace(f.Get("customerId")), Single: f.Get("singleCustomer") != "", chosen: dedupe(f["permissions"])}
	req := &pb.CreateUserRequest{MspId: c.msp(), UserId: add.ID, DisplayName: add.Name}
	if add.Single {
		req.SingleCustomer = &pb.SingleCustomer{CustomerId: add.Customer, Permissions: add.chosen}
	}
	if _, err := s.tenancy.CreateUser(c.ctx, req); err != nil {
		return c.refusedWith(err, func(msg string) error {
			add.Refusal = msg
			return c.usersPage(http.StatusBadRequest, add)
		})
	}
	c.seeOther("/users/"+url.PathEscape(add.ID), "added")
	return nil
}

// userPage is the Edit User form: the user's customer groups; and his
// security groups, when the caller may list them.
type userPage struct {
	frame
	User           *pb.User
	Form           *formView
	SecurityGroups *userGroupsView
	Notice         string
	// Confined names the customer a single-customer user is confined to.
	Confined string
}

// userGroupsView is a user's security groups as a form: every group, his
// ticked; for a single-customer user, the customer-specific group that
// confines him, which must be deleted before he is given another (seed
// 004's revert); the API's refusal of the last save.
type userGroupsView struct {
	Rows      []row
	Confining *pb.SecurityGroup
	Refusal   string
	// chosen are the groups a refused save asked for.
	chosen []string
}

func (s *Server) user(c *call) error {
	return c.userPage(http.StatusOK, nil, nil, "")
}

func (c *call) userPage(code int, sel *selection, result *reportView, fresh string) error {
	return c.userPageWith(code, sel, result, fresh, nil)
}

// userPageWith draws the user's page; groups, when set, is his security
// groups as a refused save left them.
func (c *call) userPageWith(code int, sel *selection, result *reportView, fresh string, sgView *userGroupsView) error {
	id := c.r.PathValue("user")
	var u *pb.User
	var sgs *pb.ListSecurityGroupsResponse
	var sgErr error
	err := all(func() (err error) {
		u, err = c.s.tenancy.GetUser(c.ctx, &pb.GetUserRequest{MspId: c.msp(), UserId: id, AtLeastAsFresh: fresh})
		return err
	}, func() error {
		sgs, sgErr = c.s.roles.ListSecurityGroups(c.ctx, &pb.ListSecurityGroupsRequest{MspId: c.msp()})
		return ignoreHidden(sgErr)
	})
	if err != nil {
		return err
	}
	groups, more, err := c.offeredGroups("", maxOffered)
	if err != nil {
		return err
	}
	saved := groupIDs(u)
	chosen := saved
	if sel != nil {
		chosen = sel.Values["customerGroups"]
	}
	out := removed(saved, chosen)
	n := newNames()
	n.addGroups(groups)
	// The groups saved or chosen, with their customers: what a row of the
	// selection says and where a refused save's blocks go.
	selected, err := c.fullGroups(append(slices.Clone(saved), chosen...))
	if err != nil {
		return err
	}
	n.addGroups(slices.Collect(maps.Values(selected)))
	rows := withSelection(rowsOfGroups(groups), saved, chosen, n.group)
	for i, r := range rows {
		if g, ok := selected[r.ID]; ok {
			rows[i].Meta = count(len(g.GetCustomers()), "customer", "customers")
		}
		rows[i].Blocks = blocksOf(result, func(b blockView) bool {
			return slices.Contains(out, r.ID) && slices.Contains(selected[r.ID].GetCustomers(), b.CustomerID)
		})
	}
	if err := c.nameCustomers(n, slices.DeleteFunc([]string{u.GetSingleCustomerId()}, func(id string) bool { return id == "" })); err != nil {
		return err
	}
	if sgErr == nil {
		if sgView, err = c.userGroups(u, sgs.GetSecurityGroups(), sgView, n); err != nil {
			return err
		}
	}
	page := userPage{frame: c.frame(u.GetDisplayName(), "users"), User: u, SecurityGroups: sgView, Notice: notices[c.done()], Confined: n.customer(u.GetSingleCustomerId()),
		Form: &formView{Action: "/users/" + url.PathEscape(id), Preview: "/users/" + url.PathEscape(id) + "/preview", Result: result,
			Choices: []choice{{Legend: "Customer groups", Field: "customerGroups", Rows: rows, Find: finder(more, "/users/"+url.PathEscape(id), "customerGroups"), What: "customer groups"}}}}
	c.render(code, "user", page)
	return nil
}

// userGroups is the user's security groups form: every group, his ticked
// (or, after a refused save, those it asked for), and the group that
// confines a single-customer user.
func (c *call) userGroups(u *pb.User, groups []*pb.SecurityGroup, refused *userGroupsView, n *names) (*userGroupsView, error) {
	v := &userGroupsView{}
	var chosen []string
	for _, m := range u.GetSecurityGroups() {
		chosen = append(chosen, m.GetSecurityGroupId())
	}
	if refused != nil {
		v.Refusal = refused.Refusal
		chosen = refused.chosen
	}
	var offered []*pb.SecurityGroup
	var customers, cgroups []string
	for _, g := range groups {
		if g.GetSingleCustomerUserId() == u.GetUserId() {
			v.Confining = g
		}
		if g.GetSingleCustomerUserId() != "" && g.GetSingleCustomerUserId() != u.GetUserId() {
			continue // another user's customer-specific group holds him alone
		}
		offered = append(offered, g)
		customers, cgroups = append(customers, g.GetScope().GetCustomers()...), append(cgroups, g.GetScope().GetCustomerGroups()...)
	}
	if err := all(func() error { return c.nameCustomers(n, customers) }, func() error { return c.nameGroups(n, cgroups) }); err != nil {
		return nil, err
	}
	options := make([]row, len(offered))
	for i, g := range offered {
		options[i] = row{ID: g.GetSecurityGroupId(), Name: g.GetDisplayName(), Meta: "on " + scopeText(g.GetScope(), n)}
		if kind := securityGroupKind(g); kind != "" {
			options[i].Meta += " · " + kind
		}
	}
	v.Rows = withSelection(options, nil, chosen, func(id string) string { return id })
	return v, nil
}

// assignSecurityGroups sets the user's security groups as the form selects
// them; the API refuses a single-customer user any group but his own (no
// direct swap), and the page shows why beside the form as left.
func (s *Server) assignSecurityGroups(c *call) error {
	sel, err := selectionOf(c.r, "securityGroups")
	if err != nil {
		return err
	}
	_, err = s.roles.SetUserSecurityGroups(c.ctx, &pb.SetUserSecurityGroupsRequest{MspId: c.msp(), UserId: c.r.PathValue("user"), SecurityGroups: sel.Values["securityGroups"], AllowEmpty: sel.Posted})
	if err != nil {
		return c.refusedWith(err, func(msg string) error {
			return c.userPageWith(http.StatusBadRequest, nil, nil, "", &userGroupsView{Refusal: msg, chosen: sel.Values["securityGroups"]})
		})
	}
	c.seeOther("/users/"+url.PathEscape(c.r.PathValue("user")), "assigned")
	return nil
}

// releaseUser deletes the customer-specific security group that confines
// the user (the first step of seed 004's revert): he keeps his customer
// association, and may then be given a full-permission group.
func (s *Server) releaseUser(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	_, err := s.roles.DeleteSecurityGroup(c.ctx, &pb.DeleteSecurityGroupRequest{MspId: c.msp(), SecurityGroupId: c.r.PostForm.Get("securityGroupId")})
	if err != nil {
		return c.refusedWith(err, func(msg string) error {
			return c.userPageWith(http.StatusBadRequest, nil, nil, "", &userGroupsView{Refusal: msg})
		})
	}
	c.seeOther("/users/"+url.PathEscape(c.r.PathValue("user")), "released")
	return nil
}

func groupIDs(u *pb.User) []string {
	out := make([]string, len(u.GetCustomerGroups()))
	for i, m := range u.GetCustomerGroups() {
		out[i] = m.GetCustomerGroupId()
	}
	return out
}

func (c *call) userSave(validateOnly bool) (*pb.EditUserRequest, *selection, error) {
	sel, err := selectionOf(c.r, "customerGroups")
	if err != nil {
		return nil, nil, err
	}
	return &pb.EditUserRequest{MspId: c.msp(), UserId: c.r.PathValue("user"), CustomerGroups: sel.Values["customerGroups"], ValidateOnly: validateOnly, AllowEmpty: sel.Posted}, &sel, nil
}

func (s *Server) saveUser(c *call) error {
	req, sel, err := c.userSave(false)
	if err != nil {
		return err
	}
	rep, err := s.tenancy.EditUser(c.ctx, req)
	return c.saved(rep, err, sel, c.userPage)
}

func (s *Server) previewUser(c *call) error {
	req, _, err := c.userSave(true)
	if err != nil {
		return err
	}
	rep, err := s.tenancy.EditUser(c.ctx, req)
	return c.previewed(rep, err, func(n *names) (*picture, error) {
		u, err := s.tenancy.GetUser(c.ctx, &pb.GetUserRequest{MspId: c.msp(), UserId: req.GetUserId()})
		if err != nil {
			return nil, err
		}
		ch := newChange()
		ch.reported(rep, func(p *pb.Pair) string { return p.GetCustomerId() })
		for _, g := range removed(groupIDs(u), req.GetCustomerGroups()) {
			ch.cut["customer_group:"+g] = true
		}
		added := removed(req.GetCustomerGroups(), groupIDs(u))
		for _, g := range added {
			ch.added["customer_group:"+g] = true
		}
		full, err := c.fullGroups(added)
		if err != nil {
			return nil, err
		}
		for g, group := range full {
			ch.members[g] = group.GetCustomers()
		}
		return c.userReachPicture(u, n, focus{}, ch)
	})
}

// userReachPicture draws what the user reaches, with ch's changes.
func (c *call) userReachPicture(u *pb.User, n *names, f focus, ch *change) (*picture, error) {
	reach, err := c.s.access.ListUserCustomers(c.ctx, &pb.ListUserCustomersRequest{MspId: c.msp(), UserId: u.GetUserId()})
	if err != nil {
		return nil, err
	}
	groups := groupIDs(u)
	var customers []string
	for _, cu := range reach.GetCustomers() {
		customers = append(customers, cu.GetCustomerId())
	}
	for g, cs := range ch.membersOrNone() {
		groups, customers = append(groups, g), append(customers, cs...)
	}
	if len(customers) > maxDrawn && f.Find == "" {
		customers = nil // drawn as counts: only the expanded groups' are named
		for _, cu := range reach.GetCustomers() {
			for _, via := range cu.GetVia() {
				if f.Expand[groupOf(via)] || via == "direct" || state(ch, cu.GetCustomerId()) != "" {
					customers = append(customers, cu.GetCustomerId())
				}
			}
		}
	}
	if err := c.nameGroups(n, groups); err != nil {
		return nil, err
	}
	if err := c.nameCustomers(n, customers); err != nil {
		return nil, err
	}
	return userPicture(u, reach.GetCustomers(), n, f, ch), nil
}
