package reach_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/schema"
)

// flaky is a graph whose watches can be cut, refused, held back or made to
// lose changes.
type flaky struct {
	graph.Graph
	mu sync.Mutex
	// down: Watch fails as SpiceDB unreachable.
	down bool
	// refuse: so many next Watch calls fail as a revision SpiceDB can no
	// longer watch from (garbage-collected).
	refuse int
	// held, when not nil, holds every checkpoint back until it is closed.
	held chan struct{}
	// lose, when set, drops the changes it matches from every watch.
	lose func(graph.Update) bool
	cuts []context.CancelFunc
}

func (f *flaky) Watch(ctx context.Context, filters []graph.Filter, since graph.Revision) (graph.ChangeStream, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, fault.New(fault.Unavailable, "SpiceDB is down")
	}
	if f.refuse > 0 {
		f.refuse--
		return nil, fault.New(fault.Invalid, "SpiceDB cannot watch from %s: garbage-collected", since)
	}
	cut, cancel := context.WithCancel(ctx)
	f.cuts = append(f.cuts, cancel)
	s, err := f.Graph.Watch(cut, filters, since)
	if err != nil {
		return nil, err
	}
	return &flakyStream{ChangeStream: s, ctx: ctx, f: f}, nil
}

// cut breaks every watch under way.
func (f *flaky) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cancel := range f.cuts {
		cancel()
	}
	f.cuts = nil
}

func (f *flaky) set(change func(f *flaky)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

type flakyStream struct {
	graph.ChangeStream
	ctx context.Context
	f   *flaky
}

func (s *flakyStream) Next() (graph.Changes, error) {
	ch, err := s.ChangeStream.Next()
	if err != nil {
		if s.ctx.Err() == nil {
			return ch, fault.Wrap(err, fault.Unavailable, "the watch was cut")
		}
		return ch, err
	}
	s.f.mu.Lock()
	held, lose := s.f.held, s.f.lose
	s.f.mu.Unlock()
	if ch.Checkpoint && held != nil {
		select {
		case <-held:
		case <-s.ctx.Done():
			return ch, s.ctx.Err()
		}
	}
	if lose != nil {
		kept := ch.Updates[:0:0]
		for _, u := range ch.Updates {
			if !lose(u) {
				kept = append(kept, u)
			}
		}
		ch.Updates = kept
	}
	return ch, nil
}

// waitState waits until the index is in state s.
func waitState(t *testing.T, x *index, s reach.State) {
	t.Helper()
	require.Eventually(t, func() bool { return x.Status().State == s }, 30*time.Second, 5*time.Millisecond, "the index never became %s", s)
}

// writes makes n random writes and returns the last one's revision.
func writes(t *testing.T, w world, r *rand.Rand, g graph.Graph, n int) graph.Revision {
	t.Helper()
	var last graph.Revision
	for range n {
		last = w.randomWrite(context.Background(), t, r, g)
	}
	return last
}

func seeded(t *testing.T, g graph.Graph) (world, *rand.Rand) {
	t.Helper()
	w := newWorld()
	_, err := g.Write(context.Background(), w.base(), nil)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(9, 2))
	writes(t, w, r, g, 50)
	return w, r
}

// The watch breaks and SpiceDB stays out of reach a while: the index is
// stale, answers go to SpiceDB, and once SpiceDB is back the watch resumes
// from the index's revision — every write made meanwhile applied, no rebuild.
func TestIndex_ResumesWithoutAGapAfterTheWatchBreaks(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Graph: spicedbtest.Graph(t)}
	w, r := seeded(t, f)
	x, rec, _ := start(t, f, reach.Options{})

	f.set(func(f *flaky) { f.down = true })
	f.cut()
	waitState(t, x, reach.Stale)
	_, ok := x.Read(ctx, "", func(reach.View) { t.Fatal("a stale index answered") })
	require.False(t, ok)
	last := writes(t, w, r, f, 60)

	f.set(func(f *flaky) { f.down = false })
	waitFor(t, x, last)
	compare(ctx, t, x, f, w, last)
	require.Positive(t, rec.count(reach.EventStaleWatch))
	require.Positive(t, rec.count(reach.EventResumed))
	require.Positive(t, rec.count(reach.EventFallbackState))
	require.Equal(t, 1, rec.count(reach.EventBuilt), "resumed, not rebuilt")
}

// SpiceDB can no longer watch from the index's revision (its changes were
// garbage-collected, or its memory datastore restarted): the index rebuilds
// from a new snapshot.
func TestIndex_RebuildsWhenTheWatchCannotResume(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Graph: spicedbtest.Graph(t)}
	w, r := seeded(t, f)
	x, rec, _ := start(t, f, reach.Options{})

	f.set(func(f *flaky) { f.refuse = 1 })
	f.cut()
	last := writes(t, w, r, f, 40)
	waitFor(t, x, last)
	compare(ctx, t, x, f, w, last)
	require.Equal(t, 1, rec.count(reach.EventStaleRevision))
	require.Equal(t, 2, rec.count(reach.EventBuilt))
}

