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

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/mspauthz/mspauthz/internal/pgtest"
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

// Conn returns a connection to a SpiceDB holding the schema and no
// relationships, on the test backend; it is closed when the test ends.
func Conn(t testing.TB) grpc.ClientConnInterface {
	t.Helper()
	ctx := context.Background()
	var server spicedb.Server
	var err error
	switch Backend() {
	case Remote:
		c := SharedCluster(t)
		server, err = spicedb.DialRemote(ctx, spicedb.RemoteOptions{Endpoints: c.Endpoints(), Token: ClusterKey, Insecure: true})
		require.NoError(t, err)
		require.NoError(t, Clear(ctx, server.Conn()))
	case Postgres:
		server, err = spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{DatastoreURI: pgtest.Database(t)})
	default:
		server, err = spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{})
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
// on the test backend: none on memory, a fresh migrated database on
// postgres, the shared cluster emptied on remote.
func ServeArgs(t testing.TB) []string {
	t.Helper()
	switch Backend() {
	case Remote:
		c := SharedCluster(t)
		conn, err := c.A.Dial()
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, Clear(context.Background(), conn))
		return c.ServeArgs()
	case Postgres:
		return []string{"--datastore", pgtest.Database(t)}
	}
	return nil
}
