package spicedb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	spicedbcmd "github.com/authzed/spicedb/pkg/cmd"
	"github.com/jackc/pgx/v5"
)

// migrateMu serializes migrations: SpiceDB's command tree replaces global
// state (its logger, GOMEMLIMIT) while it runs.
var migrateMu sync.Mutex

// Migrate runs SpiceDB's own migrations of a PostgreSQL datastore to head. It
// is idempotent: at head it changes nothing. mspauthz keeps no tables of its
// own: everything it stores is relationships.
func Migrate(ctx context.Context, uri string) error {
	if err := checkPostgresURI(uri); err != nil {
		return err
	}
	migrateMu.Lock()
	defer migrateMu.Unlock()
	// SpiceDB's pre-run reads SPICEDB_* variables: keep the caller's out.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "SPICEDB_") {
			defer os.Setenv(name, os.Getenv(name))
			os.Unsetenv(name)
		}
	}
	defer slog.SetDefault(slog.Default())
	root, err := spicedbcmd.BuildRootCommand()
	if err != nil {
		return fmt.Errorf("SpiceDB migrations: %w", err)
	}
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"datastore", "migrate", "head", "--datastore-engine=postgres", "--datastore-conn-uri=" + uri, "--skip-release-check", "--log-level=error"})
	if err := root.ExecuteContext(ctx); err != nil {
		return fmt.Errorf("SpiceDB migrations of %s: %w", Redact(uri), err)
	}
	return nil
}

// HeadMigration is the migration SpiceDB v1.56.0's PostgreSQL datastore
// reaches at head (its internal/datastore/postgres/migrations; a test proves
// Migrate gets there).
const HeadMigration = "populate-schema-tables"

// CheckMigrated refuses a PostgreSQL datastore that SpiceDB's migrations have
// not brought to head: SpiceDB would start on it and fail every call.
func CheckMigrated(ctx context.Context, uri string) error {
	if err := checkPostgresURI(uri); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return fmt.Errorf("datastore %s: cannot connect: %w", Redact(uri), err)
	}
	defer conn.Close(ctx)
	var version string
	err = conn.QueryRow(ctx, "SELECT version_num FROM alembic_version").Scan(&version)
	if err != nil {
		return fmt.Errorf("datastore %s is not migrated (run `mspauthz migrate --datastore URI` first): %w", Redact(uri), err)
	}
	if want := HeadMigration; version != want {
		return fmt.Errorf("datastore %s is at migration %q, not %q (run `mspauthz migrate --datastore URI`)", Redact(uri), version, want)
	}
	return nil
}

func checkPostgresURI(uri string) error {
	if !strings.HasPrefix(uri, "postgres://") && !strings.HasPrefix(uri, "postgresql://") {
		return fmt.Errorf("datastore: %q is not a PostgreSQL URI (postgres://user:password@host:port/database)", Redact(uri))
	}
	if _, err := pgx.ParseConfig(uri); err != nil {
		return fmt.Errorf("datastore: %w", err)
	}
	return nil
}

// Redact hides the password of a PostgreSQL connection URI.
func Redact(uri string) string {
	cfg, err := pgx.ParseConfig(uri)
	if err != nil || cfg.Password == "" {
		return uri
	}
	return strings.Replace(uri, ":"+cfg.Password+"@", ":***@", 1)
}

// Analyze refreshes PostgreSQL's planner statistics of the datastore at uri,
// as autovacuum would within a minute or so. Run it after a bulk import: on
// the statistics of an empty table SpiceDB's deletes scan the whole table.
func Analyze(ctx context.Context, uri string) error {
	_, err := queryInt(ctx, uri, "ANALYZE")
	return err
}

// DatastoreBytes is the size on disk of the datastore's database at uri.
func DatastoreBytes(ctx context.Context, uri string) (int64, error) {
	return queryInt(ctx, uri, "SELECT pg_database_size(current_database())")
}

// queryInt runs one statement on the database at uri and returns the integer
// it answers, or 0 for a statement that answers no rows.
func queryInt(ctx context.Context, uri, sql string) (int64, error) {
	if err := checkPostgresURI(uri); err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}
