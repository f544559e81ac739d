package reach_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// TestMain stops the throwaway PostgreSQL and SpiceDB cluster of MSPAUTHZ_TEST_BACKEND.
func TestMain(m *testing.M) { spicedbtest.Main(m) }

type index = reach.Index[spicedb.Revision]

// recorder counts what an index tells its observer.
type recorder struct {
	mu     sync.Mutex
	events map[string]int
	lags   []time.Duration
}

func newRecorder() *recorder { return &recorder{events: map[string]int{}} }

func (r *recorder) Event(name string) { r.mu.Lock(); r.events[name]++; r.mu.Unlock() }
func (r *recorder) State(reach.State) {}
func (r *recorder) Lag(d time.Duration) {
	r.mu.Lock()
	r.lags = append(r.lags, d)
	r.mu.Unlock()
}
func (r *recorder) Size(int, int64) {}

func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[name]
}

// start runs an index over g until the test ends, and waits until it is live.
func start(t *testing.T, g graph.Graph, opts reach.Options) (*index, *recorder, func()) {
	t.Helper()
	rec := newRecorder()
	opts.Observer = rec
	if opts.Retry == 0 {
		opts.Retry = 10 * time.Millisecond
	}
	x, stop := spicedbtest.Index(t, g, opts)
	return x, rec, stop
}

func waitFor(t *testing.T, x *index, rev graph.Revision) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, x.WaitFor(ctx, rev), "the index did not apply %s within 30s (state %s)", rev, x.Status().State)
}

// world is a small universe of two MSPs, where random writes collide often.
type world struct {
	msps, customers, groups, users []string
}

func newWorld() world {
	var w world
	for m, size := range []int{1, 2} {
		msp := fmt.Sprintf("m%d", m)
		w.msps = append(w.msps, msp)
		for i := range 6 * size {
			w.customers = append(w.customers, fmt.Sprintf("%s/c%d", msp, i))
		}
		for i := range 3 * size {
			w.groups = append(w.groups, fmt.Sprintf("%s/g%d", msp, i))
		}
		for i := range 5 * size {
			w.users = append(w.users, fmt.Sprintf("%s/u%d", msp, i))
		}
	}
	return w
}

func obj(typ, id string) graph.Object { return graph.Object{Type: typ, ID: id} }

func pick[T any](r *rand.Rand, ids []T) T { return ids[r.IntN(len(ids))] }

// ownMSP is the MSP an id of the world belongs to.
func ownMSP(id string) string { return id[:2] }

// base makes every object belong to its MSP and every user a member of it.
func (w world) base() []graph.Update {
	var out []graph.Update
	touch := func(r graph.Relationship) { out = append(out, graph.Update{Op: graph.Touch, Relationship: r}) }
	for _, c := range w.customers {
		touch(graph.Rel(obj("customer", c), "msp", obj("msp", ownMSP(c))))
	}
	for _, u := range w.users {
		touch(graph.Rel(obj("user", u), "msp", obj("msp", ownMSP(u))))
		touch(graph.Rel(obj("msp", ownMSP(u)), "member", obj("user", u)))
	}
	return out
}

// randomRel is a relationship the index holds, between random objects of
// the world (now and then across MSPs, as a writer other than mspauthz may).
func (w world) randomRel(r *rand.Rand) graph.Relationship {
	switch k := r.IntN(20); {
	case k < 6:
		return graph.Rel(obj("customer", pick(r, w.customers)), "direct", obj("user", pick(r, w.users)))
	case k < 11:
		return graph.Rel(obj("customer", pick(r, w.customers)), "customer_group", obj("customer_group", pick(r, w.groups)))
	case k < 17:
		return graph.Rel(obj("customer_group", pick(r, w.groups)), "member", obj("user", pick(r, w.users)))
	case k < 18:
		return graph.Rel(obj("msp", pick(r, w.msps)), "member", obj("user", pick(r, w.users)))
	case k < 19:
		return graph.Rel(obj("customer", pick(r, w.customers)), "msp", obj("msp", pick(r, w.msps)))
	default:
		return graph.Rel(obj("user", pick(r, w.users)), "msp", obj("msp", pick(r, w.msps)))
	}
}

// randomUpdates are up to n distinct random relationships (of rel), each
// written or, two in five, deleted; written, when set, amends one written.
func randomUpdates(r *rand.Rand, n int, rel func(*rand.Rand) graph.Relationship, written func(*graph.Relationship)) []graph.Update {
	seen := map[string]bool{}
	var updates []graph.Update
	for range n {
		rel := rel(r)
		if seen[rel.String()] {
			continue
		}
		seen[rel.String()] = true
		op := graph.Touch
		if r.IntN(5) < 2 {
			op = graph.Delete
		}
		if op == graph.Touch && written != nil {
			written(&rel)
		}
		updates = append(updates, graph.Update{Op: op, Relationship: rel})
	}
	return updates
}