// A schema change marks the index stale; while SpiceDB's schema is not the
// one whose access permission it computes, it stays stale and SpiceDB
// answers; once the schema is back it rebuilds.
func TestIndex_StaysStaleWhileTheSchemaIsAnother(t *testing.T) {
	ctx := context.Background()
	conn := spicedbtest.Conn(t)
	g := spicedb.NewGraph(conn)
	w, r := seeded(t, g)
	x, rec, _ := start(t, g, reach.Options{Schema: func(ctx context.Context) error { return spicedb.CheckSchema(ctx, conn, schema.Text) }})

	_, err := spicedb.EnsureSchema(ctx, conn, schema.Text+"\ndefinition another_thing {}\n")
	require.NoError(t, err)
	waitState(t, x, reach.Stale)
	last := writes(t, w, r, g, 20)
	time.Sleep(50 * time.Millisecond) // rebuilds are attempted, and refused
	require.NotEqual(t, reach.Live, x.Status().State)
	_, ok := x.Read(ctx, "", func(reach.View) { t.Fatal("answered under another schema") })
	require.False(t, ok)

	_, err = spicedb.EnsureSchema(ctx, conn, schema.Text)
	require.NoError(t, err)
	waitFor(t, x, last)
	compare(ctx, t, x, g, w, last)
	require.Positive(t, rec.count(reach.EventStaleSchema))
	require.GreaterOrEqual(t, rec.count(reach.EventBuilt), 2)
}

// mspauthz restarts: the new index rebuilds from a snapshot that holds
// every write made while none ran, and follows the watch from there.
func TestIndex_RestartRebuildsFromASnapshot(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	w, r := seeded(t, g)
	_, _, stop := start(t, g, reach.Options{})
	stop()
	writes(t, w, r, g, 40)

	x, _, _ := start(t, g, reach.Options{})
	last := writes(t, w, r, g, 40)
	waitFor(t, x, last)
	compare(ctx, t, x, g, w, last)
}

// A read carrying a token waits, a short while, for the index to apply it;
// then SpiceDB answers it. Never a stale answer for a token the caller holds.
func TestIndex_ATokenNotYetAppliedGoesToSpiceDB(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Graph: spicedbtest.Graph(t)}
	w, r := seeded(t, f)
	x, rec, _ := start(t, f, reach.Options{MaxWait: 20 * time.Millisecond})

	held := make(chan struct{})
	f.set(func(f *flaky) { f.held = held })
	token := writes(t, w, r, f, 1)
	_, ok := x.Read(ctx, token, func(reach.View) { t.Fatal("answered before applying the token's revision") })
	require.False(t, ok)
	require.Equal(t, 1, rec.count(reach.EventFallbackBehind))

	f.set(func(f *flaky) { f.held = nil })
	close(held)
	waitFor(t, x, token)
	_, ok = x.Read(ctx, token, func(reach.View) {})
	require.True(t, ok)
	compare(ctx, t, x, f, w, token)
}

// Shadow mode asks SpiceDB again, at the same revision, and counts each
// disagreement: here the watch loses Alex's direct associations.
func TestIndex_ShadowModeCountsMismatches(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Graph: spicedbtest.Graph(t)}
	w, _ := seeded(t, f)
	x, rec, _ := start(t, f, reach.Options{VerifySample: 1})
	alex, zylker := obj("user", "m0/u0"), obj("customer", "m0/c0")
	access := []graph.Check{{Resource: zylker, Permission: "access", Subject: alex}}
	ask := func(token graph.Revision) {
		waitFor(t, x, token)
		_, ok := x.Read(ctx, token, func(v reach.View) {
			v.Check(access)
			v.CustomersOf(alex.ID)
			v.UsersOf(zylker.ID)
		})
		require.True(t, ok)
	}
	token, err := f.Write(ctx, []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(zylker, "msp", obj("msp", "m0"))}}, nil)
	require.NoError(t, err)
	ask(token)
	require.Eventually(t, func() bool { return rec.count(reach.EventVerified) == 3 }, 10*time.Second, 5*time.Millisecond)
	require.Zero(t, rec.count(reach.EventMismatch))

	f.set(func(f *flaky) {
		f.lose = func(u graph.Update) bool {
			return u.Relationship.Relation == "direct" && u.Relationship.Subject == alex
		}
	})
	token, err = f.Write(ctx, []graph.Update{
		{Op: graph.Delete, Relationship: graph.Rel(zylker, "customer_group", obj("customer_group", w.groups[0]))},
		{Op: graph.Touch, Relationship: graph.Rel(zylker, "direct", alex)},
	}, nil)
	require.NoError(t, err)
	ask(token)
	require.Eventually(t, func() bool { return rec.count(reach.EventMismatch) > 0 }, 10*time.Second, 5*time.Millisecond)
}

// A SpiceDB cluster restarts (both nodes killed, then started again): the
// index is stale while they are down and resumes its watch afterwards from
// the PostgreSQL datastore's history, without a rebuild.
func TestIndex_ResumesAfterSpiceDBRestarts(t *testing.T) {
	if spicedbtest.Backend() != spicedbtest.Remote {
		t.Skip("needs the SpiceDB cluster (MSPAUTHZ_TEST_BACKEND=remote)")
	}
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	w, r := seeded(t, g)
	x, rec, _ := start(t, g, reach.Options{})

	cluster := spicedbtest.SharedCluster(t)
	cluster.A.Kill()
	cluster.B.Kill()
	waitState(t, x, reach.Stale)
	require.NoError(t, cluster.A.Start(ctx))
	require.NoError(t, cluster.B.Start(ctx))
	last := writes(t, w, r, g, 40)
	waitFor(t, x, last)
	compare(ctx, t, x, g, w, last)
	require.Positive(t, rec.count(reach.EventStaleWatch))
	require.Equal(t, 1, rec.count(reach.EventBuilt), "resumed, not rebuilt")
}
