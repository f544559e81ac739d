// Package catalog is the permission catalog of mspauthz: every permission the
// product knows, as data (module × action), with where it applies and whether
// a customer-scoped security group may grant it. The schema's permission
// relations are generated from it (schema/gen).
package catalog

import (
	"slices"
	"strings"
)

// Level is where a permission applies.
type Level string

const (
	// Customer permissions apply to one customer at a time.
	Customer Level = "customer"
	// MSP permissions apply to the MSP as a whole (its administration).
	MSP Level = "msp"
)

// Permission is one entry of the catalog.
type Permission struct {
	// ID is "module.action", e.g. "tickets.create".
	ID          string
	Description string
	Level       Level
	// Scoped: a security group scoped to some customers may grant it. Policy
	// editing and every MSP permission need a group that spans the whole MSP.
	Scoped bool
}

// Module is the part of the id before the dot.
func (p Permission) Module() string { m, _, _ := strings.Cut(p.ID, "."); return m }

// Action is the part of the id after the dot.
func (p Permission) Action() string { _, a, _ := strings.Cut(p.ID, "."); return a }

// Relation is the permission's name in the SpiceDB schema.
func (p Permission) Relation() string { return strings.ReplaceAll(p.ID, ".", "_") }

func customer(id, description string) Permission {
	return Permission{ID: id, Description: description, Level: Customer, Scoped: true}
}

func msp(id, description string) Permission {
	return Permission{ID: id, Description: description, Level: MSP}
}

// All is the catalog, in a stable order.
var All = []Permission{
	// Seed 004 (Syncro's customer-specific security group), module by module.
	customer("api_tokens.manage", "Manage API tokens"),
	customer("assets.backgrounding_tools", "Allow backgrounding tools on assets"),
	customer("assets.remote_access", "Allow remote access to assets"),
	customer("assets.broadcast_message", "Broadcast a message to assets"),
	customer("assets.bulk_script_execute", "Execute scripts on assets in bulk"),
	customer("assets.create", "Create assets"),
	customer("assets.delete", "Delete assets"),
	customer("assets.edit", "Edit assets"),
	customer("assets.list", "List and search assets"),
	customer("assets.view", "View asset details"),
	customer("customers.edit", "Edit the customer"),
	customer("customers.list", "List and search the customer"),
	customer("customers.remote_access_enable", "Enable remote access for the customer"),
	customer("customers.view", "View the customer's details"),
	customer("rmm_alerts.manage", "Clear and manage RMM alerts"),
	customer("rmm_alerts.create", "Create RMM alerts"),
	customer("rmm_alerts.delete", "Delete RMM alerts"),
	customer("rmm_alerts.list", "List RMM alerts"),
	customer("scripts.create", "Create scripts (the forum request under seed 004)"),
	customer("scripts.execute", "Execute scripts"),
	customer("scripts.list", "List scripts"),
	customer("ticket_attachments.view", "View ticket attachments"),
	customer("ticket_comments.create", "Post ticket comments"),
	customer("ticket_comments.delete", "Delete any ticket comment"),
	customer("ticket_comments.delete_own", "Delete the ticket comments one created"),
	customer("tickets.create", "Create tickets"),
	customer("tickets.delete", "Delete tickets"),
	customer("tickets.edit", "Edit tickets"),
	customer("tickets.list", "List and search tickets"),
	customer("tickets.merge", "Merge tickets"),
	customer("tickets.charges", "Use ticket charges"),
	customer("tickets.view", "View any ticket's details"),
	customer("tickets.view_own", "View the details of tickets assigned to one"),
	{ID: "policies.edit", Description: "Edit policies: never in a customer-scoped security group", Level: Customer},

	// Seed 001 (Site24x7's monitoring modules, with their "created by" rights).
	customer("monitors.view", "View every monitor of the customer"),
	customer("maintenance_windows.create", "Schedule maintenance windows"),
	customer("maintenance_windows.edit", "Edit any maintenance window"),
	customer("maintenance_windows.delete", "Delete any maintenance window"),
	customer("maintenance_windows.edit_own", "Edit the maintenance windows one created"),
	customer("maintenance_windows.delete_own", "Delete the maintenance windows one created"),
	customer("outage_comments.create", "Post outage comments"),
	customer("outage_comments.edit", "Update any outage comment"),
	customer("outage_comments.edit_own", "Update the outage comments one posted"),
	customer("reports.view", "Read custom and global benchmark reports"),

	// Seed 003 (an email-security MSP console): partner access to customer domains.
	customer("customers.login_as", "Login As the customer (while its partner access is on)"),
	customer("global_views.email_tracker", "See the customer in the global live email tracker"),
	customer("global_views.policies", "See the customer in the global policy view"),
	customer("global_views.rules", "See the customer in the global rules view"),
	customer("email_logs.view", "View the customer domain's internal email logs"),

	// The administration of the MSP (seed 002 and the API's admin calls).
	msp("users.manage", "Add, edit and delete MSP users and their customer groups"),
	msp("customers.manage", "Create and delete customers, edit their preferences and contacts"),
	msp("customer_groups.manage", "Create, edit and delete customer groups"),
	msp("roles.manage", "Create, edit and delete custom roles"),
	msp("security_groups.manage", "Create, edit and delete security groups and their members"),
	msp("settings.manage", "Change the MSP's settings"),
	msp("audit.view", "Read and export the MSP's audit trail"),
	msp("grants.manage", "Request time-bound access to customers"),
}

var byID = func() map[string]Permission {
	m := make(map[string]Permission, len(All))
	for _, p := range All {
		m[p.ID] = p
	}
	return m
}()

// Lookup returns the permission with id.
func Lookup(id string) (Permission, bool) {
	p, ok := byID[id]
	return p, ok
}

// IDs returns the ids of the permissions that keep says yes to.
func IDs(keep func(Permission) bool) []string {
	var out []string
	for _, p := range All {
		if keep(p) {
			out = append(out, p.ID)
		}
	}
	return out
}

// Every says yes to every permission.
func Every(Permission) bool { return true }

// Except says yes to every permission but the given ones.
func Except(ids ...string) func(Permission) bool {
	return func(p Permission) bool { return !slices.Contains(ids, p.ID) }
}
