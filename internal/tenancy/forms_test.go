package tenancy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Seed 000: "a customer Zylker and a user Alex is associated to the customer
// groups Zoho and Site24x7. Deselecting Zoho will not dissociate Alex from Zylker."
func TestEditCustomerPreferences_AlexKeepsZylkerThroughSite24x7(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editUser("alex", "zoho", "site24x7")
	w.editUser("bob", "zoho")
	rep, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", []string{"zoho", "site24x7"}, []string{"carol"}, tenancy.SaveOptions{})
	require.NoError(t, err)
	require.ElementsMatch(t, []tenancy.Pair{pair("alex", "zylker"), pair("bob", "zylker"), pair("carol", "zylker")}, rep.Associated)

	rep, err = w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", []string{"site24x7"}, nil, tenancy.SaveOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, rep.WrittenAt)
	require.Equal(t, []tenancy.RetainedPair{retained("alex", "zylker", "customer_group:site24x7")}, rep.Retained)
	require.Equal(t, []tenancy.Pair{pair("bob", "zylker"), pair("carol", "zylker")}, rep.Dissociated)
	require.Empty(t, rep.Associated)
	require.True(t, w.reaches("alex", "zylker"))
	require.False(t, w.reaches("bob", "zylker"))
	require.False(t, w.reaches("carol", "zylker"))
}

// The same form, when Zoho was Alex's only path: Alex is removed from Zylker.
func TestEditCustomerPreferences_AlexLeavesZylkerWhenZohoWasHisOnlyPath(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editUser("alex", "zoho")
	w.editGroup("zoho", "zylker")
	rep, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", nil, []string{"bob"}, tenancy.SaveOptions{})
	require.NoError(t, err)
	require.Equal(t, []tenancy.Pair{pair("alex", "zylker")}, rep.Dissociated)
	require.Equal(t, []tenancy.Pair{pair("bob", "zylker")}, rep.Associated)
	require.Empty(t, rep.Retained)
	require.False(t, w.reaches("alex", "zylker"))
}

// Seed 000: "a customer Zylker and a user Alex is associated to the customer
// group Zoho. In case Alex is not associated to any other customer group other
// than Zoho, deselecting Zylker from Zoho will dissociate Alex from Zylker."
func TestEditCustomerGroup_AlexLeavesZylkerWhenZohoWasHisOnlyPath(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editGroup("site24x7", "zylker")
	w.editUser("alex", "zoho")
	w.editUser("bob", "zoho", "site24x7")

	rep := w.editGroup("zoho", "globex")
	require.Equal(t, []tenancy.Pair{pair("alex", "zylker")}, rep.Dissociated)
	require.Equal(t, []tenancy.RetainedPair{retained("bob", "zylker", "customer_group:site24x7")}, rep.Retained)
	require.Empty(t, rep.Associated)
	require.False(t, w.reaches("alex", "zylker"))
	require.True(t, w.reaches("alex", "globex"))
}

// The same form when Alex has another group holding Zylker: he keeps it.
func TestEditCustomerGroup_AlexKeepsZylkerThroughSite24x7(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	w.editGroup("site24x7", "zylker")
	w.editUser("alex", "zoho", "site24x7")

	rep := w.editGroup("zoho", "initech")
	require.Equal(t, []tenancy.RetainedPair{retained("alex", "zylker", "customer_group:site24x7")}, rep.Retained)
	require.Equal(t, []tenancy.Pair{pair("alex", "initech")}, rep.Associated)
	require.Empty(t, rep.Dissociated)
}

// Seed 000: "a customer Zylker has a user Alex associated via the customer
// group Zoho. If Alex is not associated with Zylker through any other customer
// group other than Zoho, Alex will be removed from Zylker."
func TestEditUser_AlexLeavesZylkerWhenZohoWasHisOnlyPath(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editGroup("site24x7", "globex")
	w.editUser("alex", "zoho", "site24x7")

	rep := w.editUser("alex", "site24x7")
	require.Equal(t, []tenancy.Pair{pair("alex", "zylker")}, rep.Dissociated)
	require.Equal(t, []tenancy.RetainedPair{retained("alex", "globex", "customer_group:site24x7")}, rep.Retained)
	require.False(t, w.reaches("alex", "zylker"))
}

// The same form when a direct association also holds Alex to Zylker.
func TestEditUser_AlexKeepsZylkerThroughADirectAssociation(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	w.editUser("alex", "zoho")
	_, err := w.svc.EditCustomerPreferences(w.ctx, "acme", "zylker", []string{"zoho"}, []string{"alex"}, tenancy.SaveOptions{})
	require.NoError(t, err)

	rep := w.editUser("alex")
	require.Equal(t, []tenancy.RetainedPair{retained("alex", "zylker", "direct")}, rep.Retained)
	require.Empty(t, rep.Dissociated)
}

// validateOnly computes the report a save would return, and writes nothing.
func TestValidateOnly_SameReportNothingWritten(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker", "globex")
	w.editGroup("site24x7", "zylker")
	w.editUser("alex", "zoho")
	w.editUser("bob", "zoho", "site24x7")

	before := w.dump()
	preview, err := w.svc.EditCustomerGroup(w.ctx, "acme", "zoho", []string{"globex", "initech"}, tenancy.SaveOptions{ValidateOnly: true})
	require.NoError(t, err)
	require.Equal(t, before, w.dump())
	require.Empty(t, preview.WrittenAt)

	saved := w.editGroup("zoho", "globex", "initech")
	require.NotEmpty(t, saved.WrittenAt)
	saved.WrittenAt = ""
	require.Equal(t, saved, preview)
	require.Equal(t, []tenancy.Pair{pair("alex", "initech"), pair("bob", "initech")}, saved.Associated)
}

// A save that changes nothing writes nothing and reports nothing.
func TestSaveWithoutChangeReportsNothing(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	before := w.dump()
	rep := w.editGroup("zoho", "zylker")
	require.Equal(t, before, w.dump())
	require.Empty(t, rep.Associated)
	require.Empty(t, rep.Dissociated)
	require.Empty(t, rep.Retained)
	require.NotEmpty(t, rep.WrittenAt)
}
