package console

import (
	"net/http"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// explainPage asks why a user may or may not hold a permission of the
// catalog on a customer: allowed, with every granting path drawn; denied,
// with what is missing.
type explainPage struct {
	frame
	User, Permission, Customer string
	Users, Customers           []row
	Permissions                []*pb.CatalogPermission
	// Answer is the API's explanation, once asked; Picture draws its paths.
	Answer  *pb.Explanation
	Picture *picture
}

func (s *Server) explain(c *call) error {
	q := c.r.URL.Query()
	page := explainPage{frame: c.frame("Explain", "explain"), User: strings.TrimSpace(q.Get("user")), Permission: q.Get("permission"), Customer: strings.TrimSpace(q.Get("customer"))}
	if page.Permission == "" {
		page.Permission = "access"
	}
	catalog, err := s.roles.ListPermissions(c.ctx, &pb.ListPermissionsRequest{})
	if err != nil {
		return err
	}
	page.Permissions = catalog.GetPermissions()
	users, err := c.allUsers(pb.View_BASIC)
	if ignoreHidden(err) != nil {
		return err
	}
	for _, u := range users {
		page.Users = append(page.Users, row{ID: u.GetUserId(), Name: u.GetDisplayName()})
	}
	customers, _, err := c.searchCustomers("", "", maxListed)
	if err != nil {
		return err
	}
	for _, cu := range customers {
		page.Customers = append(page.Customers, row{ID: cu.GetCustomerId(), Name: cu.GetDisplayName()})
	}
	if page.User == "" {
		c.render(http.StatusOK, "explain", page)
		return nil
	}
	resource := "msp:" + c.msp()
	if page.Customer != "" {
		resource = "customer:" + page.Customer
	}
	page.Answer, err = s.access.Explain(c.ctx, &pb.ExplainRequest{MspId: c.msp(), Resource: resource, Permission: page.Permission, Subject: "user:" + page.User})
	if err != nil {
		return err
	}
	if page.Answer.GetAllowed() {
		page.Picture = pathsPicture(page.Answer, "user:"+page.User, resource)
	}
	c.render(http.StatusOK, "explain", page)
	return nil
}

// pathsPicture draws an allowed explanation's granting paths, one step a
// layer, the user first and the resource last.
func pathsPicture(e *pb.Explanation, user, resource string) *picture {
	layers := 2
	for _, p := range e.GetPaths() {
		layers = max(layers, len(p.GetSteps()))
	}
	p := newPicture(layers)
	first := p.node(0, user, user, "user")
	last := p.node(layers-1, resource, resource, kindOf(resource))
	for _, path := range e.GetPaths() {
		steps := path.GetSteps()
		prev := first
		for i, st := range steps[1:] {
			layer := i + 1
			if i == len(steps)-2 {
				layer = layers - 1
			}
			n := p.node(layer, st.GetObject()+"@"+path.GetVia(), st.GetObject(), kindOf(st.GetObject()))
			if layer == layers-1 {
				n = last
			}
			if st.GetNote() != "" {
				n.Title = st.GetNote()
			}
			p.join(prev, n, kept)
			prev = n
		}
	}
	p.Caption = "Every path that grants it, from the user to the resource"
	p.layout()
	return p
}

func kindOf(object string) string {
	kind, _, _ := strings.Cut(object, ":")
	return kind
}
