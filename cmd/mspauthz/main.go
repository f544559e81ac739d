// Command mspauthz is the authorization service for Managed Service Providers.
//
//	mspauthz serve [--http-addr A] [--grpc-addr A] [--fixtures FILE] [--datastore postgres://...]
//	mspauthz migrate --datastore postgres://...
//	mspauthz validate FILE...
//	mspauthz version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/schema"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  mspauthz serve [--http-addr ADDR] [--grpc-addr ADDR] [--fixtures FILE] [--datastore postgres://...] [--grant-day 24h]
  mspauthz migrate --datastore postgres://...   bring a PostgreSQL datastore to SpiceDB's migration head
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
	fs.StringVar(&cfg.Datastore, "datastore", "", "PostgreSQL URI of the datastore (migrated with `mspauthz migrate`); empty: in memory, lost at exit")
	fs.DurationVar(&cfg.GrantDay, "grant-day", 24*time.Hour, "how long a day of a time-bound grant lasts (shorten it only to demo or test expiry)")
	if err := fs.Parse(args); err != nil {
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

func migrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	uri := fs.String("datastore", "", "PostgreSQL URI of the datastore")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *uri == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "migrate: give --datastore postgres://... and nothing else\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := spicedb.Migrate(ctx, *uri); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "datastore migrated to %s\n", spicedb.HeadMigration)
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
