// Package app wires mspauthz together: which SpiceDB, the domain, the gRPC
// server and the REST gateway, health endpoints, and an orderly shutdown.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mspauthz/mspauthz/console"
	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/gateway"
	"github.com/mspauthz/mspauthz/internal/api"
	"github.com/mspauthz/mspauthz/internal/audit"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/metrics"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/signin"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/tenancy"
	"github.com/mspauthz/mspauthz/schema"
)

// Defaults of serve.
const (
	DefaultHTTPAddr = "127.0.0.1:8080"
	DefaultGRPCAddr = "127.0.0.1:50051"
	// ShutdownGrace is how long in-flight requests may run on after a shutdown signal.
	ShutdownGrace = 10 * time.Second
)

// Config is what serve is told.
type Config struct {
	HTTPAddr string
	GRPCAddr string
	// Fixtures is a fixtures file to load before serving.
	Fixtures string
	// Preset names a generated dataset (fixtures.Presets) to import before
	// serving; its MSPs that exist already are left as they are.
	Preset string
	// AdminToken is the bootstrap platform token; empty means generate one
	// and print it once to Stdout.
	AdminToken string
	Log        *slog.Logger
	Stdout     io.Writer
	// Datastore is the PostgreSQL URI of the embedded SpiceDB's datastore,
	// which must be migrated; empty means the memory datastore.
	Datastore string
	// Remote, when it names endpoints, is the SpiceDB cluster to use instead
	// of an embedded SpiceDB.
	Remote spicedb.RemoteOptions
	// GrantDay is how long a day of a time-bound grant lasts (24 hours unless
	// a test or demo shortens it); 0 means 24 hours.
	GrantDay time.Duration
	// Index configures the reachability index.
	Index IndexConfig
	// ServerKey seals identity providers' client secrets and sign-ins under
	// way (MSPAUTHZ_SERVER_KEY); empty means generate one, and secrets
	// sealed with it do not open after a restart.
	ServerKey string
	// SignIn configures sign-in.
	SignIn SignInConfig
	// Banner, when set, is told for people where the service listens,
	// what serves it and what it loaded (serve: stderr, besides the JSON
	// log); Version is the version it names.
	Banner  io.Writer
	Version string
}

// IndexConfig configures the reachability index (internal/reach).
type IndexConfig struct {
	// Off answers every check and listing from SpiceDB.
	Off bool
	// VerifySample is the share of the index's answers asked of SpiceDB
	// again, at the same revision, in the background (shadow mode).
	VerifySample float64
	// MaxWait bounds the wait for a token's revision (reach.DefaultMaxWait if 0).
	MaxWait time.Duration
}

// SignInConfig configures the sign-in of people and JWT bearer callers.
type SignInConfig struct {
	// PublicURL is where people reach the REST address (behind a proxy,
	// its https URL): the callback URL is under it, and cookies are Secure
	// when it is https. Empty means http://<the REST address>.
	PublicURL string
	// Demo allows the demo sign-in (with fixtures) on a REST address that
	// is not loopback.
	Demo bool
	// SessionIdleTimeout and SessionMaxAge bound sessions (the defaults of
	// auth when 0).
	SessionIdleTimeout, SessionMaxAge time.Duration
	// AllowHTTPIssuers takes identity providers whose issuer is plain http
	// on other hosts than loopback.
	AllowHTTPIssuers bool
	// MinKeyRefresh is how soon an unknown key id may fetch an issuer's
	// keys again (signin.DefaultMinRefresh when 0).
	MinKeyRefresh time.Duration
}

// App is a completed configuration, listening and ready to Run.
type App struct {
	log        *slog.Logger
	domain     *tenancy.Service
	trail      *audit.Log
	metrics    *metrics.Metrics
	grantDay   time.Duration
	spicedb    *grpc.ClientConn
	grpcServer *grpc.Server
	httpServer *http.Server
	grpcLis    net.Listener
	httpLis    net.Listener
	gatewayLis *bufconn.Listener
	// draining is done once the server starts to shut down: open streams
	// (change feeds) end then.
	draining    context.Context
	stopStreams context.CancelFunc
	closers     []func() error
	index       *reach.Index[spicedb.Revision]
	newIndex    func(reach.Options) *reach.Index[spicedb.Revision]
	banner      *banner
	sessions    *auth.Sessions
}

