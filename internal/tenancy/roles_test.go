package tenancy_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// as acts as an MSP user.
func (w *world) as(user string) *world {
	c := *w
	c.ctx = as(w.ctx, user)
	return &c
}

func (w *world) allowed(customer, permission, user string) bool {
	w.t.Helper()
	ok, _, err := w.g.Check(w.ctx, []graph.Check{{
		Resource:   graph.Object{Type: "customer", ID: "acme/" + customer},
		Permission: permission,
		Subject:    graph.Object{Type: "user", ID: "acme/" + user},
	}}, graph.Full())
	require.NoError(w.t, err)
	return ok[0]
}

// Seed 004's forum request: Contoso's internal IT creates scripts on Contoso,
// cannot see Northwind, cannot edit policies; reverting him to full
// permissions takes deleting his customer-specific group first.
func TestSingleCustomerUser_ContosoInternalIT(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"alex"}, []string{"contoso", "northwind"}, []string{"west"})
	ivan, err := w.svc.CreateSingleCustomerUser(w.ctx, "acme", tenancy.User{ID: "ivan", DisplayName: "Ivan"}, "contoso",
		[]string{"scripts.create", "scripts.execute", "scripts.list", "tickets.create", "customers.view"})
	require.NoError(t, err)
	require.Equal(t, "contoso", ivan.SingleCustomerID)

	require.True(t, w.allowed("contoso", "scripts_create", "ivan"))
	require.True(t, w.allowed("contoso", "access", "ivan"))
	require.False(t, w.allowed("northwind", "scripts_create", "ivan"))
	require.False(t, w.allowed("northwind", "access", "ivan"))
	require.False(t, w.allowed("contoso", "policies_edit", "ivan"))

	ivanCtx := w.as("ivan")
	customers, _, err := ivanCtx.svc.ListCustomers(ivanCtx.ctx, "acme", tenancy.Page{}, tenancy.ViewDefault, "")
	require.NoError(t, err)
	require.Equal(t, []tenancy.Customer{{ID: "contoso", DisplayName: "contoso"}}, customers)
	_, err = ivanCtx.svc.GetCustomer(ivanCtx.ctx, "acme", "northwind", "", tenancy.ViewDefault)
	requireKind(t, err, fault.NotFound, `customer "northwind" not found`)
	_, _, err = ivanCtx.svc.ListUsers(ivanCtx.ctx, "acme", tenancy.Page{}, tenancy.ViewDefault, "")
	requireKind(t, err, fault.PermissionDenied, "users.manage")

	// Policy editing is never in a single-customer set; a second customer is refused.
	_, err = w.svc.CreateSingleCustomerUser(w.ctx, "acme", tenancy.User{ID: "pete", DisplayName: "Pete"}, "contoso", []string{"policies.edit"})
	requireKind(t, err, fault.Invalid, "policies.edit")
	before := w.dump()
	_, err = w.svc.CreateSingleCustomerUser(w.ctx, "acme", tenancy.User{ID: "ivan", DisplayName: "Ivan"}, "northwind", nil)
	requireKind(t, err, fault.AlreadyExists, `"ivan" already exists`)
	_, err = w.svc.EditCustomerPreferences(w.ctx, "acme", "northwind", nil, []string{"ivan"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.Blocked, "SINGLE_CUSTOMER")
	_, err = w.svc.EditUser(w.ctx, "acme", "ivan", []string{"west"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.Blocked, "SINGLE_CUSTOMER")
	_, err = w.svc.SetSecurityGroupMembers(w.ctx, "acme", "technician", []string{"alex", "ivan"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.Blocked, "SINGLE_CUSTOMER")

	// Revert: a direct swap is refused; deleting the group first, then assigning works.
	err = w.svc.SetUserSecurityGroups(w.ctx, "acme", "ivan", []string{"admin"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.Blocked, "delete that group first")
	require.Equal(t, before, w.dump())
	require.NoError(t, w.svc.DeleteSecurityGroup(w.ctx, "acme", "ivan"))
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "ivan", []string{"admin"}, tenancy.SaveOptions{}))
	require.True(t, w.allowed("northwind", "policies_edit", "ivan"))
	u, err := w.svc.GetUser(w.ctx, "acme", "ivan", "", tenancy.ViewDefault)
	require.NoError(t, err)
	require.Empty(t, u.SingleCustomerID)
}

// Ivan's role was made for his customer-specific group: deleting the group
// deletes it, unless another group came to bind it, which keeps it whole.
func TestSingleCustomerUser_HisRoleGoesWithHisGroupUnlessAnotherBindsIt(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"alex"}, []string{"contoso"}, nil)
	for _, u := range []string{"ivan", "ines"} {
		_, err := w.svc.CreateSingleCustomerUser(w.ctx, "acme", tenancy.User{ID: u, DisplayName: u}, "contoso", []string{"scripts.create"})
		require.NoError(t, err)
	}
	_, err := w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "contoso-scripts", DisplayName: "Contoso scripts", RoleID: "ines",
		Scope: tenancy.Scope{Customers: []string{"contoso"}}, Members: []string{"alex"}})
	require.NoError(t, err)

	require.NoError(t, w.svc.DeleteSecurityGroup(w.ctx, "acme", "ivan"))
	_, err = w.svc.GetRole(w.ctx, "acme", "ivan")
	requireKind(t, err, fault.NotFound, `role "ivan" not found`)

	_, err = w.svc.DeleteUser(w.ctx, "acme", "ines")
	require.NoError(t, err)
	_, err = w.svc.GetSecurityGroup(w.ctx, "acme", "ines")
	requireKind(t, err, fault.NotFound, `security group "ines" not found`)
	role, err := w.svc.GetRole(w.ctx, "acme", "ines")
	require.NoError(t, err)
	require.Equal(t, []string{"scripts.create"}, role.Permissions)
	require.True(t, w.allowed("contoso", "scripts_create", "alex"))
}