// randomWrite makes one random write: mostly one to four edges written or
// deleted, sometimes a cascade (a customer group, a customer or a user's
// memberships deleted whole), a customer moving to another MSP, or a user
// leaving an MSP or joining it. It returns the write's revision.
func (w world) randomWrite(ctx context.Context, t *testing.T, r *rand.Rand, g graph.Graph) graph.Revision {
	t.Helper()
	var rev graph.Revision
	var err error
	switch k := r.IntN(40); {
	case k == 0:
		rev, err = g.DeleteMatching(ctx, graph.Filter{ResourceType: "customer_group", ResourceID: pick(r, w.groups)}, nil)
	case k == 1:
		rev, err = g.DeleteMatching(ctx, graph.Filter{ResourceType: "customer", Relation: "customer_group", SubjectType: "customer_group", SubjectID: pick(r, w.groups)}, nil)
	case k == 2:
		rev, err = g.DeleteMatching(ctx, graph.Filter{ResourceType: "customer", ResourceID: pick(r, w.customers)}, nil)
	case k == 3:
		rev, err = g.DeleteMatching(ctx, graph.Filter{ResourceType: "customer_group", Relation: "member", SubjectType: "user", SubjectID: pick(r, w.users)}, nil)
	case k == 4: // a customer moves to another MSP
		c, to := pick(r, w.customers), pick(r, w.msps)
		var updates []graph.Update
		for _, m := range w.msps {
			if m != to {
				updates = append(updates, graph.Update{Op: graph.Delete, Relationship: graph.Rel(obj("customer", c), "msp", obj("msp", m))})
			}
		}
		rev, err = g.Write(ctx, append(updates, graph.Update{Op: graph.Touch, Relationship: graph.Rel(obj("customer", c), "msp", obj("msp", to))}), nil)
	case k == 5: // a user leaves an MSP, or joins it again
		u, m := pick(r, w.users), pick(r, w.msps)
		op := graph.Delete
		if r.IntN(2) == 0 {
			op = graph.Touch
		}
		rev, err = g.Write(ctx, []graph.Update{
			{Op: op, Relationship: graph.Rel(obj("msp", m), "member", obj("user", u))},
			{Op: op, Relationship: graph.Rel(obj("user", u), "msp", obj("msp", m))},
		}, nil)
	default:
		rev, err = g.Write(ctx, randomUpdates(r, 1+r.IntN(4), w.randomRel, nil), nil)
	}
	require.NoError(t, err)
	return rev
}

// compare asks the index everything about the world at its revision, and
// SpiceDB the same at exactly that revision, and requires the same answers;
// the paths must be those of the relationships SpiceDB holds then.
func compare(ctx context.Context, t *testing.T, x *index, g graph.Graph, w world, token graph.Revision) {
	t.Helper()
	var checks []graph.Check
	for _, u := range w.users {
		for _, c := range w.customers {
			checks = append(checks, graph.Check{Resource: obj("customer", c), Permission: "access", Subject: obj("user", u)})
		}
	}
	for _, c := range w.customers {
		for _, m := range w.msps {
			checks = append(checks, graph.Check{Resource: obj("customer", c), Permission: "msp", Subject: obj("msp", m)})
		}
	}
	for _, u := range w.users {
		for _, m := range w.msps {
			checks = append(checks, graph.Check{Resource: obj("user", u), Permission: "msp", Subject: obj("msp", m)})
		}
	}
	var answers []bool
	customersOf := map[string][]reach.Reached{}
	usersOf := map[string][]reach.Reached{}
	rev, ok := x.Read(ctx, token, func(v reach.View) {
		var indexed bool
		answers, indexed = v.Check(checks)
		require.True(t, indexed)
		for _, u := range w.users {
			customersOf[u] = v.CustomersOf(u)
		}
		for _, c := range w.customers {
			usersOf[c] = v.UsersOf(c)
		}
	})
	require.True(t, ok, "the index did not answer at %s", token)

	want, _, err := g.Check(ctx, checks, graph.At(rev))
	require.NoError(t, err)
	for i, c := range checks {
		require.Equal(t, want[i], answers[i], "%s#%s@%s at %s", c.Resource, c.Permission, c.Subject, rev)
	}

	paths := pathsAt(ctx, t, g, rev)
	for _, u := range w.users {
		ids, _, err := g.LookupResources(ctx, "customer", "access", obj("user", u), graph.At(rev))
		require.NoError(t, err)
		slices.Sort(ids)
		if len(ids) == 0 {
			ids = nil
		}
		got := customersOf[u]
		require.Equal(t, ids, reachedIDs(got), "customers of %s", u)
		for _, r := range got {
			require.Equal(t, paths[[2]string{u, r.ID}], r.Paths, "paths from %s to %s", u, r.ID)
		}
	}
	for _, c := range w.customers {
		ids, _, err := g.LookupSubjects(ctx, obj("customer", c), "access", "user", graph.At(rev))
		require.NoError(t, err)
		slices.Sort(ids)
		if len(ids) == 0 {
			ids = nil
		}
		got := usersOf[c]
		require.Equal(t, ids, reachedIDs(got), "users of %s", c)
		for _, r := range got {
			require.Equal(t, paths[[2]string{r.ID, c}], r.Paths, "paths from %s to %s", r.ID, c)
		}
	}
}