// Complete starts SpiceDB, writes the schema, loads fixtures and opens the
// listeners. On error everything it started is stopped again.
func (c Config) Complete(ctx context.Context) (_ *App, err error) {
	a := &App{log: c.Log, banner: c.newBanner()}
	a.draining, a.stopStreams = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			_ = a.close()
		}
	}()

	a.metrics = metrics.New(api.IsFormSave)
	server, err := c.spiceDB(ctx, a.metrics.SpiceDBDialOptions()...)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, server.Close)
	g, domain, err := c.prepare(ctx, server)
	if err != nil {
		return nil, err
	}
	a.domain, a.spicedb, a.trail, a.grantDay = domain, server.Conn(), audit.New(g), c.grantDay()

	token := c.AdminToken
	if token == "" {
		token = auth.GeneratePlatformToken()
		fmt.Fprintf(c.Stdout, "platform token (shown once; set MSPAUTHZ_ADMIN_TOKEN to choose it): %s\n", token)
	}
	tokens, err := auth.NewTokens(g, token)
	if err != nil {
		return nil, fmt.Errorf("MSPAUTHZ_ADMIN_TOKEN: %w", err)
	}
	serverKey := c.ServerKey
	if serverKey == "" {
		serverKey = auth.GenerateServerKey()
		a.banner.add("server key", "generated here: client secrets set now do not open after a restart (set MSPAUTHZ_SERVER_KEY)")
	} else {
		a.banner.add("server key", "MSPAUTHZ_SERVER_KEY")
	}
	secrets, err := auth.NewSealer(serverKey, "client secrets")
	if err != nil {
		return nil, fmt.Errorf("MSPAUTHZ_SERVER_KEY: %w", err)
	}
	pendingSignIns, err := auth.NewSealer(serverKey, "sign-ins under way")
	if err != nil {
		return nil, err
	}
	domain.SetSealer(secrets)
	domain.AllowHTTPIssuers(c.SignIn.AllowHTTPIssuers)
	verifier := signin.NewVerifier(domain, signin.Options{MinKeyRefresh: c.SignIn.MinKeyRefresh})
	credentials := auth.Credentials{Tokens: tokens, Sessions: auth.NewSessions(g, c.SignIn.SessionIdleTimeout, c.SignIn.SessionMaxAge), JWTs: verifier}
	a.sessions = credentials.Sessions
	var people []fixtures.Person
	if c.Fixtures != "" {
		loaded, err := fixtures.LoadFile(ctx, domain, c.Fixtures)
		if err != nil {
			return nil, fmt.Errorf("load fixtures: %w", err)
		}
		if len(loaded.Skipped) > 0 {
			c.Log.Info("fixtures: these MSPs exist already and were left as they are", "msps", loaded.Skipped)
		}
		a.banner.fixtures(c.Fixtures, loaded)
		people = loaded.People
	}

	if c.Preset != "" {
		p, skipped, err := c.importPreset(ctx, domain, nil)
		if err != nil {
			return nil, err
		}
		a.banner.preset(p, skipped)
	}
	if c.AdminToken == "" {
		a.banner.add("platform token", "generated here, printed once on stdout (set MSPAUTHZ_ADMIN_TOKEN to choose it)")
	} else {
		a.banner.add("platform token", "MSPAUTHZ_ADMIN_TOKEN")
	}
	if !c.Index.Off {
		if err := a.startIndex(c, g, domain); err != nil {
			return nil, err
		}
	}

	unary := []grpc.UnaryServerInterceptor{a.metrics.UnaryServerInterceptor(), api.UnaryInterceptor(domain, credentials, a.trail, c.Log)}
	a.grpcServer = grpc.NewServer(grpc.MaxRecvMsgSize(api.MaxMessageBytes),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(a.metrics.StreamServerInterceptor(), api.StreamInterceptor(domain, credentials, a.trail, c.Log, a.draining)))
	api.Register(a.grpcServer, domain, credentials, a.trail)

	if a.grpcLis, err = net.Listen("tcp", c.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen for gRPC: %w", err)
	}
	a.closers = append(a.closers, ignoreClosed(a.grpcLis.Close))
	a.gatewayLis = bufconn.Listen(1 << 20)
	conn, err := grpc.NewClient("passthrough:///gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return a.gatewayLis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(api.MaxMessageBytes), grpc.MaxCallRecvMsgSize(api.MaxMessageBytes)))
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, conn.Close)
	// The gateway and the console call the services in process, through the
	// same interceptors; only the change feed's stream goes over conn.
	local := api.NewLocal(conn, unary...)
	api.Register(local, domain, credentials, a.trail)
	if a.httpLis, err = net.Listen("tcp", c.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen for HTTP: %w", err)
	}
	a.closers = append(a.closers, ignoreClosed(a.httpLis.Close))
	operations := http.NewServeMux()
	operations.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	operations.HandleFunc("GET /readyz", readiness(g))
	operations.Handle("GET /metrics", a.metrics.Handler())
	signIn, err := c.signIn(a, signin.Config{Domain: domain, Sessions: credentials.Sessions, Verifier: verifier, Sealer: pendingSignIns, Log: c.Log}, people)
	if err != nil {
		return nil, err
	}
	signIn.Register(operations)
	console.New(local, c.Log).Register(operations)
	root, err := gateway.New(ctx, local, c.Log, operations)
	if err != nil {
		return nil, err
	}
	a.httpServer = &http.Server{Handler: root, ReadHeaderTimeout: 10 * time.Second}
	return a, nil
}