// A security group may scope several customers or a customer group, with a
// custom role; scoped groups never grant what needs the whole MSP.
func TestSecurityGroupScopes(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"otto", "tom"}, []string{"contoso", "northwind", "fabrikam"}, []string{"west"})
	w.editGroup("west", "northwind", "fabrikam")
	_, err := w.svc.CreateRole(w.ctx, "acme", tenancy.Role{ID: "scripter", DisplayName: "Scripter", Permissions: []string{"scripts.create", "scripts.execute"}})
	require.NoError(t, err)
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "west-scripts", DisplayName: "West scripts", RoleID: "scripter",
		Scope: tenancy.Scope{CustomerGroups: []string{"west"}}, Members: []string{"otto"}})
	require.NoError(t, err)
	require.True(t, w.allowed("northwind", "scripts_create", "otto"))
	require.True(t, w.allowed("fabrikam", "scripts_create", "otto"))
	require.False(t, w.allowed("contoso", "scripts_create", "otto"))

	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "two", DisplayName: "Two", RoleID: "scripter",
		Scope: tenancy.Scope{Customers: []string{"contoso", "fabrikam"}}, Members: []string{"tom"}})
	require.NoError(t, err)
	require.True(t, w.allowed("contoso", "scripts_execute", "tom"))
	require.False(t, w.allowed("northwind", "scripts_execute", "tom"))

	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "bad", DisplayName: "Bad", RoleID: "admin",
		Scope: tenancy.Scope{Customers: []string{"contoso"}}})
	requireKind(t, err, fault.Blocked, "never grants")
	_, err = w.svc.UpdateRole(w.ctx, "acme", tenancy.Role{ID: "scripter", DisplayName: "Scripter", Permissions: []string{"scripts.create", "policies.edit"}}, tenancy.RoleFields{DisplayName: true, Permissions: true})
	requireKind(t, err, fault.Blocked, "policies.edit")
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "x", DisplayName: "X", RoleID: "scripter", Scope: tenancy.Scope{AllCustomers: true, Associated: true}})
	requireKind(t, err, fault.Invalid, "scope")
}

