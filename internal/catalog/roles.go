package catalog

import "slices"

// BuiltinRole is a role of MSP staff that ships with mspauthz and cannot be
// edited. Each MSP has one security group per built-in role, of that role's
// scope, named after it.
type BuiltinRole struct {
	ID          string
	DisplayName string
	// AllCustomers: the role's security group spans every customer of the MSP;
	// otherwise it applies to the customers each member is associated with.
	AllCustomers bool
	Permissions  []string
}

// readOnly is what the read-only role holds.
var readOnly = []string{
	"assets.list", "assets.view", "customers.list", "customers.view", "monitors.view", "reports.view",
	"rmm_alerts.list", "scripts.list", "ticket_attachments.view", "tickets.list", "tickets.view",
}

// BuiltinRoles is the matrix of built-in MSP staff roles (docs/access.md shows it).
var BuiltinRoles = []BuiltinRole{
	{ID: "account_owner", DisplayName: "Account owner", AllCustomers: true, Permissions: IDs(Every)},
	{ID: "super_admin", DisplayName: "Super admin", AllCustomers: true, Permissions: IDs(Every)},
	{ID: "admin", DisplayName: "Admin", AllCustomers: true, Permissions: IDs(Except("roles.manage", "settings.manage"))},
	{ID: "technician", DisplayName: "Technician", Permissions: IDs(func(p Permission) bool {
		return p.Level == Customer && p.Scoped && !slices.Contains([]string{
			"api_tokens.manage", "assets.delete", "customers.edit", "customers.remote_access_enable",
			"rmm_alerts.delete", "ticket_comments.delete", "tickets.delete", "tickets.merge",
			"maintenance_windows.edit", "maintenance_windows.delete", "outage_comments.edit",
			"customers.login_as", "global_views.email_tracker", "global_views.policies", "global_views.rules", "email_logs.view",
		}, p.ID)
	})},
	{ID: "partner", DisplayName: "Partner", AllCustomers: true, Permissions: append(append([]string{}, readOnly...),
		"ticket_comments.create", "tickets.create", "customers.login_as", "global_views.email_tracker", "global_views.policies",
		"global_views.rules", "email_logs.view")},
	{ID: "read_only", DisplayName: "Read only", Permissions: readOnly},
}

// LookupBuiltinRole returns the built-in role with id.
func LookupBuiltinRole(id string) (BuiltinRole, bool) {
	for _, r := range BuiltinRoles {
		if r.ID == id {
			return r, true
		}
	}
	return BuiltinRole{}, false
}

// EndCustomerRole is one of the seven roles an end-customer user holds in a
// customer (seed 001).
type EndCustomerRole struct {
	ID          string
	DisplayName string
	// Channel is where the role reaches the customer: "portal" (the
	// white-labeled control panel), "web_client" (the default web client) or
	// "" (alerts only).
	Channel     string
	Permissions []string
}

// DefaultEndCustomerRole is the role a new end-customer user gets when the MSP
// has not enabled role selection.
const DefaultEndCustomerRole = "portal"

// EndCustomerRoles are the seven end-customer roles. The "created by" rights of
// the Operator end once someone else who may edit any window modifies it; that
// rule lives in the schema (maintenance_window#edit).
var EndCustomerRoles = []EndCustomerRole{
	{ID: "portal", DisplayName: "White-labeled Client Portal (read only)", Channel: "portal",
		Permissions: []string{"monitors.view", "reports.view"}},
	{ID: "admin", DisplayName: "Admin", Channel: "web_client",
		Permissions: []string{"monitors.view", "reports.view", "maintenance_windows.create", "maintenance_windows.edit",
			"maintenance_windows.delete", "outage_comments.create", "outage_comments.edit"}},
	{ID: "operator", DisplayName: "Operator", Channel: "web_client",
		Permissions: []string{"monitors.view", "reports.view", "maintenance_windows.create", "outage_comments.create", "outage_comments.edit_own"}},
	{ID: "read_only", DisplayName: "Read Only", Channel: "web_client",
		Permissions: []string{"monitors.view", "reports.view"}},
	{ID: "spokesperson", DisplayName: "Spokesperson", Channel: "web_client",
		Permissions: []string{"reports.view"}},
	{ID: "hosting_provider", DisplayName: "Hosting Provider", Channel: "web_client",
		Permissions: []string{"monitors.view", "reports.view", "maintenance_windows.create", "maintenance_windows.edit_own", "maintenance_windows.delete_own"}},
	{ID: "alert_contact", DisplayName: "Alert Contact (no access to the web client)", Channel: ""},
}

// LookupEndCustomerRole returns the end-customer role with id.
func LookupEndCustomerRole(id string) (EndCustomerRole, bool) {
	for _, r := range EndCustomerRoles {
		if r.ID == id {
			return r, true
		}
	}
	return EndCustomerRole{}, false
}
