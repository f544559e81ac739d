package tenancy_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

func blocksOf(t *testing.T, err error) []tenancy.Block {
	t.Helper()
	requireKind(t, err, fault.Blocked, "nothing was written")
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	blocks, ok := f.Details.([]tenancy.Block)
	require.True(t, ok, "details: %#v", f.Details)
	return blocks
}

// Seed 000: "User dissociation will fail if the user is the Account Contact".
// Each of the three forms is refused, and writes nothing.
func TestGuard_AccountContactBlocksEveryForm(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	w.editUser("alex", "zoho")
	_, err := w.svc.SetAccountContact(w.ctx, "acme", "zylker", "alex")
	require.NoError(t, err)
	want := []tenancy.Block{{UserID: "alex", CustomerID: "zylker", Reason: tenancy.BlockAccountContact}}

	before := w.dump()
	saves := map[string]func() error{
		"Edit Customer Preferences": func() error {
			_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", nil, []string{"bob"}, tenancy.SaveOptions{})
			return err
		},
		"Edit Customer Group": func() error {
			_, err := w.svc.EditCustomerGroup(w.ctx, "acme", "zoho", []string{"globex"}, tenancy.SaveOptions{})
			return err
		},
		"Edit User": func() error {
			_, err := w.svc.EditUser(w.ctx, "acme", "alex", []string{"site24x7"}, tenancy.SaveOptions{})
			return err
		},
		"validateOnly": func() error {
			_, err := w.svc.EditUser(w.ctx, "acme", "alex", []string{"site24x7"}, tenancy.SaveOptions{ValidateOnly: true})
			return err
		},
		"Delete User": func() error {
			_, err := w.svc.DeleteUser(w.ctx, "acme", "alex")
			return err
		},
		"Delete Customer Group": func() error {
			_, err := w.svc.DeleteCustomerGroup(w.ctx, "acme", "zoho")
			return err
		},
	}
	for name, save := range saves {
		t.Run(name, func(t *testing.T) {
			err := save()
			require.Equal(t, want, blocksOf(t, err))
			require.Contains(t, err.Error(), `user "alex" would lose his last path but is the Account Contact (ACCOUNT_CONTACT) (customer "zylker")`)
			require.Equal(t, before, w.dump())
		})
	}

	// Another path keeps the Account Contact on Zylker: then the save goes through.
	w.editGroup("site24x7", "zylker")
	rep := w.editUser("alex", "site24x7")
	require.Equal(t, []tenancy.RetainedPair{retained("alex", "zylker", "customer_group:site24x7")}, rep.Retained)
}

// Seed 000: "... or the last contact of an User Alert Group". A contact who is
// not the last one is dissociated and taken off the alert group with the save.
func TestGuard_LastAlertGroupContact(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	w.editUser("ulla", "zoho")
	w.editUser("vic", "zoho")
	_, err := w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops", []string{"ulla", "vic"})
	require.NoError(t, err)
	_, err = w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "night", []string{"ulla"})
	require.NoError(t, err)

	before := w.dump()
	_, err = w.svc.EditUser(w.ctx, "acme", "ulla", nil, tenancy.SaveOptions{AllowEmpty: true})
	require.Equal(t, []tenancy.Block{{UserID: "ulla", CustomerID: "zylker", Reason: tenancy.BlockLastAlertGroupContact, AlertGroupID: "night"}}, blocksOf(t, err))
	require.Contains(t, err.Error(), `last contact of alert group "night"`)
	require.Equal(t, before, w.dump())

	// Vic is not the last contact of "ops": he leaves Zylker and "ops" with it.
	rep := w.editUser("vic")
	require.Equal(t, []tenancy.Pair{pair("vic", "zylker")}, rep.Dissociated)
	require.Equal(t, []tenancy.AlertContactRemoval{{Pair: pair("vic", "zylker"), AlertGroupID: "ops"}}, rep.AlertContactsRemoved)
	// Now Ulla is the last contact of both groups.
	_, err = w.svc.EditUser(w.ctx, "acme", "ulla", nil, tenancy.SaveOptions{AllowEmpty: true})
	require.Equal(t, []tenancy.Block{
		{UserID: "ulla", CustomerID: "zylker", Reason: tenancy.BlockLastAlertGroupContact, AlertGroupID: "night"},
		{UserID: "ulla", CustomerID: "zylker", Reason: tenancy.BlockLastAlertGroupContact, AlertGroupID: "ops"},
	}, blocksOf(t, err))
}

