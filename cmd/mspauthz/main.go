// Command mspauthz is the authorization service for Managed Service Providers.
//
//	mspauthz serve [--http-addr A] [--grpc-addr A] [--fixtures FILE] [--preset NAME] [--datastore postgres://... | --spicedb-endpoint HOST:PORT[,HOST:PORT] --spicedb-token KEY [--spicedb-insecure]]
//	mspauthz migrate --datastore postgres://... | --spicedb-endpoint HOST:PORT[,HOST:PORT] --spicedb-token KEY [--spicedb-insecure]
//	mspauthz gen --preset NAME --datastore postgres://... | --spicedb-endpoint ...
//	mspauthz bench [--preset NAME] [--cell 5s] [--concurrency 1,8,32] [--saves 1,100,1000,10000] [--out FILE] [backend flags]
//	mspauthz health [--url URL]
//	mspauthz sync --system SYSTEM --file SNAPSHOT.json [--msp MSP] [--dry-run] [--allow-mass-removal] [--url URL] [--token TOKEN]
//	mspauthz validate FILE...
//	mspauthz version
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/schema"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  mspauthz serve [--http-addr ADDR] [--grpc-addr ADDR] [--fixtures FILE] [--preset NAME] [--grant-day 24h]
                 [--datastore postgres://... | --spicedb-endpoint HOST:PORT[,HOST:PORT...] --spicedb-token KEY [--spicedb-insecure]]
  mspauthz migrate --datastore postgres://...   SpiceDB's migrations to head, then the schema and built-in roles
  mspauthz migrate --spicedb-endpoint HOST:PORT[,...] --spicedb-token KEY [--spicedb-insecure]
                                                the schema and built-in roles on a remote cluster
  mspauthz gen --preset NAME (--datastore postgres://... | --spicedb-endpoint ...)
                                                import a generated dataset (presets: tiny, small, large, xlarge, msps200)
  mspauthz bench [--preset small] [--cell 5s] [--cell-ops N] [--concurrency 1,8,32] [--saves 1,100,1000,10000]
                 [--save-rounds 2] [--listings 20] [--out FILE] [--datastore ... | --spicedb-endpoint ...]
                                                load a preset into a service started here and measure it (BENCHMARKS.md)
  mspauthz health [--url http://127.0.0.1:8080/readyz]   exit 0 when the URL answers 200
  mspauthz sync --system rmm --file snapshot.json [--msp MSP] [--dry-run] [--allow-mass-removal]
                [--url http://127.0.0.1:8080] [--token TOKEN]   run a connected system's sync
  mspauthz validate FILE...   run SpiceDB validation files; non-zero exit on failure
  mspauthz version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "migrate":
		return migrate(args[1:], stdout, stderr)
	case "health":
		return health(args[1:], stdout, stderr)
	case "sync":
		return syncCommand(args[1:], stdout, stderr)
	case "gen":
		return gen(args[1:], stdout, stderr)
	case "bench":
		return benchCommand(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "mspauthz %s (SpiceDB %s)\n", version, spicedbVersion())
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
	return 2
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{Stdout: stdout, AdminToken: os.Getenv("MSPAUTHZ_ADMIN_TOKEN")}
	fs.StringVar(&cfg.HTTPAddr, "http-addr", app.DefaultHTTPAddr, "address of the REST gateway")
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", app.DefaultGRPCAddr, "address of the gRPC API")
	fs.StringVar(&cfg.Fixtures, "fixtures", "", "fixtures file to load before serving (e.g. fixtures/demo.yaml)")
	fs.StringVar(&cfg.Preset, "preset", "", "generated dataset to import before serving: "+strings.Join(fixtures.PresetNames(), ", ")+" (see BENCHMARKS.md)")
	fs.DurationVar(&cfg.GrantDay, "grant-day", 24*time.Hour, "how long a day of a time-bound grant lasts (shorten it only to demo or test expiry)")
	backend := backendFlags(fs, &cfg)
	indexFlags(fs, &cfg.Index)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := backend(); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 2
	}
	if cfg.Index.VerifySample < 0 || cfg.Index.VerifySample > 1 {
		fmt.Fprintln(stderr, "serve: --index-verify-sample must be between 0 and 1")
		return 2
	}
	cfg.Log = slog.New(slog.NewJSONHandler(stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := cfg.Complete(ctx)
	if err != nil {
		cfg.Log.Error("cannot start", "error", err.Error())
		return 1
	}
	if err := a.Run(ctx); err != nil {
		cfg.Log.Error("stopped with an error", "error", err.Error())
		return 1
	}
	return 0
}

// indexFlags declares the flags of the reachability index.
func indexFlags(fs *flag.FlagSet, cfg *app.IndexConfig) {
	fs.BoolFunc("index", "answer customer-access checks and listings from the in-memory reachability index (default true; --index=false asks SpiceDB every time)", func(v string) error {
		on, err := strconv.ParseBool(v)
		cfg.Off = !on
		return err
	})
	fs.Float64Var(&cfg.VerifySample, "index-verify-sample", 0, "share of the index's answers (0 to 1) asked of SpiceDB again at the same revision; mismatches count in mspauthz_index_events_total{event=\"mismatch\"}")
	fs.DurationVar(&cfg.MaxWait, "index-max-wait", reach.DefaultMaxWait, "how long a request carrying atLeastAsFresh waits for the index to apply it before SpiceDB answers")
}

// backendFlags declares the flags that choose SpiceDB — an embedded one in
// memory (none given) or on PostgreSQL, or a remote cluster — and returns
// the function that checks and applies them after parsing.
func backendFlags(fs *flag.FlagSet, cfg *app.Config) func() error {
	fs.StringVar(&cfg.Datastore, "datastore", "", "PostgreSQL URI of the embedded SpiceDB's datastore (migrated with `mspauthz migrate`); empty: in memory, lost at exit")
	endpoints := fs.String("spicedb-endpoint", "", "a remote SpiceDB cluster instead of the embedded one: HOST:PORT, or its nodes HOST:PORT,HOST:PORT")
	fs.StringVar(&cfg.Remote.Token, "spicedb-token", os.Getenv("MSPAUTHZ_SPICEDB_TOKEN"), "the cluster's preshared key (default $MSPAUTHZ_SPICEDB_TOKEN)")
	fs.BoolVar(&cfg.Remote.Insecure, "spicedb-insecure", false, "talk to the cluster in plaintext instead of TLS")
	fs.StringVar(&cfg.Remote.Engine, "spicedb-datastore-engine", spicedb.EnginePostgres, "the cluster's datastore engine (postgres, cockroachdb, mysql, spanner): how its ZedTokens are ordered")
	return func() error {
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		if *endpoints == "" {
			return nil
		}
		var err error
		cfg.Remote.Endpoints, err = spicedb.ParseEndpoints(*endpoints)
		return err
	}
}

// gen imports a generated preset into a SpiceDB that keeps it (a migrated
// PostgreSQL datastore, or a remote cluster), with a progress line.
func gen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{Log: slog.New(slog.NewJSONHandler(stderr, nil))}
	fs.StringVar(&cfg.Preset, "preset", "", "the generated dataset: "+strings.Join(fixtures.PresetNames(), ", "))
	if !parsePersistent(fs, &cfg, args, "the memory datastore keeps nothing: use `mspauthz serve --preset NAME`", stderr) {
		return 2
	}
	if _, err := fixtures.PresetNamed(cfg.Preset); err != nil {
		fmt.Fprintln(stderr, "gen: --preset:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err := cfg.Generate(ctx, func(done, msps, rels int) {
		fmt.Fprintf(stderr, "\rimported %d relationships, %d of %d MSPs, %s", rels, done, msps, time.Since(start).Round(100*time.Millisecond))
	})
	fmt.Fprintln(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "gen:", err)
		return 1
	}
	fmt.Fprintf(stdout, "preset %s imported in %s\n", cfg.Preset, time.Since(start).Round(time.Millisecond))
	return 0
}

// parsePersistent parses the flags of a command that needs a SpiceDB that
// keeps its data (a PostgreSQL datastore or a remote cluster), and says on
// stderr what is wrong when they do not name one; why says why memory will
// not do.
func parsePersistent(fs *flag.FlagSet, cfg *app.Config, args []string, why string, stderr io.Writer) bool {
	backend := backendFlags(fs, cfg)
	if err := fs.Parse(args); err != nil {
		return false
	}
	if err := backend(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return false
	}
	if cfg.Datastore == "" && len(cfg.Remote.Endpoints) == 0 {
		fmt.Fprintf(stderr, "%s: give --datastore postgres://... or --spicedb-endpoint HOST:PORT (%s)\n", fs.Name(), why)
		return false
	}
	return true
}

func migrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{}
	if !parsePersistent(fs, &cfg, args, "the memory datastore needs no migration", stderr) {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cfg.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Datastore != "" {
		fmt.Fprintf(stdout, "datastore migrated to %s; ", spicedb.HeadMigration)
	}
	fmt.Fprintln(stdout, "schema and built-in roles up to date")
	return 0
}

// health asks a URL (the readiness endpoint) and exits 0 only on 200: the
// health check of a container image that has no shell or curl.
func health(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://"+app.DefaultHTTPAddr+"/readyz", "URL that must answer 200")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	client := &http.Client{Timeout: *timeout}
	resp, err := client.Get(*url)
	if err != nil {
		fmt.Fprintln(stderr, "unhealthy:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "unhealthy: %s: %s\n", resp.Status, bytes.TrimSpace(body))
		return 1
	}
	fmt.Fprintf(stdout, "%s", body)
	return 0
}

func validate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprint(stderr, "validate: name at least one validation file\n")
		return 2
	}
	failed := false
	for _, f := range files {
		problems, err := schema.ValidateFile(context.Background(), f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			failed = true
			continue
		}
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		if len(problems) > 0 {
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	if failed {
		return 1
	}
	return 0
}

func spicedbVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/authzed/spicedb" {
				return dep.Version
			}
		}
	}
	return "unknown"
}
