package tenancy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// expectedReach is who reaches which customer in a bulk MSP, and through
// which paths (direct first, then the groups by id), worked out from the
// bulk itself.
func expectedReach(b tenancy.BulkMSP) map[tenancy.Pair][]string {
	out := map[tenancy.Pair][]string{}
	for _, p := range b.DirectUsers {
		out[p] = append(out[p], "direct")
	}
	for _, g := range b.CustomerGroups {
		for _, u := range g.Members {
			for _, c := range g.Customers {
				p := tenancy.Pair{UserID: u, CustomerID: c}
				out[p] = append(out[p], "customer_group:"+g.ID)
			}
		}
	}
	return out
}

// A generated MSP imported in bulk answers exactly what its data says: every
// user reaches the customers his groups and direct associations give him,
// through those paths, and its Account Contacts are guarded like any other.
func TestImport_AGeneratedMSPAnswersWhatItsDataSays(t *testing.T) {
	w := newWorld(t)
	preset, err := fixtures.PresetNamed("tiny")
	require.NoError(t, err)
	b := preset.MSP(0)
	require.Equal(t, b, preset.MSP(0), "the generator is deterministic")
	require.NotEmpty(t, b.DirectUsers)
	require.NotEmpty(t, b.AccountContacts)
	require.NotEmpty(t, b.AlertGroups)

	var seen []int
	require.NoError(t, w.svc.ImportMSP(w.ctx, b, func(done, total int) { seen = append(seen, done, total) }))
	require.Equal(t, seen[len(seen)-2], seen[len(seen)-1], "the progress ends at the total")
	msp := b.MSP.ID

	want := expectedReach(b)
	for _, u := range append(b.Users, tenancy.User{ID: fixtures.OwnerUserID}) {
		reach, err := w.svc.CustomersOfUser(w.ctx, msp, u.ID, "")
		require.NoError(t, err)
		got := map[tenancy.Pair][]string{}
		for _, a := range reach.Access {
			got[a.Pair] = a.Via
		}
		for p, via := range want {
			if p.UserID == u.ID {
				require.Equal(t, via, got[p], "%s reaches %s", p.UserID, p.CustomerID)
				delete(got, p)
			}
		}
		require.Empty(t, got, "user %s reaches only what the data says", u.ID)
	}

	contact := b.AccountContacts[0]
	_, err = w.svc.DeleteUser(w.ctx, msp, contact.UserID)
	requireKind(t, err, fault.Blocked, "")
}

// Importing an MSP that exists is refused and changes nothing; so is a bulk
// that breaks a rule, with the field that breaks it named.
func TestImport_RefusesAnExistingMSPAndBrokenData(t *testing.T) {
	w := newWorld(t)
	preset, _ := fixtures.PresetNamed("tiny")
	b := preset.MSP(0)
	require.NoError(t, w.svc.ImportMSP(w.ctx, b, nil))
	before := w.dump()
	requireKind(t, w.svc.ImportMSP(w.ctx, b, nil), fault.AlreadyExists, `msp "gen-tiny-000" already exists`)
	require.Equal(t, before, w.dump())

	broken := func(edit func(*tenancy.BulkMSP)) tenancy.BulkMSP {
		b := preset.MSP(1)
		b.CustomerGroups = slices.Clone(b.CustomerGroups)
		edit(&b)
		return b
	}
	for _, tc := range []struct {
		bulk tenancy.BulkMSP
		msg  string
	}{
		{broken(func(b *tenancy.BulkMSP) { b.MSP.ID = "Bad Id" }), `mspId: "Bad Id" is not a valid id`},
		{broken(func(b *tenancy.BulkMSP) { b.Users = append(b.Users, b.Users[0]) }), `is given twice`},
		{broken(func(b *tenancy.BulkMSP) {
			b.CustomerGroups[0].Customers = append(slices.Clone(b.CustomerGroups[0].Customers), "nowhere")
		}), `customerGroups[0].customers: customer "nowhere" is not among the MSP's customers`},
		{broken(func(b *tenancy.BulkMSP) {
			b.AccountContacts = append(b.AccountContacts, tenancy.Pair{UserID: fixtures.OwnerUserID, CustomerID: b.Customers[0].ID})
		}), `user "owner" does not reach customer "c00000"`},
		{broken(func(b *tenancy.BulkMSP) {
			b.AlertGroups = append(b.AlertGroups, tenancy.BulkAlertGroup{CustomerID: b.Customers[0].ID, ID: "empty"})
		}), `contacts`},
	} {
		requireKind(t, w.svc.ImportMSP(w.ctx, tc.bulk, nil), fault.Invalid, tc.msg)
		require.Equal(t, before, w.dump())
	}
}

// failingImportEnd fails the write that makes an imported MSP exist.
type failingImportEnd struct {
	graph.Graph
	imported bool
}

func (f *failingImportEnd) Import(ctx context.Context, rels []graph.Relationship) error {
	f.imported = true
	return f.Graph.Import(ctx, rels)
}

func (f *failingImportEnd) Write(ctx context.Context, u []graph.Update, p []graph.Precondition) (graph.Revision, error) {
	if f.imported {
		return "", fault.New(fault.Unavailable, "SpiceDB unavailable (injected)")
	}
	return f.Graph.Write(ctx, u, p)
}

// An import cut short before its last write leaves no MSP: nothing of it can
// be seen or grants anything, and the same import run again completes.
func TestImport_CutShortLeavesNoMSPAndRunsAgain(t *testing.T) {
	w := newWorld(t)
	preset, _ := fixtures.PresetNamed("tiny")
	b := preset.MSP(0)
	failing := &failingImportEnd{Graph: w.g}
	err := tenancy.New(failing).ImportMSP(w.ctx, b, nil)
	requireKind(t, err, fault.Unavailable, `import of msp "gen-tiny-000" stopped after`)
	_, err = w.svc.GetMSP(w.ctx, b.MSP.ID)
	requireKind(t, err, fault.NotFound, "")
	allowed, _, err := w.g.Check(w.ctx, []graph.Check{{
		Resource:   graph.Object{Type: "customer", ID: b.MSP.ID + "/" + b.AccountContacts[0].CustomerID},
		Permission: "access",
		Subject:    graph.Object{Type: "user", ID: b.MSP.ID + "/" + b.AccountContacts[0].UserID},
	}}, graph.Full())
	require.NoError(t, err)
	require.False(t, allowed[0], "a half-imported MSP grants nothing")

	require.NoError(t, w.svc.ImportMSP(w.ctx, b, nil))
	require.True(t, w.reachesIn(b.MSP.ID, b.AccountContacts[0].UserID, b.AccountContacts[0].CustomerID))
}