// signIn completes the sign-in handler's configuration: where people reach
// the service, and the demo sign-in of the fixtures' people, which a REST
// address off loopback allows only with SignIn.Demo.
func (c Config) signIn(a *App, cfg signin.Config, people []fixtures.Person) (*signin.Handler, error) {
	public := c.SignIn.PublicURL
	addr, _ := loopback(a.HTTPAddr())
	if public == "" {
		public = "http://" + addr
	}
	u, err := url.Parse(public)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--public-url %q: want http(s)://host[:port][/path]", public)
	}
	cfg.PublicURL = u
	for _, p := range people {
		cfg.Demo.People = append(cfg.Demo.People, signin.Person{MSP: p.MSP, UserID: p.UserID, DisplayName: p.DisplayName, Role: p.Role, CustomerID: p.CustomerID})
	}
	ip := a.httpLis.Addr().(*net.TCPAddr).IP
	switch {
	case ip.IsLoopback():
		cfg.Demo.Enabled, cfg.Demo.Why = true, fmt.Sprintf("The REST API listens on loopback (%s): the demo sign-in is on.", a.HTTPAddr())
	case c.SignIn.Demo:
		cfg.Demo.Enabled, cfg.Demo.Why = true, fmt.Sprintf("The REST API listens on %s, off loopback: the demo sign-in is on because --demo-sign-in is given.", a.HTTPAddr())
	default:
		cfg.Demo.Why = fmt.Sprintf("The demo sign-in is off: the REST API listens on %s, off loopback (serve with --demo-sign-in to allow it anyway).", a.HTTPAddr())
	}
	h := signin.New(cfg)
	a.banner.signIn(u.JoinPath("/signin").String(), h.CallbackURL(), cfg.Demo, cfg.Sessions)
	return h, nil
}

