// Package spicedbtest gives a test a fresh SpiceDB with the mspauthz schema,
// on the backend MSPAUTHZ_TEST_BACKEND names, so that one conformance suite
// runs on all three:
//
//   - memory (the default): an embedded SpiceDB on the memory datastore;
//   - postgres: an embedded SpiceDB on a fresh database of a throwaway PostgreSQL;
//   - remote: a Cluster of two real spicedb processes over a throwaway
//     PostgreSQL, shared by the package's tests and emptied for each.
//
// A package using it calls Main from its TestMain.
package spicedbtest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/pgtest"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/schema"
)

// The backends.
const (
	Memory   = "memory"
	Postgres = "postgres"
	Remote   = "remote"
)

// Backend is the backend MSPAUTHZ_TEST_BACKEND names: memory unless it says
// postgres or remote.
func Backend() string {
	switch b := strings.ToLower(os.Getenv("MSPAUTHZ_TEST_BACKEND")); b {
	case Postgres, Remote:
		return b
	}
	return Memory
}

// Engine is the datastore engine of backend's SpiceDB.
func Engine(backend string) string {
	if backend == Memory {
		return spicedb.EngineMemory
	}
	return spicedb.EnginePostgres
}

var (
	clusterOnce sync.Once
	cluster     *Cluster
	clusterErr  error
)

// Main runs a package's tests, then stops the shared cluster and PostgreSQL
// if they were started: call it from TestMain.
func Main(m interface{ Run() int }) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the shared cluster and PostgreSQL, if they were started.
func Stop() {
	if cluster != nil {
		cluster.Stop()
	}
	pgtest.StopShared()
}

// SharedCluster is the package's cluster, started on first use.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	clusterOnce.Do(func() {
		cluster, clusterErr = StartCluster(context.Background(), pgtest.Unmigrated(t))
	})
	if clusterErr != nil {
		t.Fatalf("SpiceDB cluster: %v", clusterErr)
	}
	return cluster
}

// Target is an empty SpiceDB with no relationships on one backend, as
// mspauthz is told of it: a PostgreSQL datastore for an embedded SpiceDB, a
// remote cluster, or neither (an embedded SpiceDB in memory).
type Target struct {
	Datastore string
	Remote    spicedb.RemoteOptions
}

// TargetOn gives the test an empty SpiceDB on backend: nothing to prepare on
// memory, a fresh migrated database on postgres, the shared cluster emptied
// on remote.
func TargetOn(t testing.TB, backend string) Target {
	t.Helper()
	switch backend {
	case Remote:
		c := SharedCluster(t)
		require.NoError(t, c.Clear(context.Background()))
		return Target{Remote: spicedb.RemoteOptions{Endpoints: c.Endpoints(), Token: ClusterKey, Insecure: true}}
	case Postgres:
		return Target{Datastore: pgtest.Database(t)}
	}
	return Target{}
}

// Args are the flags of `mspauthz serve` that name the target.
func (tg Target) Args() []string {
	switch {
	case len(tg.Remote.Endpoints) > 0:
		args := []string{"--spicedb-endpoint", strings.Join(tg.Remote.Endpoints, ","), "--spicedb-token", tg.Remote.Token}
		if tg.Remote.Insecure {
			args = append(args, "--spicedb-insecure")
		}
		return args
	case tg.Datastore != "":
		return []string{"--datastore", tg.Datastore}
	}
	return nil
}

// PostgresURI is the URI of the target's PostgreSQL database — the embedded
// SpiceDB's datastore or the cluster's — or "" on memory.
func (tg Target) PostgresURI(t testing.TB) string {
	t.Helper()
	if len(tg.Remote.Endpoints) > 0 {
		return SharedCluster(t).URI
	}
	return tg.Datastore
}

// Analyze refreshes the planner's statistics of the target's PostgreSQL
// database, if it has one (see spicedb.Analyze).
func (tg Target) Analyze(t testing.TB) {
	t.Helper()
	if uri := tg.PostgresURI(t); uri != "" {
		require.NoError(t, spicedb.Analyze(context.Background(), uri))
	}
}

// Conn returns a connection to a SpiceDB holding the schema and no
// relationships, on the test backend; it is closed when the test ends.
func Conn(t testing.TB) grpc.ClientConnInterface {
	t.Helper()
	return TargetOn(t, Backend()).Conn(t)
}

// Conn returns a connection to the target's SpiceDB, with the schema; it is
// closed when the test ends.
func (tg Target) Conn(t testing.TB) grpc.ClientConnInterface {
	t.Helper()
	ctx := context.Background()
	var server spicedb.Server
	var err error
	if len(tg.Remote.Endpoints) > 0 {
		server, err = spicedb.DialRemote(ctx, tg.Remote)
	} else {
		server, err = spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{DatastoreURI: tg.Datastore})
	}
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, server.Close()) })
	_, err = spicedb.EnsureSchema(ctx, server.Conn(), schema.Text)
	require.NoError(t, err)
	return server.Conn()
}

// Graph is the graph port over Conn(t).
func Graph(t testing.TB) *spicedb.Graph {
	t.Helper()
	return spicedb.NewGraph(Conn(t))
}

// ServeArgs are the arguments that give `mspauthz serve` an empty SpiceDB
// on the test backend.
func ServeArgs(t testing.TB) []string {
	t.Helper()
	return TargetOn(t, Backend()).Args()
}

// IndexOn reports whether tests run with the reachability index, as
// mspauthz serves by default: unless MSPAUTHZ_TEST_INDEX says off.
func IndexOn() bool { return !strings.EqualFold(os.Getenv("MSPAUTHZ_TEST_INDEX"), "off") }

// Index runs a reachability index over g on the test backend until the test
// ends or stop is called, and returns it once it is live. On PostgreSQL it
// follows as many watches as mspauthz does unless opts say.
func Index(t testing.TB, g graph.Graph, opts reach.Options) (_ *reach.Index[spicedb.Revision], stop func()) {
	t.Helper()
	if opts.Watches == 0 {
		opts.Watches, opts.Stagger = spicedb.IndexWatchesFor(Engine(Backend()))
	}
	revisions, err := spicedb.RevisionsOf(Engine(Backend()))
	require.NoError(t, err)
	x := reach.New(g, revisions, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = x.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	rev, err := g.FreshRevision(ctx)
	require.NoError(t, err)
	wait, cancelWait := context.WithTimeout(ctx, 30*time.Second)
	defer cancelWait()
	require.NoError(t, x.WaitFor(wait, rev), "the index did not become live")
	return x, stop
}
