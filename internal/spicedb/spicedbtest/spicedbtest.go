// Package spicedbtest starts a fresh SpiceDB with the mspauthz schema for a test.
package spicedbtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/schema"
)

// Conn starts an embedded SpiceDB on the memory datastore, writes the schema,
// and returns a connection to it; the server stops when the test ends.
func Conn(t testing.TB) grpc.ClientConnInterface {
	t.Helper()
	ctx := context.Background()
	e, err := spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{})
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
