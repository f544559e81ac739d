package console

import (
	"net/http"
	"slices"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// ownPage is a customer's own side (seed 003, and GDAP's approvals): its
// MSP Management switch, the grants the MSP asks of it and holds, and who
// logged in as it. Its built-in administrators act here; anyone else who
// sees the customer reads what the API tells him, and its refusals.
type ownPage struct {
	frame
	Customer *pb.Customer
	// Partner is its partner access, or the API's refusal to tell (Hidden).
	Partner *pb.PartnerAccess
	Hidden  string
	// Pending, Active and Past are its grants by status; GrantsHidden the
	// API's refusal to list them.
	Pending, Active, Past []grantView
	GrantsHidden          string
	// LoginsAs are the Login As attempts on its trail, newest first;
	// TrailHidden the API's refusal to read it.
	LoginsAs    []eventView
	TrailHidden string
	// Notice says what the last switch or decision did; Refusal why the
	// API refused it.
	Notice, Refusal string
}

// eventView is an audit event as a row shows it.
type eventView struct {
	*pb.AuditEvent
	When string
	OK   bool
}

// maxLoginsAs is how many of the newest Login As attempts the page lists.
const maxLoginsAs = 50

func (s *Server) own(c *call) error {
	return c.ownPage(http.StatusOK, "")
}

// ownPath is the path of a customer's own side.
func ownPath(customer string) string { return customerPath(customer) + "/own" }

func (c *call) ownPage(code int, refusal string) error {
	id := c.r.PathValue("customer")
	cu, err := c.s.tenancy.GetCustomer(c.ctx, &pb.GetCustomerRequest{MspId: c.msp(), CustomerId: id, View: pb.View_BASIC, AtLeastAsFresh: c.fresh()})
	if err != nil {
		return err
	}
	page := ownPage{frame: c.frame(cu.GetDisplayName()+": own side", "customers"), Customer: cu, Refusal: refusal}
	if page.OnOwnDomain = page.OwnDomain() == id; page.OnOwnDomain {
		page.Nav = "" // the switch, not the customers, says where he is
	}
	var grants []*pb.Grant
	err = all(func() error {
		p, err := c.s.partner.GetPartnerAccess(c.ctx, &pb.GetPartnerAccessRequest{MspId: c.msp(), CustomerId: id, AtLeastAsFresh: c.fresh()})
		page.Partner, page.Hidden = p, hidden(err)
		return ignoreHidden(err)
	}, func() error {
		list, err := c.s.grants.ListGrants(c.ctx, &pb.ListGrantsRequest{MspId: c.msp(), CustomerId: id, AtLeastAsFresh: c.fresh()})
		grants, page.GrantsHidden = list.GetGrants(), hidden(err)
		return ignoreHidden(err)
	}, func() error {
		events, err := c.loginsAs(id)
		page.LoginsAs, page.TrailHidden = events, hidden(err)
		return ignoreHidden(err)
	})
	if err != nil {
		return err
	}
	views, err := c.grantViews(grants)
	if err != nil {
		return err
	}
	page.Notice = c.grantNotice(views)
	if c.done() == "partner" && page.Partner != nil {
		page.Notice = "MSP Management is " + partnerState(page.Partner.GetEnabled()) + "."
	}
	for _, g := range views {
		switch g.GetStatus() {
		case "PENDING":
			page.Pending = append(page.Pending, g)
		case "ACTIVE":
			page.Active = append(page.Active, g)
		default:
			page.Past = append(page.Past, g)
		}
	}
	c.render(code, "own", page)
	return nil
}

// loginsAs are the newest Login As attempts on the customer's own trail,
// newest first.
func (c *call) loginsAs(customer string) ([]eventView, error) {
	var events []*pb.AuditEvent
	token := ""
	for range 20 {
		page, err := c.s.audit.ListAuditEvents(c.ctx, &pb.ListAuditEventsRequest{MspId: c.msp(), CustomerId: customer, Action: "PartnerService/LoginAs", PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		events = append(events, page.GetEvents()...)
		if len(events) > maxLoginsAs {
			events = events[len(events)-maxLoginsAs:]
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	slices.Reverse(events)
	return eventViews(events), nil
}

func eventViews(events []*pb.AuditEvent) []eventView {
	out := make([]eventView, len(events))
	for i, e := range events {
		out[i] = eventView{AuditEvent: e, When: when(e.GetTime().AsTime()), OK: e.GetOutcome() == "OK"}
	}
	return out
}

// hidden is the API's refusal to tell, for the section it hides, or "".
func hidden(err error) string {
	if err == nil || ignoreHidden(err) != nil {
		return ""
	}
	return statusMessage(err)
}

// setPartnerAccess switches the customer's MSP Management: the API lets only
// its built-in administrators, with their own sign-in, and refuses to switch
// it off without one (the account would become unreachable).
func (s *Server) setPartnerAccess(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	on := c.r.PostForm.Get("enabled") == "true"
	p, err := s.partner.SetPartnerAccess(c.ctx, &pb.SetPartnerAccessRequest{MspId: c.msp(), CustomerId: c.r.PathValue("customer"), Enabled: on})
	if err != nil {
		return c.refusedWith(err, func(msg string) error { return c.ownPage(http.StatusBadRequest, msg) })
	}
	c.seeOther(ownPath(c.r.PathValue("customer")), "partner", "at", p.GetWrittenAt())
	return nil
}

// partnerState says what a customer's MSP Management being on or off means.
func partnerState(on bool) string {
	if on {
		return "on: the MSP's partner staff may Login As this customer"
	}
	return "off: the MSP's partner staff can no longer Login As this customer, and it has left the MSP's global views"
}
