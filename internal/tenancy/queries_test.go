package tenancy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Explain: who reaches Zylker and how, what Alex reaches and how, and a check
// made with the token of a dissociation, which can never see the old access.
func TestWhoReachesWhatAndWhy(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editGroup("site24x7", "zylker")
	w.editUser("alex", "zoho", "site24x7")
	w.editUser("bob", "site24x7")
	_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", []string{"zoho", "site24x7"}, []string{"alex", "carol"}, tenancy.SaveOptions{})
	require.NoError(t, err)

	users, err := w.svc.UsersOfCustomer(w.ctx, "acme", "zylker", "")
	require.NoError(t, err)
	require.NotEmpty(t, users.CheckedAt)
	require.Equal(t, []tenancy.Access{
		{Pair: pair("alex", "zylker"), Via: []string{"direct", "customer_group:site24x7", "customer_group:zoho"}},
		{Pair: pair("bob", "zylker"), Via: []string{"customer_group:site24x7"}},
		{Pair: pair("carol", "zylker"), Via: []string{"direct"}},
	}, users.Access)

	customers, err := w.svc.CustomersOfUser(w.ctx, "acme", "alex", "")
	require.NoError(t, err)
	require.Equal(t, []tenancy.Access{
		{Pair: pair("alex", "globex"), Via: []string{"customer_group:zoho"}},
		{Pair: pair("alex", "zylker"), Via: []string{"direct", "customer_group:site24x7", "customer_group:zoho"}},
	}, customers.Access)

	checks, checkedAt, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("alex", "zylker"), accessOf("bob", "globex"), accessOf("carol", "zylker")}, "")
	require.NoError(t, err)
	require.NotEmpty(t, checkedAt)
	require.Equal(t, []tenancy.CheckResult{
		{Allowed: true, Via: []string{"direct", "customer_group:site24x7", "customer_group:zoho"}},
		{Allowed: false},
		{Allowed: true, Via: []string{"direct"}},
	}, checks)

	rep := w.editGroup("site24x7")
	require.Equal(t, []tenancy.Pair{pair("bob", "zylker")}, rep.Dissociated)
	checks, checkedAt, err = w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("bob", "zylker")}, rep.WrittenAt)
	require.NoError(t, err)
	require.Equal(t, []tenancy.CheckResult{{Allowed: false}}, checks)
	require.NotEmpty(t, checkedAt)
}
