// Package pgtest runs a throwaway PostgreSQL 15 server for tests: initdb into
// a temporary directory, a free port, track_commit_timestamp on (SpiceDB's
// PostgreSQL datastore wants it), stopped and removed at the end. Each test
// gets a database of its own, copied from a template that SpiceDB's
// migrations already brought to head.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mspauthz/mspauthz/internal/spicedb"
)

// Server is a running throwaway PostgreSQL.
type Server struct {
	dir  string
	port int
	bin  string
}

var (
	once    sync.Once
	shared  *Server
	sharedE error
	nextDB  atomic.Int64
)

// StopShared stops the shared server, if one was started.
func StopShared() {
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
}

// binDir finds Debian's PostgreSQL 15 binaries (kept off PATH).
func binDir() (string, error) {
	const debian = "/usr/lib/postgresql/15/bin"
	if _, err := os.Stat(filepath.Join(debian, "initdb")); err == nil {
		return debian, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL 15 not found (apt-get install -y postgresql-15)")
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on (yet).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asPostgres runs a PostgreSQL binary as the postgres user when we are root
// (initdb refuses root).
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// Start starts a new server.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mspauthz-pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	s := &Server{dir: dir, bin: bin}
	if out, err := asPostgres(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8").CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		if s.port, err = FreePort(); err != nil {
			return nil, err
		}
		out, err := s.pgCtl("start")
		if err == nil {
			break
		}
		if attempt == 2 {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pg_ctl start: %v: %s", err, out)
		}
	}
	return s, nil
}

// pgCtl runs pg_ctl's action on the server, waiting for it to complete.
func (s *Server) pgCtl(action string, args ...string) ([]byte, error) {
	args = append([]string{"-D", filepath.Join(s.dir, "data"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c track_commit_timestamp=on -c max_connections=500 -c fsync=off", s.port, s.dir),
		"-l", filepath.Join(s.dir, "pg.log"), "-w", action}, args...)
	return asPostgres(filepath.Join(s.bin, "pg_ctl"), args...).CombinedOutput()
}

// Restart restarts the server as an operator would (fast shutdown: open
// connections are cut, running transactions roll back).
func (s *Server) Restart() error {
	if out, err := s.pgCtl("restart", "-m", "fast"); err != nil {
		return fmt.Errorf("pg_ctl restart: %v: %s", err, out)
	}
	return nil
}

// URI is the connection URI of database db.
func (s *Server) URI(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Stop stops the server and removes its files.
func (s *Server) Stop() error {
	out, err := s.pgCtl("stop", "-m", "immediate")
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Exec runs one SQL statement on database db.
func (s *Server) Exec(ctx context.Context, db, sql string) error {
	return execURI(ctx, s.URI(db), sql)
}

func execURI(ctx context.Context, uri, sql string) error {
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

const template = "spicedb_head"

// Shared is the package's server, started on first use with a migrated
// template database; StopShared (spicedbtest.Main calls it) stops it.
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(func() {
		shared, sharedE = Start()
		if sharedE != nil {
			return
		}
		ctx := context.Background()
		if sharedE = shared.Exec(ctx, "postgres", "CREATE DATABASE "+template); sharedE != nil {
			return
		}
		sharedE = spicedb.Migrate(ctx, shared.URI(template))
	})
	if sharedE != nil {
		t.Fatalf("throwaway PostgreSQL: %v", sharedE)
	}
	return shared
}

// Database returns the URI of a fresh database, at SpiceDB's migration head,
// for this test alone.
func Database(t testing.TB) string {
	t.Helper()
	return createDatabase(t, " TEMPLATE "+template)
}

// Unmigrated returns the URI of a fresh, empty database.
func Unmigrated(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "")
}

func createDatabase(t testing.TB, options string) string {
	t.Helper()
	s := Shared(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), nextDB.Add(1))
	if err := s.Exec(context.Background(), "postgres", "CREATE DATABASE "+name+options); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return s.URI(name)
}