// startIndex starts the reachability index after the fixtures and presets
// are in (it reads them in one snapshot) and lets the domain answer from it;
// until it is live, SpiceDB answers.
func (a *App) startIndex(c Config, g graph.Graph, domain *tenancy.Service) error {
	engine := spicedb.EngineMemory
	switch {
	case len(c.Remote.Endpoints) > 0:
		engine = cmp.Or(c.Remote.Engine, spicedb.EnginePostgres)
	case c.Datastore != "":
		engine = spicedb.EnginePostgres
	}
	revisions, err := spicedb.RevisionsOf(engine)
	if err != nil {
		return err
	}
	conn := a.spicedb
	a.newIndex = func(opts reach.Options) *reach.Index[spicedb.Revision] {
		opts.Schema = func(ctx context.Context) error { return spicedb.CheckSchema(ctx, conn, schema.Text) }
		opts.Log = c.Log
		opts.Watches, opts.Stagger = spicedb.IndexWatchesFor(engine)
		return reach.New(g, revisions, opts)
	}
	a.index = a.newIndex(reach.Options{MaxWait: c.Index.MaxWait, VerifySample: c.Index.VerifySample, Observer: a.banner.watchIndex(a.metrics.Index())})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.index.Run(ctx)
	}()
	a.closers = append(a.closers, func() error { cancel(); <-done; return nil })
	domain.SetIndex(a.index)
	return nil
}

// NewIndex returns another reachability index over the service's SpiceDB,
// not yet running (benchmarks measure one built anew), or nil when the
// index is off.
func (a *App) NewIndex(opts reach.Options) *reach.Index[spicedb.Revision] {
	if a.newIndex == nil {
		return nil
	}
	return a.newIndex(opts)
}

func (c Config) grantDay() time.Duration {
	if c.GrantDay <= 0 {
		return 24 * time.Hour
	}
	return c.GrantDay
}

// prepare brings SpiceDB to what this version needs — the schema (written
// only when it differs) and the built-in roles — and builds the domain on it.
func (c Config) prepare(ctx context.Context, server spicedb.Server) (*spicedb.Graph, *tenancy.Service, error) {
	if _, err := spicedb.EnsureSchema(ctx, server.Conn(), schema.Text); err != nil {
		return nil, nil, fmt.Errorf("write schema: %w", err)
	}
	g := spicedb.NewGraph(server.Conn())
	domain := tenancy.New(g)
	domain.SetGrantDayLength(c.grantDay())
	if err := domain.EnsureBuiltinRoles(ctx); err != nil {
		return nil, nil, fmt.Errorf("write built-in roles: %w", err)
	}
	return g, domain, nil
}

// Generate imports the preset into the SpiceDB the configuration names
// (migrated first), as Complete would before serving, and then refreshes the
// planner's statistics of an embedded SpiceDB's PostgreSQL datastore.
func (c Config) Generate(ctx context.Context, progress fixtures.Progress) error {
	server, err := c.spiceDB(ctx)
	if err != nil {
		return err
	}
	_, domain, err := c.prepare(ctx, server)
	if err == nil {
		_, _, err = c.importPreset(ctx, domain, progress)
	}
	if err == nil && c.Datastore != "" {
		err = spicedb.Analyze(ctx, c.Datastore)
	}
	return errors.Join(err, server.Close())
}

// importPreset imports the preset c names and returns it, with the MSPs it
// left as they are.
func (c Config) importPreset(ctx context.Context, domain *tenancy.Service, progress fixtures.Progress) (fixtures.Preset, []string, error) {
	p, err := fixtures.PresetNamed(c.Preset)
	if err != nil {
		return p, nil, err
	}
	skipped, err := p.Import(ctx, domain, progress)
	if err != nil {
		return p, nil, fmt.Errorf("import preset: %w", err)
	}
	if len(skipped) > 0 {
		c.Log.Info("preset: these MSPs exist already and were left as they are", "msps", len(skipped), "first", skipped[0])
	}
	return p, skipped, nil
}

// Migrate brings the SpiceDB the configuration names to this version:
// SpiceDB's own migrations on a PostgreSQL datastore, then the schema and
// the built-in roles. It is idempotent.
func (c Config) Migrate(ctx context.Context) error {
	if c.Datastore != "" {
		if err := spicedb.Migrate(ctx, c.Datastore); err != nil {
			return err
		}
	}
	server, err := c.spiceDB(ctx)
	if err != nil {
		return err
	}
	_, _, err = c.prepare(ctx, server)
	return errors.Join(err, server.Close())
}