func reachedIDs(rs []reach.Reached) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// pathsAt names, from the relationships SpiceDB holds at rev, every path
// from a user to a customer: the test's own model of the schema.
func pathsAt(ctx context.Context, t *testing.T, g graph.Graph, rev graph.Revision) map[[2]string]reach.Paths {
	t.Helper()
	read := func(f graph.Filter) []graph.Relationship {
		rels, _, err := g.Read(ctx, f, graph.At(rev))
		require.NoError(t, err)
		return rels
	}
	members := map[string][]string{} // group -> users
	for _, r := range read(graph.Filter{ResourceType: "customer_group", Relation: "member"}) {
		members[r.Resource.ID] = append(members[r.Resource.ID], r.Subject.ID)
	}
	out := map[[2]string]reach.Paths{}
	add := func(user, customer string, f func(*reach.Paths)) {
		p := out[[2]string{user, customer}]
		f(&p)
		p.Count++
		out[[2]string{user, customer}] = p
	}
	for _, r := range read(graph.Filter{ResourceType: "customer", Relation: "direct"}) {
		add(r.Subject.ID, r.Resource.ID, func(p *reach.Paths) { p.Direct = true })
	}
	for _, r := range read(graph.Filter{ResourceType: "customer", Relation: "customer_group"}) {
		for _, u := range members[r.Subject.ID] {
			add(u, r.Resource.ID, func(p *reach.Paths) { p.CustomerGroups = append(p.CustomerGroups, r.Subject.ID) })
		}
	}
	for k, p := range out {
		slices.Sort(p.CustomerGroups)
		out[k] = p
	}
	return out
}

// The index agrees with SpiceDB after thousands of random writes — edges
// written and deleted, across MSPs, and cascades — compared after every
// batch, at the batch's last ZedToken, on every question of the world.
func TestIndex_AgreesWithSpiceDBAfterRandomWrites(t *testing.T) {
	for _, watches := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d watches", watches), func(t *testing.T) {
			ctx := context.Background()
			g := spicedbtest.Graph(t)
			w := newWorld()
			_, err := g.Write(ctx, w.base(), nil)
			require.NoError(t, err)
			r := rand.New(rand.NewPCG(8, uint64(watches)))
			for range 200 {
				w.randomWrite(ctx, t, r, g)
			}
			x, rec, _ := start(t, g, reach.Options{MaxWait: 10 * time.Second, Watches: watches, Stagger: 30 * time.Millisecond})
			batches, perBatch := 100, 30
			if testing.Short() {
				batches = 10
			}
			for range batches {
				var last graph.Revision
				for range perBatch {
					last = w.randomWrite(ctx, t, r, g)
				}
				compare(ctx, t, x, g, w, last)
			}
			require.Zero(t, rec.count(reach.EventFallbackBehind)+rec.count(reach.EventFallbackState))
			require.Equal(t, 1, rec.count(reach.EventBuilt))
			st := x.Status()
			require.Equal(t, reach.Live, st.State)
			require.Positive(t, st.Relationships)
			require.NotEmpty(t, rec.lags, "the lag of every change applied is observed")
		})
	}
}

