package spicedbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/authzed/grpcutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/pgtest"
)

// ClusterKey is the preshared key of every test cluster.
const ClusterKey = "mspauthz-test-key"

// Cluster is a SpiceDB cluster of real spicedb v1.56.0 processes over one
// PostgreSQL database, in the topology of docker-compose.yml: node A answers
// dispatched sub-problems for node B (B's --dispatch-upstream-addr is A's
// dispatch port) and computes its own locally. Both serve the API.
//
// The dispatch is one way on purpose: SpiceDB's dispatch hash ring keeps a
// member until its resolver drops it (Kubernetes endpoints do; a static
// address never does), so with each node dispatching to the other, one dead
// node would fail every check on both. This way, with B down, A serves alone.
type Cluster struct {
	URI  string
	A, B *Node
	dir  string
}

// Node is one spicedb serve process of a Cluster.
type Node struct {
	Name         string
	GRPCAddr     string
	DispatchAddr string
	MetricsAddr  string
	args         []string
	logPath      string
	mu           sync.Mutex
	cmd          *exec.Cmd
	exited       chan struct{}
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// Binary is the spicedb v1.56.0 binary: $MSPAUTHZ_SPICEDB_BIN, or the one
// the go.mod tool directive builds (`go tool -n spicedb`, cached by Go).
func Binary() (string, error) {
	binaryOnce.Do(func() {
		if p := os.Getenv("MSPAUTHZ_SPICEDB_BIN"); p != "" {
			binaryPath = p
			return
		}
		out, err := exec.Command("go", "tool", "-n", "spicedb").Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				err = fmt.Errorf("%w: %s", err, exit.Stderr)
			}
			binaryErr = fmt.Errorf("build spicedb (go tool -n spicedb): %w", err)
			return
		}
		binaryPath = strings.TrimSpace(string(out))
	})
	return binaryPath, binaryErr
}

// StartCluster migrates the PostgreSQL database at uri with `spicedb
// datastore migrate head` and starts nodes A and B on it.
func StartCluster(ctx context.Context, uri string) (_ *Cluster, err error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mspauthz-spicedb-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{URI: uri, dir: dir}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	migrate := exec.CommandContext(ctx, bin, "datastore", "migrate", "head",
		"--datastore-engine", "postgres", "--datastore-conn-uri", uri, "--skip-release-check", "--log-level", "warn")
	if out, err := migrate.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("spicedb datastore migrate head: %v: %s", err, out)
	}
	if c.A, err = c.newNode("a", ""); err != nil {
		return nil, err
	}
	if c.B, err = c.newNode("b", c.A.DispatchAddr); err != nil {
		return nil, err
	}
	for _, n := range []*Node{c.A, c.B} {
		if err := n.Start(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Cluster) newNode(name, upstream string) (*Node, error) {
	n := &Node{Name: name, logPath: filepath.Join(c.dir, "spicedb-"+name+".log")}
	for _, addr := range []*string{&n.GRPCAddr, &n.DispatchAddr, &n.MetricsAddr} {
		port, err := pgtest.FreePort()
		if err != nil {
			return nil, err
		}
		*addr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	n.args = NodeArgs(c.URI, n.GRPCAddr, n.DispatchAddr, n.MetricsAddr, upstream)
	return n, nil
}

// NodeArgs are the arguments of `spicedb` for one node, as docker-compose.yml
// passes them: the preshared key, the PostgreSQL datastore, its own metrics
// address, the dispatch server on, an upstream when it dispatches, dispatch
// caches off (a time-bound grant must deny the moment it expires: see
// NOTES-stack.md, trap 2), room for a form save in one atomic write, and a
// watch that polls PostgreSQL every 100 ms (see WatchHeartbeat).
func NodeArgs(uri, grpcAddr, dispatchAddr, metricsAddr, upstream string) []string {
	args := []string{"serve", "--skip-release-check", "--log-level", "warn",
		"--grpc-preshared-key", ClusterKey,
		"--datastore-engine", "postgres", "--datastore-conn-uri", uri,
		"--grpc-addr", grpcAddr, "--http-enabled=false", "--metrics-addr", metricsAddr,
		"--dispatch-cluster-enabled", "--dispatch-cluster-addr", dispatchAddr,
		"--dispatch-cache-enabled=false", "--dispatch-cluster-cache-enabled=false",
		"--write-relationships-max-updates-per-call", "65535",
		"--update-relationships-max-preconditions-per-call", "65535",
		"--telemetry-endpoint", "",
		"--watch-api-heartbeat", "100ms",
	}
	if upstream != "" {
		args = append(args, "--dispatch-upstream-addr", upstream)
	}
	return args
}

// Start starts the node (again, after Kill) and waits until it answers; a
// running node is left alone.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	running := n.cmd != nil
	n.mu.Unlock()
	if running {
		return nil
	}
	bin, err := Binary()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, n.args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The node dies with the test binary, however that ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start spicedb node %s: %w", n.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(exited) }()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	return n.waitReady(ctx, exited)
}

func (n *Node) waitReady(ctx context.Context, exited chan struct{}) error {
	conn, err := n.Dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		probe, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := v1.NewSchemaServiceClient(conn).ReadSchema(probe, &v1.ReadSchemaRequest{})
		cancel()
		if code := status.Code(err); code == codes.OK || code == codes.NotFound {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("spicedb node %s exited at start:\n%s", n.Name, n.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("spicedb node %s did not answer within 60s (%v):\n%s", n.Name, err, n.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Dial connects to this node alone, with the cluster's key.
func (n *Node) Dial() (*grpc.ClientConn, error) {
	return grpc.NewClient(n.GRPCAddr, grpcutil.WithInsecureBearerToken(ClusterKey), grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// Kill kills the node with SIGKILL and waits until it is gone.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// Log is what the node has logged so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.logPath)
	return string(bytes.TrimSpace(b))
}

// Endpoints are the API addresses of both nodes.
func (c *Cluster) Endpoints() []string { return []string{c.A.GRPCAddr, c.B.GRPCAddr} }

// Stop kills the nodes and removes their logs.
func (c *Cluster) Stop() {
	for _, n := range []*Node{c.A, c.B} {
		if n != nil {
			n.Kill()
		}
	}
	_ = os.RemoveAll(c.dir)
}

var definitionName = regexp.MustCompile(`(?m)^definition\s+(\S+)\s*\{`)

// Clear deletes every relationship the cluster holds (its schema stays), so
// that a test starts from an empty graph as it would on a fresh embedded
// server.
func (c *Cluster) Clear(ctx context.Context) error {
	conn, err := c.A.Dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	schema, err := v1.NewSchemaServiceClient(conn).ReadSchema(ctx, &v1.ReadSchemaRequest{})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	permissions := v1.NewPermissionsServiceClient(conn)
	for _, m := range definitionName.FindAllStringSubmatch(schema.GetSchemaText(), -1) {
		for {
			resp, err := permissions.DeleteRelationships(ctx, &v1.DeleteRelationshipsRequest{
				RelationshipFilter:            &v1.RelationshipFilter{ResourceType: m[1]},
				OptionalLimit:                 1000,
				OptionalAllowPartialDeletions: true,
			})
			if err != nil {
				return fmt.Errorf("clear %s: %w", m[1], err)
			}
			if resp.GetDeletionProgress() == v1.DeleteRelationshipsResponse_DELETION_PROGRESS_COMPLETE {
				break
			}
		}
	}
	return nil
}
