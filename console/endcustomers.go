package console

import (
	"net/http"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// endCustomerUsersPage is a customer's own users (seed 001) and Add User:
// the User Role drop-down when the MSP enabled role selection, the portal
// role otherwise.
type endCustomerUsersPage struct {
	frame
	Customer *pb.Customer
	Users    []endCustomerUserRow
	Roles    []*pb.EndCustomerRole
	Default  *pb.EndCustomerRole
	// Selection is the MSP's setting: new users' roles are chosen.
	Selection bool
	Add       endCustomerDraft
	Notice    string
	Refusal   string
}

type endCustomerUserRow struct {
	ID, Name, Role string
}

// endCustomerDraft is Add User as posted.
type endCustomerDraft struct {
	ID, Name, Role string
}

func (s *Server) endCustomerUsers(c *call) error {
	return c.endCustomerUsersPage(http.StatusOK, endCustomerDraft{}, "")
}

func (c *call) endCustomerUsersPage(code int, draft endCustomerDraft, refusal string) error {
	id := c.r.PathValue("customer")
	var cu *pb.Customer
	var users *pb.ListEndCustomerUsersResponse
	var roles *pb.ListEndCustomerRolesResponse
	var settings *pb.Settings
	err := all(func() (err error) {
		cu, err = c.s.tenancy.GetCustomer(c.ctx, &pb.GetCustomerRequest{MspId: c.msp(), CustomerId: id, View: pb.View_BASIC})
		return err
	}, func() (err error) {
		users, err = c.s.endCustomers.ListEndCustomerUsers(c.ctx, &pb.ListEndCustomerUsersRequest{MspId: c.msp(), CustomerId: id})
		return err
	}, func() (err error) {
		roles, err = c.s.endCustomers.ListEndCustomerRoles(c.ctx, &pb.ListEndCustomerRolesRequest{})
		return err
	}, func() (err error) {
		settings, err = c.s.endCustomers.GetSettings(c.ctx, &pb.GetSettingsRequest{MspId: c.msp()})
		return err
	})
	if err != nil {
		return err
	}
	page := endCustomerUsersPage{frame: c.frame("Users of "+cu.GetDisplayName(), "customers"), Customer: cu, Roles: roles.GetRoles(),
		Selection: settings.GetEndCustomerRoleSelection(), Add: draft, Refusal: refusal, Notice: notices[c.done()]}
	roleNames := map[string]string{}
	for _, r := range roles.GetRoles() {
		roleNames[r.GetRole()] = r.GetDisplayName()
		if r.GetRole() == roles.GetDefaultRole() {
			page.Default = r
		}
	}
	for _, u := range users.GetEndCustomerUsers() {
		page.Users = append(page.Users, endCustomerUserRow{ID: u.GetUserId(), Name: u.GetDisplayName(), Role: named(roleNames, u.GetRole())})
	}
	c.render(code, "endCustomerUsers", page)
	return nil
}

// addEndCustomerUser adds a user to the customer: with the role chosen, or
// (no role sent) the one the API gives when role selection is off.
func (s *Server) addEndCustomerUser(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	f := c.r.PostForm
	draft := endCustomerDraft{ID: strings.TrimSpace(f.Get("userId")), Name: strings.TrimSpace(f.Get("displayName")), Role: f.Get("role")}
	customer := c.r.PathValue("customer")
	_, err := s.endCustomers.CreateEndCustomerUser(c.ctx, &pb.CreateEndCustomerUserRequest{MspId: c.msp(), CustomerId: customer, UserId: draft.ID, DisplayName: draft.Name, Role: draft.Role})
	if err != nil {
		return c.refusedWith(err, func(msg string) error { return c.endCustomerUsersPage(http.StatusBadRequest, draft, msg) })
	}
	c.seeOther(customerPath(customer)+"/endCustomerUsers", "added")
	return nil
}

// setRoleSelection turns the MSP's end-customer role selection on or off,
// keeping its other settings, and goes back to the customer's users.
func (s *Server) setRoleSelection(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	customer := c.r.PathValue("customer")
	settings, err := s.endCustomers.GetSettings(c.ctx, &pb.GetSettingsRequest{MspId: c.msp()})
	if err == nil {
		_, err = s.endCustomers.UpdateSettings(c.ctx, &pb.UpdateSettingsRequest{MspId: c.msp(), EndCustomerRoleSelection: c.r.PostForm.Get("on") == "1", OwnDomainCustomerId: settings.GetOwnDomainCustomerId()})
	}
	if err != nil {
		return c.refusedWith(err, func(msg string) error { return c.endCustomerUsersPage(http.StatusBadRequest, endCustomerDraft{}, msg) })
	}
	c.seeOther(customerPath(customer)+"/endCustomerUsers", "setting")
	return nil
}
