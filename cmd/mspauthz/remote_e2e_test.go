package main_test

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// serveFails runs serve, which must exit non-zero quickly, and returns what it said.
func serveFails(t *testing.T, args ...string) string {
	t.Helper()
	began := time.Now()
	out, err := exec.Command(binary, append([]string{"serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"}, args...)...).CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Less(t, time.Since(began), 30*time.Second, "refused within the probe's deadline")
	return string(out)
}

// serve refuses, with the reason, a cluster or a database nobody answers at,
// a URI that is not PostgreSQL's, bad flags, and both kinds of backend at once.
func TestRemote_ServeRefusesAnUnreachableEndpointAndBadFlags(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())

	out := serveFails(t, "--spicedb-endpoint", dead, "--spicedb-token", "k", "--spicedb-insecure")
	require.Contains(t, out, "SpiceDB at "+dead+": unreachable")
	out = serveFails(t, "--spicedb-endpoint", dead, "--spicedb-insecure")
	require.Contains(t, out, "no SpiceDB token given")
	out = serveFails(t, "--spicedb-endpoint", "no-port", "--spicedb-token", "k")
	require.Contains(t, out, `SpiceDB endpoint "no-port" is not host:port`)
	out = serveFails(t, "--spicedb-endpoint", dead, "--spicedb-token", "k", "--datastore", "postgres://x@127.0.0.1:1/db")
	require.Contains(t, out, "not both")
	out = serveFails(t, "--datastore", "postgres://x@"+dead+"/db")
	require.Contains(t, out, "cannot connect")
	out = serveFails(t, "--datastore", "mysql://x@"+dead+"/db")
	require.Contains(t, out, "is not a PostgreSQL URI")
}

// On a real cluster: a wrong key is refused at start, `mspauthz migrate`
// writes the schema and built-in roles (idempotently), and readiness follows
// the cluster: 503 while no node answers, 200 again when one does — without
// a restart of mspauthz.
func TestRemote_WrongKeyMigrateAndReadiness(t *testing.T) {
	if spicedbtest.Backend() != spicedbtest.Remote {
		t.Skip("needs the SpiceDB cluster: MSPAUTHZ_TEST_BACKEND=remote")
	}
	args := spicedbtest.ServeArgs(t)
	c := spicedbtest.SharedCluster(t)
	endpoints := strings.Join(c.Endpoints(), ",")

	out := serveFails(t, "--spicedb-endpoint", endpoints, "--spicedb-token", "wrong-key", "--spicedb-insecure")
	require.Contains(t, out, "the token was refused (check --spicedb-token)")

	for range 2 {
		out, err := exec.Command(binary, "migrate", "--spicedb-endpoint", endpoints, "--spicedb-insecure").CombinedOutput()
		require.Error(t, err, "no token: %s", out)
		cmd := exec.Command(binary, "migrate", "--spicedb-endpoint", endpoints, "--spicedb-insecure")
		cmd.Env = append(cmd.Environ(), "MSPAUTHZ_SPICEDB_TOKEN="+spicedbtest.ClusterKey)
		out, err = cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Equal(t, "schema and built-in roles up to date\n", string(out))
	}

	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, args...)
	require.Equal(t, 200, s.status("/readyz"))
	ctx := context.Background()
	c.A.Kill()
	c.B.Kill()
	t.Cleanup(func() {
		require.NoError(t, c.A.Start(ctx))
		require.NoError(t, c.B.Start(ctx))
	})
	require.Equal(t, 503, s.status("/readyz"))
	s.fails(503, "SpiceDB unavailable", adminToken, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	require.NoError(t, c.A.Start(ctx))
	require.NoError(t, c.B.Start(ctx))
	require.Eventually(t, func() bool { return s.status("/readyz") == 200 }, time.Minute, 100*time.Millisecond)
	s.ok(adminToken, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
}

// status is the HTTP status of a GET of path.
func (s *server) status(path string) int {
	s.t.Helper()
	resp, err := http.Get(s.base + path)
	require.NoError(s.t, err, "GET %s", path)
	resp.Body.Close()
	return resp.StatusCode
}
