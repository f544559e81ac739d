package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// grantsPage is the MSP's time-bound grants (as Microsoft's GDAP): the form
// that requests one, and the list, optionally of those expiring soon.
type grantsPage struct {
	frame
	Grants []grantView
	// Expiring is the list's filter in days (0: every grant).
	Expiring int
	// Roles and SecurityGroups are the request form's choices.
	Roles          []*pb.Role
	SecurityGroups []*pb.SecurityGroup
	// Notice says what the last request or revocation did (grantNotice);
	// Refusal why the API refused it.
	Notice, Refusal string
	// Asked is the request form as the person left it.
	Asked *pb.RequestGrantRequest
}

// grantView is one grant as a row shows it.
type grantView struct {
	*pb.Grant
	// Customer is its customer's name.
	Customer string
	// Ends says when it ends or lapses, for people.
	Ends string
}

func (s *Server) timeBoundGrants(c *call) error {
	return c.grantsPage(http.StatusOK, "", nil)
}

func (c *call) grantsPage(code int, refusal string, asked *pb.RequestGrantRequest) error {
	expiring, _ := strconv.Atoi(c.r.URL.Query().Get("expiring"))
	page := grantsPage{frame: c.frame("Time-bound grants", "grants"), Expiring: expiring, Refusal: refusal, Asked: asked}
	if page.Asked == nil {
		page.Asked = &pb.RequestGrantRequest{DurationDays: 30}
	}
	var list *pb.ListGrantsResponse
	err := all(func() (err error) {
		list, err = c.s.grants.ListGrants(c.ctx, &pb.ListGrantsRequest{MspId: c.msp(), ExpiringWithinDays: int32(expiring), AtLeastAsFresh: c.fresh()})
		return err
	}, func() error {
		roles, err := c.s.roles.ListRoles(c.ctx, &pb.ListRolesRequest{MspId: c.msp()})
		page.Roles = roles.GetRoles()
		return ignoreHidden(err)
	}, func() error {
		groups, err := c.s.roles.ListSecurityGroups(c.ctx, &pb.ListSecurityGroupsRequest{MspId: c.msp()})
		page.SecurityGroups = groups.GetSecurityGroups()
		return ignoreHidden(err)
	})
	if err != nil {
		return err
	}
	if page.Grants, err = c.grantViews(list.GetGrants()); err != nil {
		return err
	}
	page.Notice = c.grantNotice(page.Grants)
	c.render(code, "grants", page)
	return nil
}

// grantViews are grants with their customers' names.
func (c *call) grantViews(grants []*pb.Grant) ([]grantView, error) {
	n := newNames()
	var customers []string
	for _, g := range grants {
		customers = append(customers, g.GetCustomerId())
	}
	if err := c.nameCustomers(n, customers); err != nil {
		return nil, err
	}
	out := make([]grantView, len(grants))
	for i, g := range grants {
		out[i] = grantView{Grant: g, Customer: n.customer(g.GetCustomerId()), Ends: when(g.GetExpiresAt().AsTime())}
	}
	return out, nil
}

// when is a time for people: its UTC date and minute, and how far it is.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Until(t)
	rel := "in " + roughly(d)
	switch {
	case d > -2*time.Minute && d < 2*time.Minute:
		rel = "just now"
		if d > 0 {
			rel = "in a moment"
		}
	case d < 0:
		rel = roughly(-d) + " ago"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC") + " (" + rel + ")"
}

func roughly(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	case d >= 2*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " hours"
	case d >= 2*time.Minute:
		return strconv.Itoa(int(d.Minutes())) + " minutes"
	}
	return "a minute"
}

// grantNotice says what became of the grant a decision or request named
// (seeOther's "grant"), as the page's own list of grants tells it.
func (c *call) grantNotice(grants []grantView) string {
	if c.done() != "grant" {
		return ""
	}
	id := c.r.URL.Query().Get("grant")
	for _, g := range grants {
		if g.GetGrantId() != id {
			continue
		}
		if g.GetStatus() == "PENDING" {
			return "Grant " + id + " requested: it waits for " + g.Customer + "'s administrator to approve it."
		}
		return "Grant " + id + " is now " + strings.ToLower(g.GetStatus()) + "."
	}
	return ""
}

// requestGrant asks the API for a grant as the form says; a refusal keeps
// the form as the person left it, with the API's reason.
func (s *Server) requestGrant(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	f := c.r.PostForm
	days, err := strconv.Atoi(strings.TrimSpace(f.Get("durationDays")))
	if err != nil {
		days = 0 // the API names the field
	}
	req := &pb.RequestGrantRequest{MspId: c.msp(), CustomerId: strings.TrimSpace(f.Get("customerId")), SecurityGroupId: f.Get("securityGroupId"),
		RoleId: f.Get("roleId"), DurationDays: int32(days), AutoExtend: f.Get("autoExtend") != ""}
	g, err := s.grants.RequestGrant(c.ctx, req)
	if err != nil {
		return c.refusedWith(err, func(msg string) error { return c.grantsPage(http.StatusBadRequest, msg, req) })
	}
	c.seeOther("/grants", "grant", "grant", g.GetGrantId(), "at", g.GetWrittenAt())
	return nil
}

// decideGrant is one of a grant's decisions (approve, decline, revoke),
// made on the page back is (the MSP's grants, or a customer's own side),
// which shows the API's refusal or, after the decision, what it did.
func (s *Server) decideGrant(decision string, back grantsBack) handler {
	return func(c *call) error {
		req := &pb.DecideGrantRequest{MspId: c.msp(), GrantId: c.r.PathValue("grant")}
		var g *pb.Grant
		var err error
		switch decision {
		case "approve":
			g, err = s.grants.ApproveGrant(c.ctx, req)
		case "decline":
			g, err = s.grants.DeclineGrant(c.ctx, req)
		default:
			g, err = s.grants.RevokeGrant(c.ctx, req)
		}
		if err != nil {
			return c.refusedWith(err, func(msg string) error { return back.refused(c, msg) })
		}
		c.seeOther(back.path(c), "grant", "grant", g.GetGrantId(), "at", g.GetWrittenAt())
		return nil
	}
}

// grantsBack is a page grants are decided on: where it is, and how it
// shows a refusal.
type grantsBack struct {
	path    func(c *call) string
	refused func(c *call, msg string) error
}

// mspGrants is the MSP's list of grants; customerOwn a customer's own side.
var (
	mspGrants = grantsBack{
		path:    func(*call) string { return "/grants" },
		refused: func(c *call, msg string) error { return c.grantsPage(http.StatusBadRequest, msg, nil) },
	}
	customerOwn = grantsBack{
		path:    func(c *call) string { return ownPath(c.r.PathValue("customer")) },
		refused: func(c *call, msg string) error { return c.ownPage(http.StatusBadRequest, msg) },
	}
)