// spiceDB starts or reaches the SpiceDB the configuration names: a remote
// cluster, or an embedded server on PostgreSQL (which must be migrated) or
// in memory.
func (c Config) spiceDB(ctx context.Context, dialOpts ...grpc.DialOption) (spicedb.Server, error) {
	if len(c.Remote.Endpoints) > 0 {
		if c.Datastore != "" {
			return nil, errors.New("give either --datastore (embedded SpiceDB) or --spicedb-endpoint (remote cluster), not both")
		}
		remote := c.Remote
		remote.DialOptions = append(slices.Clip(remote.DialOptions), dialOpts...)
		return spicedb.DialRemote(ctx, remote)
	}
	if c.Datastore != "" {
		if err := spicedb.CheckMigrated(ctx, c.Datastore); err != nil {
			return nil, err
		}
	}
	return spicedb.StartEmbedded(ctx, spicedb.EmbeddedOptions{DatastoreURI: c.Datastore, DialOptions: dialOpts})
}

// readiness answers 200 while SpiceDB answers, 503 otherwise.
func readiness(g graph.Graph) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, _, err := g.Check(ctx, nil, graph.Full()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	}
}

func ignoreClosed(close func() error) func() error {
	return func() error {
		if err := close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}

// Domain is the domain the services call: the in-process Go API.
func (a *App) Domain() *tenancy.Service { return a.domain }

// Index is the reachability index, or nil when it is off.
func (a *App) Index() *reach.Index[spicedb.Revision] { return a.index }

// Sessions are the service's sign-in sessions (the console's and the
// API's cookie): the load driver opens one to measure the console's pages.
func (a *App) Sessions() *auth.Sessions { return a.sessions }

// SpiceDB is the connection to SpiceDB.
func (a *App) SpiceDB() *grpc.ClientConn { return a.spicedb }

// GRPCAddr is the address the gRPC server listens on.
func (a *App) GRPCAddr() string { return a.grpcLis.Addr().String() }

// HTTPAddr is the address the REST gateway listens on.
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// Run serves until ctx is done, then drains in-flight requests (at most
// ShutdownGrace) and stops everything, last started first.
func (a *App) Run(ctx context.Context) error {
	errs := make(chan error, 3)
	go func() { errs <- a.grpcServer.Serve(a.grpcLis) }()
	go func() { errs <- a.grpcServer.Serve(a.gatewayLis) }()
	go func() { errs <- a.httpServer.Serve(a.httpLis) }()
	a.log.Info("serving", "http", a.HTTPAddr(), "grpc", a.GRPCAddr())
	a.banner.print(a)
	running, stopRunning := context.WithCancel(ctx)
	defer stopRunning()
	go a.extendGrants(running)
	go a.banner.announceIndex(running, a.index)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	a.log.Info("shutting down")
	a.stopStreams()
	drain, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	shutdownErr := a.httpServer.Shutdown(drain)
	stopped := make(chan struct{})
	go func() { a.grpcServer.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-drain.Done():
		a.grpcServer.Stop()
	}
	if errors.Is(shutdownErr, context.DeadlineExceeded) {
		shutdownErr = nil
	}
	return errors.Join(runErr, shutdownErr, a.close())
}

// extendGrants extends the due auto-extending grants once per hour of a
// grant day, and records each extension on the audit trail.
func (a *App) extendGrants(ctx context.Context) {
	tick := time.NewTicker(max(a.grantDay/24, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		extended, err := a.domain.ExtendDueGrants(ctx)
		if err != nil {
			a.log.Warn("extend grants", "error", err.Error())
			continue
		}
		for _, g := range extended {
			_, err := a.trail.Record(ctx, audit.Event{
				MSP: g.MSP, Actor: "system", Action: "GrantService/ExtendGrant", Target: "grant:" + g.ID + " customer:" + g.CustomerID,
				Outcome: "OK: extended to " + g.ExpiresAt.Format(time.RFC3339), ZedToken: g.WrittenAt,
			})
			if err != nil {
				a.log.Error("audit event not recorded", "action", "ExtendGrant", "msp", g.MSP, "error", err.Error())
			}
		}
	}
}

// Close releases an App that was completed but never run (Run releases
// everything itself).
func (a *App) Close() error { return a.close() }

// close runs the closers, last first.
func (a *App) close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
