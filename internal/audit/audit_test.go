package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// TestList_PagesThroughAFilteredTrailOldestFirst records 50 events, of which
// every fifth is Cara's, in two MSPs, and reads Cara's two at a time.
func TestList_PagesThroughAFilteredTrailOldestFirst(t *testing.T) {
	ctx := context.Background()
	l := New(spicedbtest.Graph(t))
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	i := 0
	l.now = func() time.Time { i++; return start.Add(time.Duration(i) * time.Minute) }
	for n := range 50 {
		actor := "pat"
		if n%5 == 0 {
			actor = "cara"
		}
		for _, msp := range []string{"acme", "globex"} {
			_, err := l.Record(ctx, Event{MSP: msp, Actor: actor, Action: "PartnerService/LoginAs", Target: fmt.Sprintf("customer:c%d", n), Outcome: "OK"})
			require.NoError(t, err)
		}
	}

	var got []Event
	token := ""
	for {
		page, next, err := l.List(ctx, "acme", Query{Actor: "cara"}, 2, token)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		got = append(got, page...)
		if next == "" {
			break
		}
		token = next
	}
	require.Len(t, got, 10)
	for k, e := range got {
		require.Equal(t, "acme", e.MSP)
		require.Equal(t, fmt.Sprintf("customer:c%d", 5*k), e.Target)
		if k > 0 {
			require.True(t, got[k-1].Time.Before(e.Time))
		}
	}

	window, _, err := l.List(ctx, "acme", Query{Since: got[2].Time, Until: got[4].Time, Actor: "cara"}, 100, "")
	require.NoError(t, err)
	require.Equal(t, []Event{got[2], got[3]}, window, "since is inclusive, until exclusive")
	one, _, err := l.List(ctx, "globex", Query{Target: "customer:c49"}, 100, "")
	require.NoError(t, err)
	require.Len(t, one, 1)
	require.Equal(t, "pat", one[0].Actor)

	_, _, err = l.List(ctx, "acme", Query{}, 10, "not-a-token")
	require.Equal(t, fault.Invalid, fault.KindOf(err))
}

// TestList_ACustomersOwnTrailHoldsTheEventsThatTouchedIt: each customer an
// event touched finds it in its own trail, paged, filtered, however many
// customers the event touched; the same customer id of another MSP does not.
func TestList_ACustomersOwnTrailHoldsTheEventsThatTouchedIt(t *testing.T) {
	ctx := context.Background()
	l := New(spicedbtest.Graph(t))
	many := make([]string, 2*linksPerWrite+1)
	for i := range many {
		many[i] = fmt.Sprintf("c%04d", i)
	}
	for _, e := range []Event{
		{MSP: "acme", Actor: "pat", Action: "PartnerService/LoginAs", Customers: []string{"fabrikam"}},
		{MSP: "acme", Actor: "cara", Action: "PartnerService/SetPartnerAccess", Customers: []string{"contoso"}},
		{MSP: "globex", Actor: "gina", Action: "PartnerService/LoginAs", Customers: []string{"fabrikam"}},
		{MSP: "acme", Actor: "olivia", Action: "TenancyService/EditCustomerGroup", Customers: append([]string{"contoso", "fabrikam"}, many...)},
		{MSP: "acme", Actor: "fred", Action: "GrantService/ApproveGrant", Customers: []string{"fabrikam"}},
	} {
		_, err := l.Record(ctx, e)
		require.NoError(t, err)
	}
	actors := func(q Query, size int) []string {
		var out []string
		token := ""
		for {
			page, next, err := l.List(ctx, "acme", q, size, token)
			require.NoError(t, err)
			for _, e := range page {
				out = append(out, e.Actor)
			}
			if next == "" {
				return out
			}
			token = next
		}
	}
	require.Equal(t, []string{"pat", "olivia", "fred"}, actors(Query{Customer: "fabrikam"}, 1))
	require.Equal(t, []string{"cara", "olivia"}, actors(Query{Customer: "contoso"}, 100))
	require.Equal(t, []string{"olivia"}, actors(Query{Customer: many[len(many)-1]}, 100), "past one write's links")
	require.Equal(t, []string{"fred"}, actors(Query{Customer: "fabrikam", Action: "GrantService/ApproveGrant"}, 100))
	require.Empty(t, actors(Query{Customer: "initech"}, 100))
}

// Fabrikam's own trail shows what a call did to Fabrikam, and names no other
// customer: not in the target, not in a refusal's message.
func TestList_ACustomersOwnTrailNamesNoOtherCustomer(t *testing.T) {
	ctx := context.Background()
	l := New(spicedbtest.Graph(t))
	_, err := l.Record(ctx, Event{MSP: "acme", Actor: "olivia", Action: "TenancyService/EditCustomerGroup",
		Target: "customer_group:zoho customer:contoso customer:fabrikam (and 3 more customers)", Customers: []string{"contoso", "fabrikam"},
		Outcome: `NotFound: customers: customer "contoso" not found, nor customer "fabrikam"`})
	require.NoError(t, err)
	own, _, err := l.List(ctx, "acme", Query{Customer: "fabrikam"}, 0, "")
	require.NoError(t, err)
	require.Len(t, own, 1)
	require.Equal(t, "customer_group:zoho customer:fabrikam", own[0].Target)
	require.Equal(t, `NotFound: customers: another customer not found, nor customer "fabrikam"`, own[0].Outcome)
	contoso, _, err := l.List(ctx, "acme", Query{Customer: "contoso"}, 0, "")
	require.NoError(t, err)
	require.Equal(t, "customer_group:zoho customer:contoso", contoso[0].Target)
	all, _, err := l.List(ctx, "acme", Query{}, 0, "")
	require.NoError(t, err)
	require.Equal(t, "customer_group:zoho customer:contoso customer:fabrikam (and 3 more customers)", all[0].Target, "the MSP's trail is whole")
}
