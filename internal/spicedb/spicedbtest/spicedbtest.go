// Package spicedbtest starts a fresh SpiceDB with the mspauthz schema for a test.
package spicedbtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/mspauthz/mspauthz/internal/pgtest"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/schema"
)

// Conn starts an embedded SpiceDB, writes the schema, and returns a
// connection to it; the server stops when the test ends. It runs on the
// memory datastore, or, when MSPAUTHZ_TEST_BACKEND=postgres, on a fresh
// database of a throwaway PostgreSQL (the package's TestMain must then call
// pgtest.Main).
func Conn(t testing.TB) grpc.ClientConnInterface {
	t.Helper()
	ctx := context.Background()
	opts := spicedb.EmbeddedOptions{}
	if pgtest.Backend() == "postgres" {
		opts.DatastoreURI = pgtest.Database(t)
	}
	e, err := spicedb.StartEmbedded(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	_, err = spicedb.EnsureSchema(ctx, e.Conn(), schema.Text)
	require.NoError(t, err)
	return e.Conn()
}

// Graph is the graph port over Conn(t).
func Graph(t testing.TB) *spicedb.Graph {
	t.Helper()
	return spicedb.NewGraph(Conn(t))
}