// Roles: built-in ones cannot be edited; a custom role is created, edited and
// deleted, but not while a group still binds it (the error lists the holders).
func TestRoles(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"alex"}, []string{"contoso"}, nil)
	roles, err := w.svc.ListRoles(w.ctx, "acme")
	require.NoError(t, err)
	require.Len(t, roles, 6)
	require.True(t, roles[0].BuiltIn)

	_, err = w.svc.UpdateRole(w.ctx, "acme", tenancy.Role{ID: "technician", DisplayName: "T", Permissions: []string{"tickets.create"}}, tenancy.RoleFields{DisplayName: true, Permissions: true})
	requireKind(t, err, fault.Blocked, "built in")
	requireKind(t, w.svc.DeleteRole(w.ctx, "acme", "admin"), fault.Blocked, "built in")
	_, err = w.svc.CreateRole(w.ctx, "acme", tenancy.Role{ID: "helpdesk", DisplayName: "Helpdesk", Permissions: []string{"tickets.create", "nope.nope"}})
	requireKind(t, err, fault.Invalid, `"nope.nope" is not a permission`)

	_, err = w.svc.CreateRole(w.ctx, "acme", tenancy.Role{ID: "helpdesk", DisplayName: "Helpdesk", Permissions: []string{"tickets.view", "tickets.create"}})
	require.NoError(t, err)
	r, err := w.svc.UpdateRole(w.ctx, "acme", tenancy.Role{ID: "helpdesk", DisplayName: "Help desk", Permissions: []string{"tickets.create", "tickets.edit"}}, tenancy.RoleFields{DisplayName: true, Permissions: true})
	require.NoError(t, err)
	require.Equal(t, []string{"tickets.create", "tickets.edit"}, r.Permissions)
	_, err = w.svc.CreateSecurityGroup(w.ctx, "acme", tenancy.SecurityGroup{ID: "desk", DisplayName: "Desk", RoleID: "helpdesk", Scope: tenancy.Scope{Associated: true}, Members: []string{"alex"}})
	require.NoError(t, err)
	err = w.svc.DeleteRole(w.ctx, "acme", "helpdesk")
	requireKind(t, err, fault.Blocked, "still assigned")
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	require.Equal(t, []tenancy.Block{{UserID: "alex", Reason: tenancy.BlockRoleInUse, SecurityGroupID: "desk"}}, f.Details)
	require.NoError(t, w.svc.DeleteSecurityGroup(w.ctx, "acme", "desk"))
	require.NoError(t, w.svc.DeleteRole(w.ctx, "acme", "helpdesk"))
	_, err = w.svc.GetRole(w.ctx, "acme", "helpdesk")
	requireKind(t, err, fault.NotFound, "role")
}

