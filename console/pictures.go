package console

import (
	"net/http"
	"net/url"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// picturePage is the picture of who reaches a customer, or of what a user
// reaches, with its search and its expanded groups.
type picturePage struct {
	frame
	// Of names what is drawn; Back links to its form.
	Of, Back, Find string
	Picture        *picture
}

func (s *Server) customerPicture(c *call) error {
	id := c.r.PathValue("customer")
	cu, err := s.tenancy.GetCustomer(c.ctx, &pb.GetCustomerRequest{MspId: c.msp(), CustomerId: id, View: pb.View_BASIC})
	if err != nil {
		return err
	}
	reach, err := s.access.ListCustomerUsers(c.ctx, &pb.ListCustomerUsersRequest{MspId: c.msp(), CustomerId: id})
	if err != nil {
		return err
	}
	base := customerPath(id)
	f := focusOf(c.r.URL.Query(), base+"/picture")
	n := newNames()
	var users, groups []string
	for _, u := range reach.GetUsers() {
		for _, via := range u.GetVia() {
			g := groupOf(via)
			if g != "" {
				groups = append(groups, g)
			}
			if len(reach.GetUsers()) <= maxDrawn || via == "direct" || f.Expand[g] || f.Find != "" {
				users = append(users, u.GetUserId())
			}
		}
	}
	if err := c.nameUsers(n, users); err != nil {
		return err
	}
	if err := c.nameGroups(n, groups); err != nil {
		return err
	}
	c.render(http.StatusOK, "picture", picturePage{frame: c.frame("Who reaches "+cu.GetDisplayName(), "customers"), Of: cu.GetDisplayName(), Back: base, Find: f.Find,
		Picture: customerPicture(cu, reach.GetUsers(), n, f, nil)})
	return nil
}

func (s *Server) userPicture(c *call) error {
	id := c.r.PathValue("user")
	u, err := s.tenancy.GetUser(c.ctx, &pb.GetUserRequest{MspId: c.msp(), UserId: id})
	if err != nil {
		return err
	}
	base := "/users/" + url.PathEscape(id)
	f := focusOf(c.r.URL.Query(), base+"/picture")
	p, err := c.userReachPicture(u, newNames(), f, nil)
	if err != nil {
		return err
	}
	c.render(http.StatusOK, "picture", picturePage{frame: c.frame("What "+u.GetDisplayName()+" reaches", "users"), Of: u.GetDisplayName(), Back: base, Find: f.Find, Picture: p})
	return nil
}
