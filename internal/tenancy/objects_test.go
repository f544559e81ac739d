package tenancy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Globex's objects do not exist for Acme, whatever the call: not found, never
// forbidden, and nothing is written.
func TestCrossMSPIsolation(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.msp("globex", []string{"gina"}, []string{"northwind"}, []string{"west"})
	before := w.dump()

	cases := []struct {
		name string
		call func() error
		msg  string
	}{
		{"a Globex customer in Acme's group", func() error {
			_, err := w.svc.EditCustomerGroup(w.ctx, "acme", "zoho", []string{"northwind"}, tenancy.SaveOptions{})
			return err
		}, `customers: customer "northwind" not found`},
		{"a Globex group on Acme's user", func() error {
			_, err := w.svc.EditUser(w.ctx, "acme", "alex", []string{"west"}, tenancy.SaveOptions{})
			return err
		}, `customerGroups: customer group "west" not found`},
		{"a Globex user on Acme's customer", func() error {
			_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", nil, []string{"gina"}, tenancy.SaveOptions{})
			return err
		}, `users: user "gina" not found`},
		{"Acme's form on a Globex customer", func() error {
			_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "northwind", []string{"zoho"}, nil, tenancy.SaveOptions{})
			return err
		}, `customerId: customer "northwind" not found`},
		{"deleting a Globex user through Acme", func() error {
			_, err := w.svc.DeleteUser(w.ctx, "acme", "gina")
			return err
		}, `userId: user "gina" not found`},
		{"checking a Globex pair through Acme", func() error {
			_, _, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("gina", "northwind")}, "")
			return err
		}, `resource: customer "northwind" not found`},
		{"listing a Globex user's customers through Acme", func() error {
			_, err := w.svc.CustomersOfUser(w.ctx, "acme", "gina", "")
			return err
		}, `userId: user "gina" not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireKind(t, tc.call(), fault.NotFound, tc.msg)
			require.Equal(t, before, w.dump())
		})
	}

	// The same local ids live side by side in both MSPs.
	_, err := w.svc.CreateUser(w.ctx, "globex", tenancy.User{ID: "alex", DisplayName: "Alex of Globex"})
	require.NoError(t, err)
	w.editGroup("zoho", "zylker")
	w.editUser("alex", "zoho")
	reach, err := w.svc.CustomersOfUser(w.ctx, "globex", "alex", "")
	require.NoError(t, err)
	require.Empty(t, reach.Access)
}

// Deleting a customer or a group leaves no relationship pointing at it.
func TestCascadeDeletes(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editGroup("site24x7", "zylker")
	w.editUser("alex", "zoho", "site24x7")
	w.editUser("bob", "zoho")
	_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", []string{"zoho", "site24x7"}, []string{"carol"}, tenancy.SaveOptions{})
	require.NoError(t, err)
	_, err = w.svc.SetAccountContact(w.ctx, "acme", "zylker", "alex")
	require.NoError(t, err)
	_, err = w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops", []string{"bob", "carol"})
	require.NoError(t, err)

	rep, err := w.svc.DeleteCustomer(w.ctx, "acme", "zylker")
	require.NoError(t, err)
	require.Equal(t, []tenancy.Pair{pair("alex", "zylker"), pair("bob", "zylker"), pair("carol", "zylker")}, rep.Dissociated)
	for _, rel := range w.dump() {
		require.NotContains(t, rel, "acme/zylker", "dangling: %s", rel)
	}
	requireKind(t, func() error { _, err := w.svc.DeleteCustomer(w.ctx, "acme", "zylker"); return err }(), fault.NotFound, `customer "zylker" not found`)

	rep, err = w.svc.DeleteCustomerGroup(w.ctx, "acme", "zoho")
	require.NoError(t, err)
	require.Equal(t, []tenancy.Pair{pair("alex", "globex"), pair("bob", "globex")}, rep.Dissociated)
	for _, rel := range w.dump() {
		require.NotContains(t, rel, "acme/zoho", "dangling: %s", rel)
	}

	rep, err = w.svc.DeleteUser(w.ctx, "acme", "alex")
	require.NoError(t, err)
	require.Empty(t, rep.Dissociated)
	for _, rel := range w.dump() {
		require.NotContains(t, rel, "acme/alex", "dangling: %s", rel)
	}
	// A deleted id can be created again, empty.
	_, err = w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: "alex", DisplayName: "Alex"})
	require.NoError(t, err)
	require.False(t, w.reaches("alex", "globex"))
}

// The account owner can never be deleted; deleting an MSP removes all of it.
func TestAccountOwnerAndMSPDeletion(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.msp("globex", []string{"gina"}, []string{"northwind"}, nil)
	_, err := w.svc.DeleteUser(w.ctx, "acme", "olivia")
	require.Equal(t, []tenancy.Block{{UserID: "olivia", Reason: tenancy.BlockAccountOwner}}, blocksOf(t, err))
	require.Contains(t, err.Error(), "ACCOUNT_OWNER")

	w.editGroup("zoho", "zylker")
	w.editUser("alex", "zoho")
	require.NoError(t, w.svc.DeleteMSP(w.ctx, "acme"))
	for _, rel := range w.dump() {
		require.False(t, strings.Contains(rel, "acme"), "left behind: %s", rel)
	}
	require.NotEmpty(t, w.dump(), "Globex is untouched")
	requireKind(t, w.svc.DeleteMSP(w.ctx, "acme"), fault.NotFound, `msp "acme" not found`)
	_, err = w.svc.EditUser(w.ctx, "acme", "alex", []string{"zoho"}, tenancy.SaveOptions{})
	requireKind(t, err, fault.NotFound, `msp "acme" not found`)

	// An interrupted deletion leaves objects behind; a new MSP of that id starts empty.
	_, err = w.g.Write(w.ctx, []graph.Update{{Op: graph.Create, Relationship: graph.Rel(
		graph.Object{Type: "customer", ID: "acme/leftover"}, "msp", graph.Object{Type: "msp", ID: "acme"})}}, nil)
	require.NoError(t, err)
	w.seedCast()
	for _, rel := range w.dump() {
		require.NotContains(t, rel, "leftover")
	}
}

// Bad input: each a clear error of a documented kind, and nothing written.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	before := w.dump()
	none := tenancy.SaveOptions{}
	cases := []struct {
		name string
		call func() error
		kind fault.Kind
		msg  string
	}{
		{"MSP id with capitals", func() error {
			_, err := w.svc.CreateMSP(w.ctx, tenancy.MSP{ID: "Acme", DisplayName: "x", OwnerUserID: "o"})
			return err
		}, fault.Invalid, `mspId: "Acme" is not a valid id`},
		{"owner id too long", func() error {
			_, err := w.svc.CreateMSP(w.ctx, tenancy.MSP{ID: "new", DisplayName: "x", OwnerUserID: strings.Repeat("a", 65)})
			return err
		}, fault.Invalid, "ownerUserId"},
		{"missing display name", func() error {
			_, err := w.svc.CreateCustomer(w.ctx, "acme", tenancy.Customer{ID: "hooli"})
			return err
		}, fault.Invalid, "displayName is required"},
		{"control character in display name", func() error {
			_, err := w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: "eve", DisplayName: "Eve\x00"})
			return err
		}, fault.Invalid, "displayName must be printable"},
		{"duplicate MSP", func() error {
			_, err := w.svc.CreateMSP(w.ctx, tenancy.MSP{ID: "acme", DisplayName: "Acme", OwnerUserID: "olivia"})
			return err
		}, fault.AlreadyExists, `msp "acme" already exists`},
		{"duplicate user", func() error {
			_, err := w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: "alex", DisplayName: "Alex"})
			return err
		}, fault.AlreadyExists, `user "alex" already exists`},
		{"duplicate customer", func() error {
			_, err := w.svc.CreateCustomer(w.ctx, "acme", tenancy.Customer{ID: "zylker", DisplayName: "Zylker"})
			return err
		}, fault.AlreadyExists, `customer "zylker" already exists`},
		{"duplicate customer group", func() error {
			_, err := w.svc.CreateCustomerGroup(w.ctx, "acme", tenancy.CustomerGroup{ID: "zoho", DisplayName: "Zoho"})
			return err
		}, fault.AlreadyExists, `customer group "zoho" already exists`},
		{"user in an unknown MSP", func() error {
			_, err := w.svc.CreateUser(w.ctx, "nosuch", tenancy.User{ID: "alex", DisplayName: "Alex"})
			return err
		}, fault.NotFound, `msp "nosuch" not found`},
		{"form on an unknown MSP", func() error {
			_, err := w.svc.EditUser(w.ctx, "nosuch", "alex", []string{"zoho"}, none)
			return err
		}, fault.NotFound, `msp "nosuch" not found`},
		{"invalid id in a selection", func() error {
			_, err := w.svc.EditUser(w.ctx, "acme", "alex", []string{"zoho", "Site 24x7"}, none)
			return err
		}, fault.Invalid, `customerGroups[1]: "Site 24x7" is not a valid id`},
		{"repeated selection", func() error {
			_, err := w.svc.EditCustomerGroup(w.ctx, "acme", "zoho", []string{"zylker", "globex", "zylker"}, none)
			return err
		}, fault.Invalid, `customers: "zylker" is selected twice`},
		{"empty selection", func() error {
			_, err := w.svc.EditUser(w.ctx, "acme", "alex", nil, none)
			return err
		}, fault.Invalid, "customerGroups: the selection is empty"},
		{"empty preferences", func() error {
			_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", nil, nil, none)
			return err
		}, fault.Invalid, "customerGroups and users: the selection is empty"},
		{"unknown customer in a selection", func() error {
			_, err := w.svc.EditCustomerGroup(w.ctx, "acme", "zoho", []string{"zylker", "hooli"}, none)
			return err
		}, fault.NotFound, `customers: customer "hooli" not found`},
		{"unknown group form", func() error {
			_, err := w.svc.EditCustomerGroup(w.ctx, "acme", "nosuch", []string{"zylker"}, none)
			return err
		}, fault.NotFound, `customerGroupId: customer group "nosuch" not found`},
		{"unknown user form", func() error {
			_, err := w.svc.EditUser(w.ctx, "acme", "nosuch", []string{"zoho"}, none)
			return err
		}, fault.NotFound, `userId: user "nosuch" not found`},
		{"unknown account contact", func() error {
			_, err := w.svc.SetAccountContact(w.ctx, "acme", "zylker", "nosuch")
			return err
		}, fault.NotFound, `userId: user "nosuch" not found`},
		{"empty alert group", func() error {
			_, err := w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops", nil)
			return err
		}, fault.Invalid, "contacts: the selection is empty"},
		{"invalid alert group id", func() error {
			_, err := w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops/x", []string{"alex"})
			return err
		}, fault.Invalid, "alertGroupId"},
		{"invalid ZedToken", func() error {
			_, _, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("alex", "zylker")}, "not-a-token")
			return err
		}, fault.Invalid, "atLeastAsFresh"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireKind(t, tc.call(), tc.kind, tc.msg)
			require.Equal(t, before, w.dump())
		})
	}
}

// Lists come a page at a time from one snapshot; Get finds one object.
func TestListAndGet(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.msp("globex", []string{"gina"}, nil, nil)

	var all []string
	page := tenancy.Page{Size: 2}
	for {
		users, next, err := w.svc.ListUsers(w.ctx, "acme", page, tenancy.ViewDefault, "")
		require.NoError(t, err)
		require.LessOrEqual(t, len(users), 2)
		for _, u := range users {
			all = append(all, u.ID+"="+u.DisplayName)
		}
		if next == "" {
			break
		}
		if len(all) == 2 {
			// A user created after the first page does not appear in this list.
			_, err := w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: "zed", DisplayName: "Zed"})
			require.NoError(t, err)
		}
		page.Token = next
	}
	require.Equal(t, []string{"alex=alex", "bob=bob", "carol=carol", "olivia=olivia", "ulla=ulla", "vic=vic"}, all)

	msps, next, err := w.svc.ListMSPs(w.ctx, "", tenancy.Page{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []tenancy.MSP{{ID: "acme", DisplayName: "acme IT", OwnerUserID: "olivia"}, {ID: "globex", DisplayName: "globex IT", OwnerUserID: "olivia"}}, msps)

	m, err := w.svc.GetMSP(w.ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, &tenancy.MSP{ID: "acme", DisplayName: "acme IT", OwnerUserID: "olivia"}, m)
	c, err := w.svc.GetCustomer(w.ctx, "acme", "zylker", "", tenancy.ViewBasic)
	require.NoError(t, err)
	require.Equal(t, &tenancy.Customer{ID: "zylker", DisplayName: "zylker"}, c)
	_, err = w.svc.GetCustomerGroup(w.ctx, "globex", "zoho", "", tenancy.ViewDefault)
	requireKind(t, err, fault.NotFound, `customerGroupId: customer group "zoho" not found`)
	_, _, err = w.svc.ListCustomers(w.ctx, "acme", tenancy.Page{Token: "garbage"}, tenancy.ViewDefault, "")
	requireKind(t, err, fault.Invalid, "pageToken")
	_, _, err = w.svc.ListCustomers(w.ctx, "acme", tenancy.Page{Size: 5000}, tenancy.ViewDefault, "")
	requireKind(t, err, fault.Invalid, "pageSize")
}

// A list answers its items as their gets do; the BASIC view, which a picker
// asks for, leaves the memberships out.
func TestList_TheBasicViewNamesWithoutMemberships(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editUser("alex", "zoho")
	w.editGroup("zoho", "zylker")

	full, _, err := w.svc.ListUsers(w.ctx, "acme", tenancy.Page{}, tenancy.ViewDefault, "")
	require.NoError(t, err)
	basic, _, err := w.svc.ListUsers(w.ctx, "acme", tenancy.Page{}, tenancy.ViewBasic, "")
	require.NoError(t, err)
	require.Equal(t, "alex", full[0].ID)
	require.NotEmpty(t, full[0].CustomerGroups, "the full view fills Alex's groups")
	require.Equal(t, "alex", basic[0].ID)
	require.Empty(t, basic[0].CustomerGroups)
	require.Equal(t, len(full), len(basic))

	groups, _, err := w.svc.ListCustomerGroups(w.ctx, "acme", tenancy.Page{}, tenancy.ViewDefault, "")
	require.NoError(t, err)
	bare, _, err := w.svc.ListCustomerGroups(w.ctx, "acme", tenancy.Page{}, tenancy.ViewBasic, "")
	require.NoError(t, err)
	require.Equal(t, len(groups), len(bare))
	for i := range groups {
		require.Equal(t, groups[i].ID, bare[i].ID)
		require.Equal(t, groups[i].DisplayName, bare[i].DisplayName)
		require.Empty(t, bare[i].Members)
		require.Empty(t, bare[i].Customers)
	}
	require.NotEmpty(t, groups[len(groups)-1].Customers, "zoho lists zylker in the full view")
}

// The lists of users and customer groups find by id or name, in any case,
// as the customers list does: what a picker's search asks.
func TestList_UsersAndGroupsAreFoundByIdOrName(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	_, err := w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: "zed", DisplayName: "Alexandra Zed"})
	require.NoError(t, err)
	ids := func(users []tenancy.User) (out []string) {
		for _, u := range users {
			out = append(out, u.ID)
		}
		return out
	}
	found, next, err := w.svc.ListUsers(w.ctx, "acme", tenancy.Page{}, tenancy.ViewBasic, "ALEX")
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []string{"alex", "zed"}, ids(found), "by id and by name")
	found, _, err = w.svc.ListUsers(w.ctx, "acme", tenancy.Page{}, tenancy.ViewDefault, "nobody")
	require.NoError(t, err)
	require.Empty(t, found)

	groups, _, err := w.svc.ListCustomerGroups(w.ctx, "acme", tenancy.Page{}, tenancy.ViewBasic, "24X")
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.Equal(t, "site24x7", groups[0].ID)
}