// No privilege escalation: a technician cannot grant himself admin, nor a
// role with what he does not hold; the account owner can.
func TestNoPrivilegeEscalation(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"tina", "sam"}, []string{"contoso"}, nil)
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "tina", []string{"technician"}, tenancy.SaveOptions{}))
	tina := w.as("tina")
	before := w.dump()
	err := tina.svc.SetUserSecurityGroups(tina.ctx, "acme", "tina", []string{"technician", "admin"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.PermissionDenied, "security_groups.manage")
	_, err = tina.svc.CreateRole(tina.ctx, "acme", tenancy.Role{ID: "mine", DisplayName: "Mine", Permissions: []string{"tickets.create"}})
	requireKind(t, err, fault.PermissionDenied, "roles.manage")
	require.Equal(t, before, w.dump())

	// An admin manages security groups but does not hold roles.manage: he may
	// not grant it through the super admin group.
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "sam", []string{"admin"}, tenancy.SaveOptions{}))
	sam := w.as("sam")
	err = sam.svc.SetUserSecurityGroups(sam.ctx, "acme", "tina", []string{"technician", "super_admin"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.PermissionDenied, "roles.manage")
	require.NoError(t, sam.svc.SetUserSecurityGroups(sam.ctx, "acme", "tina", []string{"technician", "admin"}, tenancy.SaveOptions{}))
	owner := w.as("olivia")
	require.NoError(t, owner.svc.SetUserSecurityGroups(owner.ctx, "acme", "tina", []string{"super_admin"}, tenancy.SaveOptions{}))
	err = owner.svc.SetUserSecurityGroups(owner.ctx, "acme", "olivia", []string{"super_admin"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.Blocked, "ACCOUNT_OWNER")
}

// A single-customer user learns nothing of other customers, even by trying to
// edit them; end-customer roles and the Spokesperson's monitors.
func TestOutsideHisCustomerIsNotFound(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", nil, []string{"contoso", "northwind"}, nil)
	_, err := w.svc.CreateSingleCustomerUser(w.ctx, "acme", tenancy.User{ID: "ivan", DisplayName: "Ivan"}, "contoso", nil)
	require.NoError(t, err)
	ivan := w.as("ivan")
	_, err = ivan.svc.SetAlertGroupContacts(ivan.ctx, "acme", "northwind", "ops", []string{"ivan"})
	requireKind(t, err, fault.NotFound, `customer "northwind" not found`)
	_, err = ivan.svc.SetAlertGroupContacts(ivan.ctx, "acme", "contoso", "ops", []string{"ivan"})
	require.NoError(t, err, "customers.edit on his own customer")

	_, err = w.svc.UpdateSettings(w.ctx, "acme", tenancy.Settings{EndCustomerRoleSelection: true})
	require.NoError(t, err)
	_, err = w.svc.CreateEndCustomerUser(w.ctx, "acme", "contoso", tenancy.EndCustomerUser{UserID: "sam", DisplayName: "Sam", Role: "spokesperson"})
	require.NoError(t, err)
	web, err := w.svc.SetMonitorGroup(w.ctx, "acme", "contoso", "web", []string{"sam"})
	require.NoError(t, err)
	require.Equal(t, []string{"sam"}, web.Spokespersons)
	_, err = w.svc.SetMonitorGroup(w.ctx, "acme", "contoso", "db", nil)
	require.NoError(t, err)
	site, err := w.svc.SetMonitor(w.ctx, "acme", "contoso", "site", "web")
	require.NoError(t, err)
	require.Equal(t, "web", site.MonitorGroupID)
	_, err = w.svc.SetMonitor(w.ctx, "acme", "contoso", "postgres", "db")
	require.NoError(t, err)
	// Sam, a Spokesperson, reads only the monitors of the group granted him.
	sam := w.as("sam")
	monitors, err := sam.svc.ListMonitors(sam.ctx, "acme", "contoso", tenancy.Page{}, "")
	require.NoError(t, err)
	require.Equal(t, []string{"site"}, []string{monitors.Items[0].ID})
	require.Len(t, monitors.Items, 1)
	_, err = sam.svc.GetMonitor(sam.ctx, "acme", "contoso", "postgres", "")
	requireKind(t, err, fault.NotFound, `monitor "postgres" of customer "contoso" not found`)
	all, err := w.svc.ListMonitors(w.ctx, "acme", "contoso", tenancy.Page{}, "")
	require.NoError(t, err)
	require.Len(t, all.Items, 2)
	res, _, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{
		{ResourceType: "monitor", ResourceID: "contoso/site", Permission: "view", UserID: "sam"},
		{ResourceType: "monitor", ResourceID: "contoso/postgres", Permission: "view", UserID: "sam"},
		{ResourceType: "customer", ResourceID: "contoso", Permission: "reports.view", UserID: "sam"},
	}, "")
	require.NoError(t, err)
	require.True(t, res[0].Allowed)
	require.False(t, res[1].Allowed)
	require.Equal(t, tenancy.CheckResult{Allowed: true, Via: []string{"end_customer_role:spokesperson"}}, res[2])
	users, err := w.svc.ListEndCustomerUsers(w.ctx, "acme", "contoso")
	require.NoError(t, err)
	require.Equal(t, []tenancy.EndCustomerUser{{UserID: "sam", DisplayName: "Sam", CustomerID: "contoso", Role: "spokesperson"}}, users)
	require.NoError(t, w.svc.DeleteEndCustomerUser(w.ctx, "acme", "contoso", "sam"))
	for _, rel := range w.dump() {
		require.NotContains(t, rel, "acme/sam")
	}
}

// A customer is seen as the one who names it: Gwen, in no security group and
// no customer group, sees no customer, so every customer of a selection is
// unknown to her, however long (visibility first, then permission: not
// "forbidden"); Olivia, who sees them all, saves the same selection.
func TestHiddenCustomersOfALongSelectionAreNotFound(t *testing.T) {
	w := newWorld(t)
	var customers []string
	for i := range 20 {
		customers = append(customers, fmt.Sprintf("c%02d", i))
	}
	w.msp("acme", []string{"gwen"}, customers, []string{"all"})
	before := w.dump()
	_, err := w.svc.EditCustomerGroup(as(w.ctx, "gwen"), "acme", "all", customers, tenancy.SaveOptions{})
	requireKind(t, err, fault.NotFound, `customers: customer "c00" not found`)
	require.Equal(t, before, w.dump())
	_, err = w.svc.EditCustomerGroup(as(w.ctx, "olivia"), "acme", "all", append(customers, "nosuch"), tenancy.SaveOptions{})
	requireKind(t, err, fault.NotFound, `customers: customer "nosuch" not found`)
	_, err = w.svc.EditCustomerGroup(as(w.ctx, "olivia"), "acme", "all", customers, tenancy.SaveOptions{})
	require.NoError(t, err)
}
