package spicedb_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/pgtest"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/schema"
)

// watched reads a watch in the background.
type watched chan graph.Changes

func watch(t *testing.T, g graph.Graph, since graph.Revision) watched {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := g.Watch(ctx, []graph.Filter{{ResourceType: "msp"}}, since)
	require.NoError(t, err)
	w := make(watched, 100)
	go func() {
		for {
			ch, err := stream.Next()
			if err != nil {
				return
			}
			if len(ch.Updates) > 0 { // not a checkpoint
				w <- ch
			}
		}
	}()
	return w
}

// next is the id of the MSP the next revision changed.
func (w watched) next(t *testing.T) (string, graph.Revision) {
	t.Helper()
	select {
	case ch := <-w:
		require.Len(t, ch.Updates, 1)
		return ch.Updates[0].Relationship.Resource.ID, ch.Revision
	case <-time.After(30 * time.Second):
		t.Fatal("no change within 30s")
		return "", ""
	}
}

// SpiceDB v1.56.0's PostgreSQL watch sends two overlapping transactions (B
// begun after A, committed before it, the watch polling in between) again
// and again, alternately, until a later one commits. The adapter delivers
// each once and ends the loop. Resumed from B's revision the watch goes on
// with A; resumed from A's, it repeats B once: SpiceDB's revisions of
// overlapping transactions are not ordered (see README, "The change feed").
func TestWatch_OverlappingPostgreSQLTransactionsComeOnce(t *testing.T) {
	ctx := context.Background()
	uri := pgtest.Database(t)
	e, err := spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{DatastoreURI: uri})
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close()) }()
	_, err = spicedb.EnsureSchema(ctx, e.Conn(), schema.Text)
	require.NoError(t, err)
	g := spicedb.NewGraph(e.Conn())
	start, err := g.FreshRevision(ctx)
	require.NoError(t, err)
	live := watch(t, g, start)

	// Two writes as SpiceDB's PostgreSQL datastore makes them (v1.56.0's
	// tables), held open to make them overlap.
	begin := func(msp string) pgx.Tx {
		conn, err := pgx.Connect(ctx, uri)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close(ctx) })
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `INSERT INTO relation_tuple_transaction (metadata) VALUES ('{}')`)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `INSERT INTO relation_tuple (namespace, object_id, relation, userset_namespace, userset_object_id, userset_relation, created_xid)
			VALUES ('msp', $1, 'owner', 'user', $2, '...', pg_current_xact_id())`, msp, msp+"/olivia")
		require.NoError(t, err)
		return tx
	}
	a := begin("a")
	b := begin("b")
	require.NoError(t, b.Commit(ctx))
	msp, atB := live.next(t)
	require.Equal(t, "b", msp)
	require.NoError(t, a.Commit(ctx))
	msp, atA := live.next(t)
	require.Equal(t, "a", msp)

	_, err = g.Write(ctx, []graph.Update{{Op: graph.Create, Relationship: graph.Rel(graph.Object{Type: "msp", ID: "c"}, "owner", graph.Object{Type: "user", ID: "c/olivia"})}}, nil)
	require.NoError(t, err)
	msp, _ = live.next(t)
	require.Equal(t, "c", msp, "a and b came once each")

	fromB := watch(t, g, atB)
	for _, want := range []string{"a", "c"} {
		msp, _ := fromB.next(t)
		require.Equal(t, want, msp)
	}
	fromA := watch(t, g, atA)
	for _, want := range []string{"b", "c"} {
		msp, _ := fromA.next(t)
		require.Equal(t, want, msp)
	}
}
