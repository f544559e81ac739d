package tenancy_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// benchDashboard is a generated dashboard: users users, each in 3 of
// users/10 customer groups, each group holding 10 of users/5 customers, every
// user a technician. changed alters every tenth user (renamed, moved to three
// other groups, made read only) and every tenth group (one customer replaced).
func benchDashboard(users int, changed bool) tenancy.SyncSnapshot {
	groups, customers := users/10, users/5
	snap := tenancy.SyncSnapshot{MSPID: "bench"}
	for g := range groups {
		cg := tenancy.SyncCustomerGroup{ID: fmt.Sprintf("g%d", g), DisplayName: fmt.Sprintf("Group %d", g)}
		for k := range 10 {
			c := (g*7 + k*(customers/10)) % customers
			if changed && g%10 == 0 && k == 0 {
				c = (c + 1) % customers
			}
			cg.Customers = append(cg.Customers, fmt.Sprintf("c%d", c))
		}
		snap.CustomerGroups = append(snap.CustomerGroups, cg)
	}
	for u := range users {
		moved := changed && u%10 == 0
		su := tenancy.SyncUser{ID: fmt.Sprintf("u%d", u), DisplayName: fmt.Sprintf("user%d@msp.example", u), Roles: []string{"technician"}}
		shift := 0
		if moved {
			su.DisplayName, su.Roles, shift = "renamed-"+su.DisplayName, []string{"read_only"}, 1
		}
		snap.Users = append(snap.Users, su)
		for j := range 3 {
			snap.Assignments = append(snap.Assignments, tenancy.Assignment{UserID: su.ID, CustomerGroupID: fmt.Sprintf("g%d", (u+j*(groups/3)+shift)%groups)})
		}
	}
	return snap
}

// BenchmarkSync runs a dashboard's sync of MSPAUTHZ_BENCH_SYNC_USERS users
// (default 10,000; a tenth as many groups) against the state it already
// holds ("unchanged") and against a state of which a tenth changed
// (alternately forward and back), reporting SpiceDB calls and writes per
// sync. At the default size run it on PostgreSQL
// (MSPAUTHZ_TEST_BACKEND=postgres): the memory datastore scans.
func BenchmarkSync(b *testing.B) {
	users := 10000
	if v := os.Getenv("MSPAUTHZ_BENCH_SYNC_USERS"); v != "" {
		var err error
		users, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	ctx := context.Background()
	target := spicedbtest.TargetOn(b, spicedbtest.Backend())
	counting := &graph.Counting{Graph: spicedb.NewGraph(target.Conn(b))}
	svc := tenancy.New(counting)
	require.NoError(b, svc.EnsureBuiltinRoles(ctx))
	_, err := svc.CreateMSP(ctx, tenancy.MSP{ID: "bench", DisplayName: "Bench", OwnerUserID: "owner"})
	require.NoError(b, err)
	var customers []graph.Update
	for c := range users / 5 {
		customers = append(customers, graph.Update{Op: graph.Create, Relationship: graph.Rel(
			graph.Object{Type: "customer", ID: fmt.Sprintf("bench/c%d", c)}, "msp", graph.Object{Type: "msp", ID: "bench"})})
	}
	_, err = counting.Write(ctx, customers, nil)
	require.NoError(b, err)

	base, changed := benchDashboard(users, false), benchDashboard(users, true)
	start := time.Now()
	first, err := svc.RunSync(ctx, "bench", "rmm", base, tenancy.SyncOptions{})
	require.NoError(b, err)
	target.Analyze(b)
	b.Logf("first sync of %d users, %d groups, %d assignments: %s, %d writes, %d pairs associated",
		users, len(base.CustomerGroups), len(base.Assignments), time.Since(start).Round(time.Millisecond), first.Writes, len(first.Associated))

	run := func(b *testing.B, next func(i int) tenancy.SyncSnapshot, check func(*tenancy.SyncResult)) {
		counting.Reset()
		writes := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := svc.RunSync(ctx, "bench", "rmm", next(i), tenancy.SyncOptions{})
			if err != nil {
				b.Fatal(err)
			}
			check(res)
			writes += res.Writes
		}
		b.StopTimer()
		b.ReportMetric(float64(counting.Calls())/float64(b.N), "spicedb-calls/sync")
		b.ReportMetric(float64(writes)/float64(b.N), "writes/sync")
	}
	b.Run("unchanged", func(b *testing.B) {
		run(b, func(int) tenancy.SyncSnapshot { return base }, func(res *tenancy.SyncResult) {
			if len(res.AssignmentsAdded)+len(res.Users.Updated)+len(res.Associated) > 0 {
				b.Fatalf("an unchanged sync changed something: %+v", res.Users)
			}
		})
	})
	// The state alternates across b.Run's calls too: each sync flips it.
	flipped := false
	b.Run("changed=10%", func(b *testing.B) {
		run(b, func(int) tenancy.SyncSnapshot {
			flipped = !flipped
			if flipped {
				return changed
			}
			return base
		}, func(res *tenancy.SyncResult) {
			if len(res.Users.Updated) != users/10 {
				b.Fatalf("%d users updated, want %d", len(res.Users.Updated), users/10)
			}
		})
	})
}