// Both guards at once, for several users: the error names every block.
func TestGuard_BothGuardsTogetherListEveryBlock(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editUser("alex", "zoho")
	w.editUser("ulla", "zoho")
	_, err := w.svc.SetAccountContact(w.ctx, "acme", "zylker", "alex")
	require.NoError(t, err)
	_, err = w.svc.SetAccountContact(w.ctx, "acme", "globex", "ulla")
	require.NoError(t, err)
	_, err = w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops", []string{"ulla"})
	require.NoError(t, err)

	before := w.dump()
	_, err = w.svc.EditCustomerGroup(w.ctx, "acme", "zoho", nil, tenancy.SaveOptions{AllowEmpty: true})
	require.Equal(t, []tenancy.Block{
		{UserID: "alex", CustomerID: "zylker", Reason: tenancy.BlockAccountContact},
		{UserID: "ulla", CustomerID: "globex", Reason: tenancy.BlockAccountContact},
		{UserID: "ulla", CustomerID: "zylker", Reason: tenancy.BlockLastAlertGroupContact, AlertGroupID: "ops"},
	}, blocksOf(t, err))
	require.Equal(t, before, w.dump())
}

// A contact must reach the customer he is made a contact of.
func TestContactsMustReachTheCustomer(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	before := w.dump()
	_, err := w.svc.SetAccountContact(w.ctx, "acme", "zylker", "alex")
	require.Equal(t, []tenancy.Block{{UserID: "alex", CustomerID: "zylker", Reason: tenancy.BlockNotAssociated}}, blocksOf(t, err))
	_, err = w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops", []string{"alex"})
	require.Equal(t, []tenancy.Block{{UserID: "alex", CustomerID: "zylker", Reason: tenancy.BlockNotAssociated}}, blocksOf(t, err))
	require.Equal(t, before, w.dump())
}

// The write-skew race of two saves: Ulla and Vic are the two contacts of
// Zylker's alert group; one save removes Ulla's only path while the other
// removes Vic's. Each alone is allowed (the other contact remains), together
// they would leave the group with nobody. Run many times, they never both
// succeed, and the group always keeps a contact who reaches Zylker.
func TestGuard_RacingSavesCannotBothRemoveTheLastTwoContacts(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	w.editGroup("site24x7", "zylker")
	for round := 0; round < 60; round++ {
		w.editUser("ulla", "zoho")
		w.editUser("vic", "site24x7")
		_, err := w.svc.SetAlertGroupContacts(w.ctx, "acme", "zylker", "ops", []string{"ulla", "vic"})
		require.NoError(t, err)

		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, user := range []string{"ulla", "vic"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if round%2 == 0 {
					_, errs[i] = w.svc.EditUser(w.ctx, "acme", user, nil, tenancy.SaveOptions{AllowEmpty: true})
				} else {
					group := map[string]string{"ulla": "zoho", "vic": "site24x7"}[user]
					_, errs[i] = w.svc.EditCustomerGroup(w.ctx, "acme", group, nil, tenancy.SaveOptions{AllowEmpty: true})
				}
			}()
		}
		close(start)
		wg.Wait()

		succeeded := 0
		for _, err := range errs {
			if err == nil {
				succeeded++
				continue
			}
			require.Equal(t, tenancy.BlockLastAlertGroupContact, blocksOf(t, err)[0].Reason)
		}
		require.Equal(t, 1, succeeded, "round %d: %v", round, errs)
		require.True(t, w.reaches("ulla", "zylker") || w.reaches("vic", "zylker"), "round %d", round)
		w.editGroup("zoho", "zylker")
		w.editGroup("site24x7", "zylker")
	}
}