// Writers at once — transactions that overlap, which SpiceDB's PostgreSQL
// watch may report out of order, in checkpoints that do not cover one
// another — followed by five watches: the index still agrees with SpiceDB.
// Each writer has customers and groups of its own (no two transactions
// write one relationship: SpiceDB would refuse one of them).
func TestIndex_AgreesWithSpiceDBAfterConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	w := newWorld()
	_, err := g.Write(ctx, w.base(), nil)
	require.NoError(t, err)
	x, _, _ := start(t, g, reach.Options{MaxWait: 10 * time.Second, Watches: 5, Stagger: 20 * time.Millisecond})
	const writers = 4
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range writers {
			part := world{users: w.users}
			for j, c := range w.customers {
				if j%writers == i {
					part.customers = append(part.customers, c)
				}
			}
			for j, gr := range w.groups {
				if j%writers == i {
					part.groups = append(part.groups, gr)
				}
			}
			r := rand.New(rand.NewPCG(uint64(round), uint64(i)))
			wg.Go(func() {
				for range 40 {
					var updates []graph.Update
					seen := map[string]bool{}
					for range 1 + r.IntN(4) {
						var rel graph.Relationship
						switch r.IntN(3) {
						case 0:
							rel = graph.Rel(obj("customer", pick(r, part.customers)), "direct", obj("user", pick(r, part.users)))
						case 1:
							rel = graph.Rel(obj("customer", pick(r, part.customers)), "customer_group", obj("customer_group", pick(r, part.groups)))
						default:
							rel = graph.Rel(obj("customer_group", pick(r, part.groups)), "member", obj("user", pick(r, part.users)))
						}
						if !seen[rel.String()] {
							seen[rel.String()] = true
							op := graph.Touch
							if r.IntN(5) < 2 {
								op = graph.Delete
							}
							updates = append(updates, graph.Update{Op: op, Relationship: rel})
						}
					}
					if _, err := g.Write(ctx, updates, nil); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		rev, err := g.FreshRevision(ctx)
		require.NoError(t, err)
		waitFor(t, x, rev)
		compare(ctx, t, x, g, w, rev)
	}
}

// Without a token the index answers at its own revision, which it returns
// (checkedAt); a token it cannot order goes to SpiceDB.
func TestIndex_AnswersAtItsRevision(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	w := newWorld()
	first, err := g.Write(ctx, w.base(), nil)
	require.NoError(t, err)
	x, rec, _ := start(t, g, reach.Options{})
	rev, ok := x.Read(ctx, "", func(reach.View) {})
	require.True(t, ok)
	require.Equal(t, x.Status().Revision, rev)
	_, ok = x.Read(ctx, first, func(reach.View) {})
	require.True(t, ok, "an older token is covered")

	for _, token := range []graph.Revision{"not-a-token", "GgYKBENJR0Q="} {
		_, ok = x.Read(ctx, token, func(reach.View) { t.Fatal("answered a token it cannot order") })
		require.False(t, ok)
	}
	require.Equal(t, 2, rec.count(reach.EventFallbackToken))
}

// A bulk import (thousands of relationships in one revision) is applied in
// one draft of the store, which agrees with SpiceDB.
func TestIndex_AppliesABulkImport(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	x, _, _ := start(t, g, reach.Options{})
	var w world
	w.msps = []string{"m9"}
	for i := range 80 {
		w.customers = append(w.customers, fmt.Sprintf("m9/c%d", i))
	}
	for i := range 70 {
		w.users = append(w.users, fmt.Sprintf("m9/u%d", i))
	}
	for i := range 8 {
		w.groups = append(w.groups, fmt.Sprintf("m9/g%d", i))
	}
	var rels []graph.Relationship
	for _, u := range w.base() {
		rels = append(rels, u.Relationship)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range w.customers {
		for _, u := range w.users {
			if r.IntN(10) == 0 {
				rels = append(rels, graph.Rel(obj("customer", c), "direct", obj("user", u)))
			}
		}
		for _, gr := range w.groups {
			if r.IntN(3) == 0 {
				rels = append(rels, graph.Rel(obj("customer", c), "customer_group", obj("customer_group", gr)))
			}
		}
	}
	for _, gr := range w.groups {
		for _, u := range w.users {
			if r.IntN(3) == 0 {
				rels = append(rels, graph.Rel(obj("customer_group", gr), "member", obj("user", u)))
			}
		}
	}
	for len(rels) < 6000 { // users outside the world, in groups
		u := fmt.Sprintf("m9/x%d", len(rels))
		rels = append(rels, graph.Rel(obj("customer_group", pick(r, w.groups)), "member", obj("user", u)))
	}
	require.NoError(t, g.Import(ctx, rels))
	last := writes(t, w, r, g, 20)
	waitFor(t, x, last)
	compare(ctx, t, x, g, w, last)
}
