package spicedb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// One WriteRelationships of 7,282 creations binds more than PostgreSQL's
// 65,535 parameters (nine each): on PostgreSQL it is refused as too large,
// never as SpiceDB unavailable, and writes nothing; the memory datastore
// takes it. A bulk import of the same relationships lands on every backend.
func TestWrite_TooLargeForPostgreSQLIsInvalidAndTheBulkImportLands(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	var rels []graph.Relationship
	var updates []graph.Update
	for i := range 7282 {
		r := graph.Rel(graph.Object{Type: "msp", ID: "big"}, "member", graph.Object{Type: "user", ID: fmt.Sprintf("big/u%05d", i)})
		rels = append(rels, r)
		updates = append(updates, graph.Update{Op: graph.Create, Relationship: r})
	}
	_, err := g.Write(ctx, updates, nil)
	if spicedbtest.Engine(spicedbtest.Backend()) == spicedb.EngineMemory {
		require.NoError(t, err)
		_, err = g.DeleteMatching(ctx, graph.Filter{ResourceType: "msp", ResourceID: "big"}, nil)
		require.NoError(t, err)
	} else {
		require.True(t, fault.Is(err, fault.Invalid), "%v", err)
		require.Contains(t, err.Error(), "too large for SpiceDB and its datastore")
	}
	written, _, err := g.Read(ctx, graph.Filter{ResourceType: "msp", ResourceID: "big"}, graph.Full())
	require.NoError(t, err)
	require.Empty(t, written)

	require.NoError(t, g.Import(ctx, rels))
	written, _, err = g.Read(ctx, graph.Filter{ResourceType: "msp", ResourceID: "big"}, graph.Full())
	require.NoError(t, err)
	require.Len(t, written, len(rels))
}
