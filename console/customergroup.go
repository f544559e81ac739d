package console

import (
	"net/http"
	"net/url"
	"slices"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// customerGroupsPage lists the MSP's customer groups.
type customerGroupsPage struct {
	frame
	Rows []row
}

func (s *Server) customerGroups(c *call) error {
	groups, err := c.allCustomerGroups(pb.View_FULL)
	if err != nil {
		return err
	}
	page := customerGroupsPage{frame: c.frame("Customer groups", "customerGroups")}
	for _, g := range groups {
		page.Rows = append(page.Rows, row{ID: g.GetCustomerGroupId(), Name: g.GetDisplayName(),
			Meta: count(len(g.GetMembers()), "member", "members") + ", " + count(len(g.GetCustomers()), "customer", "customers")})
	}
	c.render(http.StatusOK, "customerGroups", page)
	return nil
}

// customerGroupPage is the Edit Customer Group form: the group's customers.
type customerGroupPage struct {
	frame
	Group   *pb.CustomerGroup
	Form    *formView
	Picture *picture
}

func (s *Server) customerGroup(c *call) error {
	return c.customerGroupPage(http.StatusOK, nil, nil, "")
}

func (c *call) customerGroupPage(code int, sel *selection, result *reportView, fresh string) error {
	id := c.r.PathValue("group")
	g, err := c.s.tenancy.GetCustomerGroup(c.ctx, &pb.GetCustomerGroupRequest{MspId: c.msp(), CustomerGroupId: id, AtLeastAsFresh: fresh})
	if err != nil {
		return err
	}
	customers, next, err := c.searchCustomers("", "", maxOffered)
	if err != nil {
		return err
	}
	chosen := g.GetCustomers()
	if sel != nil {
		chosen = sel.Values["customers"]
	}
	n := newNames()
	n.addCustomers(customers)
	if err := c.nameCustomers(n, append(slices.Clone(g.GetCustomers()), chosen...)); err != nil {
		return err
	}
	rows := withSelection(rowsOfCustomers(customers), g.GetCustomers(), chosen, n.customer)
	for i, r := range rows {
		rows[i].Blocks = blocksOf(result, func(b blockView) bool { return b.CustomerID == r.ID })
	}
	members := make([]string, len(g.GetMembers()))
	for i, m := range g.GetMembers() {
		members[i] = m.GetUserId()
	}
	if err := c.nameUsers(n, members); err != nil {
		return err
	}
	page := customerGroupPage{frame: c.frame(g.GetDisplayName(), "customerGroups"), Group: g, Picture: groupPicture(g, g.GetCustomers(), n, nil),
		Form: &formView{Action: "/customerGroups/" + url.PathEscape(id), Preview: "/customerGroups/" + url.PathEscape(id) + "/preview", Result: result,
			Choices: []choice{{Legend: "Customers", Field: "customers", Rows: rows, Find: finder(next != "", "/customerGroups/"+url.PathEscape(id), "customers"), What: "customers"}}}}
	c.render(code, "customerGroup", page)
	return nil
}

func (c *call) customerGroupSave(validateOnly bool) (*pb.EditCustomerGroupRequest, *selection, error) {
	sel, err := selectionOf(c.r, "customers")
	if err != nil {
		return nil, nil, err
	}
	return &pb.EditCustomerGroupRequest{MspId: c.msp(), CustomerGroupId: c.r.PathValue("group"), Customers: sel.Values["customers"], ValidateOnly: validateOnly, AllowEmpty: sel.Posted}, &sel, nil
}

func (s *Server) saveCustomerGroup(c *call) error {
	req, sel, err := c.customerGroupSave(false)
	if err != nil {
		return err
	}
	rep, err := s.tenancy.EditCustomerGroup(c.ctx, req)
	return c.saved(rep, err, sel, c.customerGroupPage)
}

func (s *Server) previewCustomerGroup(c *call) error {
	req, _, err := c.customerGroupSave(true)
	if err != nil {
		return err
	}
	rep, err := s.tenancy.EditCustomerGroup(c.ctx, req)
	return c.previewed(rep, err, func(n *names) (*picture, error) {
		g, err := s.tenancy.GetCustomerGroup(c.ctx, &pb.GetCustomerGroupRequest{MspId: c.msp(), CustomerGroupId: req.GetCustomerGroupId()})
		if err != nil {
			return nil, err
		}
		ch := newChange()
		ch.reported(rep, func(p *pb.Pair) string { return p.GetCustomerId() })
		for _, cu := range removed(g.GetCustomers(), req.GetCustomers()) {
			ch.cut["customer:"+cu] = true
		}
		for _, cu := range removed(req.GetCustomers(), g.GetCustomers()) {
			ch.added["customer:"+cu] = true
		}
		all := dedupe(append(slices.Clone(g.GetCustomers()), req.GetCustomers()...))
		if err := c.nameCustomers(n, all); err != nil {
			return nil, err
		}
		members := make([]string, len(g.GetMembers()))
		for i, m := range g.GetMembers() {
			members[i] = m.GetUserId()
		}
		if err := c.nameUsers(n, members); err != nil {
			return nil, err
		}
		return groupPicture(g, all, n, ch), nil
	})
}
