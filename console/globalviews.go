package console

import (
	"net/http"
	"slices"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// globalViews are the MSP's global views (seed 003), by the API's name,
// with their titles: a customer whose partner access is off is in none.
var globalViews = []struct{ ID, Title string }{
	{"email_tracker", "Global live email tracker"},
	{"policies", "Global policies"},
	{"rules", "Global rules"},
}

// globalViewPage is the customers the caller sees in one global view.
type globalViewPage struct {
	frame
	View, ViewTitle string
	Views           []struct{ ID, Title string }
	Customers       []*pb.Customer
	Next, CheckedAt string
}

func (s *Server) globalView(c *call) error {
	view := c.r.PathValue("view")
	i := slices.IndexFunc(globalViews, func(v struct{ ID, Title string }) bool { return v.ID == view })
	if i < 0 {
		c.problem(http.StatusNotFound, "There is no global view "+view+": there are email_tracker, policies and rules.")
		return nil
	}
	list, err := s.partner.ListGlobalViewCustomers(c.ctx, &pb.ListGlobalViewCustomersRequest{MspId: c.msp(), View: view, PageSize: customersPageSize, PageToken: c.r.URL.Query().Get("page")})
	if err != nil {
		return err
	}
	page := globalViewPage{frame: c.frame(globalViews[i].Title, "globalViews"), View: view, ViewTitle: globalViews[i].Title, Views: globalViews, Customers: list.GetCustomers(), CheckedAt: list.GetCheckedAt()}
	if next := list.GetNextPageToken(); next != "" {
		page.Next = "/globalViews/" + view + "?" + query("page", next)
	}
	c.render(http.StatusOK, "globalView", page)
	return nil
}
