package console

import (
	"maps"
	"net/http"
	"net/url"
	"slices"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// usersPage lists the MSP's users.
type usersPage struct {
	frame
	Rows []row
}

func (s *Server) users(c *call) error {
	users, err := c.allUsers(pb.View_FULL)
	if err != nil {
		return err
	}
	page := usersPage{frame: c.frame("Users", "users")}
	for _, u := range users {
		page.Rows = append(page.Rows, row{ID: u.GetUserId(), Name: u.GetDisplayName(), Meta: count(len(u.GetCustomerGroups()), "customer group", "customer groups")})
	}
	c.render(http.StatusOK, "users", page)
	return nil
}

// userPage is the Edit User form: the user's customer groups.
type userPage struct {
	frame
	User *pb.User
	Form *formView
}

func (s *Server) user(c *call) error {
	return c.userPage(http.StatusOK, nil, nil, "")
}

func (c *call) userPage(code int, sel *selection, result *reportView, fresh string) error {
	id := c.r.PathValue("user")
	u, err := c.s.tenancy.GetUser(c.ctx, &pb.GetUserRequest{MspId: c.msp(), UserId: id, AtLeastAsFresh: fresh})
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
	options := make([]row, len(groups))
	for i, g := range groups {
		options[i] = row{ID: g.GetCustomerGroupId(), Name: g.GetDisplayName()}
	}
	rows := withSelection(options, saved, chosen, n.group)
	for i, r := range rows {
		if g, ok := selected[r.ID]; ok {
			rows[i].Meta = count(len(g.GetCustomers()), "customer", "customers")
		}
		rows[i].Blocks = blocksOf(result, func(b blockView) bool {
			return slices.Contains(out, r.ID) && slices.Contains(selected[r.ID].GetCustomers(), b.CustomerID)
		})
	}
	page := userPage{frame: c.frame(u.GetDisplayName(), "users"), User: u,
		Form: &formView{Action: "/users/" + url.PathEscape(id), Preview: "/users/" + url.PathEscape(id) + "/preview", Result: result,
			Choices: []choice{{Legend: "Customer groups", Field: "customerGroups", Rows: rows, Find: finder(more, "/users/"+url.PathEscape(id), "customerGroups"), What: "customer groups"}}}}
	c.render(code, "user", page)
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
