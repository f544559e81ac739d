package spicedb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authzed/spicedb/pkg/cmd/datastore"
	"github.com/authzed/spicedb/pkg/cmd/server"
	"github.com/authzed/spicedb/pkg/cmd/util"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// MaxUpdatesPerWrite is how many relationship updates (and preconditions) the
// embedded server accepts in one WriteRelationships call: the largest value
// SpiceDB allows, so that a form save stays one atomic write.
const MaxUpdatesPerWrite = 65535

// Embedded is a SpiceDB server running inside this process, reached through
// an in-memory (buffered) gRPC connection.
type Embedded struct {
	conn   *grpc.ClientConn
	cancel context.CancelFunc
	done   chan error
}

// EmbeddedOptions choose the datastore of an embedded server.
type EmbeddedOptions struct {
	// DatastoreURI is a PostgreSQL connection URI; empty means the memory datastore.
	DatastoreURI string
	// DialOptions are added to the connection's (interceptors, say).
	DialOptions []grpc.DialOption
}

// WatchHeartbeat is how often SpiceDB's watch reports a checkpoint when
// idle, and on PostgreSQL how often it polls for new transactions: 100 ms,
// the datastore's floor, rather than SpiceDB's default of a second, because
// the reachability index follows the watch (internal/reach).
const WatchHeartbeat = 100 * time.Millisecond

// IndexWatches is how many watches the reachability index follows on
// PostgreSQL, opened WatchHeartbeat/IndexWatches apart: a write waits for
// the soonest of their polls, about 20 ms at most rather than 100.
const IndexWatches = 5

// IndexWatchesFor is how many watches the reachability index follows on a
// datastore engine, and how far apart they open: one on the memory
// datastore, whose watch reports each write at once; IndexWatches on the
// others, whose watches poll.
func IndexWatchesFor(engine string) (int, time.Duration) {
	if engine == EngineMemory {
		return 1, 0
	}
	return IndexWatches, WatchHeartbeat / IndexWatches
}

// StartEmbedded starts an embedded SpiceDB server and connects to it.
func StartEmbedded(ctx context.Context, opts EmbeddedOptions) (*Embedded, error) {
	dsOpts := []datastore.ConfigOption{
		datastore.DefaultDatastoreConfig().ToOption(),
		datastore.WithRequestHedgingEnabled(false),
		// Its collectors are process-global: a second embedded server (tests)
		// would fail to register them.
		datastore.WithEnableDatastoreMetrics(false),
	}
	if opts.DatastoreURI != "" {
		dsOpts = append(dsOpts, datastore.WithEngine(datastore.PostgresEngine), datastore.WithURI(opts.DatastoreURI))
	}
	ds, err := datastore.NewDatastore(ctx, dsOpts...)
	if err != nil {
		return nil, fmt.Errorf("open SpiceDB datastore: %w", err)
	}

	cfg := server.NewConfigWithOptionsAndDefaults(
		server.WithDatastore(ds),
		server.WithGRPCServer(util.GRPCServerConfig{Network: util.BufferedNetwork, Enabled: true}),
		server.WithGRPCAuthFunc(func(ctx context.Context) (context.Context, error) { return ctx, nil }),
		server.WithHTTPGateway(util.HTTPServerConfig{HTTPEnabled: false}),
		server.WithMetricsAPI(util.HTTPServerConfig{HTTPEnabled: false}),
		server.WithDispatchServer(util.GRPCServerConfig{Enabled: false}),
		server.WithSilentlyDisableTelemetry(true),
		server.WithMaximumUpdatesPerWrite(MaxUpdatesPerWrite),
		server.WithMaximumPreconditionCount(MaxUpdatesPerWrite),
		// SpiceDB v1.56.0 serves cached dispatch answers computed before a
		// relationship expired until the revision moves (NOTES-stack.md, trap
		// 2): a time-bound grant must deny the moment it ends, so no caches.
		server.WithDispatchCacheConfig(server.CacheConfig{Name: "dispatch", Enabled: false}),
		server.WithClusterDispatchCacheConfig(server.CacheConfig{Name: "cluster_dispatch", Enabled: false}),
		server.WithWatchHeartbeat(WatchHeartbeat),
	)
	runnable, err := cfg.Complete(ctx)
	if err != nil {
		_ = ds.Close()
		return nil, fmt.Errorf("configure embedded SpiceDB: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e := &Embedded{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := runnable.Run(runCtx)
		e.done <- errors.Join(err, ds.Close())
	}()
	dial := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts.DialOptions...)
	if opts.DatastoreURI == "" {
		dial = append(dial, (&writeSerializer{}).dialOptions()...)
	}
	conn, err := runnable.NewClient(dial...)
	if err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("connect to embedded SpiceDB: %w", err)
	}
	e.conn = conn
	return e, nil
}

// Conn is the gRPC connection to the embedded server.
func (e *Embedded) Conn() *grpc.ClientConn { return e.conn }

// Close stops the server and releases its datastore.
func (e *Embedded) Close() error {
	var connErr error
	if e.conn != nil {
		connErr = e.conn.Close()
	}
	e.cancel()
	select {
	case err := <-e.done:
		return errors.Join(connErr, err)
	case <-time.After(10 * time.Second):
		return errors.Join(connErr, errors.New("embedded SpiceDB did not stop within 10s"))
	}
}
