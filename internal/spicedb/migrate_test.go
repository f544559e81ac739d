package spicedb_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/pgtest"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/schema"
)

func TestMain(m *testing.M) { spicedbtest.Main(m) }

// An unmigrated database is refused before SpiceDB starts on it; Migrate
// brings it to head, twice without harm; then the schema is written once.
func TestMigrate_BringsAnEmptyDatabaseToHeadIdempotently(t *testing.T) {
	ctx := context.Background()
	uri := pgtest.Unmigrated(t)
	err := spicedb.CheckMigrated(ctx, uri)
	require.ErrorContains(t, err, "is not migrated (run `mspauthz migrate --datastore URI` first)")

	require.NoError(t, spicedb.Migrate(ctx, uri))
	require.NoError(t, spicedb.Migrate(ctx, uri), "at head, a second migration changes nothing")
	require.NoError(t, spicedb.CheckMigrated(ctx, uri))

	e, err := spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{DatastoreURI: uri})
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close()) }()
	wrote, err := spicedb.EnsureSchema(ctx, e.Conn(), schema.Text)
	require.NoError(t, err)
	require.True(t, wrote)
	wrote, err = spicedb.EnsureSchema(ctx, e.Conn(), schema.Text)
	require.NoError(t, err)
	require.False(t, wrote, "the schema is written only when it differs")
}

func TestMigrate_BadURIsSayWhatIsWrong(t *testing.T) {
	ctx := context.Background()
	require.ErrorContains(t, spicedb.Migrate(ctx, "mysql://x"), "is not a PostgreSQL URI")
	err := spicedb.CheckMigrated(ctx, "postgres://postgres:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	require.ErrorContains(t, err, "cannot connect")
	require.NotContains(t, err.Error(), "secret", "the password never reaches a message")
}
