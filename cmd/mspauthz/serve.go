package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/signin"
)

func newServeCommand() *cobra.Command {
	var cfg app.Config
	cmd := &cobra.Command{
		Use:     "serve",
		GroupID: serviceGroup,
		Short:   "Run the service: the REST API, its OpenAPI document, the gRPC API and /metrics",
		Long: `Run the service until SIGINT or SIGTERM, then drain in-flight requests for up to 10 s.

The platform token is MSPAUTHZ_ADMIN_TOKEN (at least 16 characters); when it is unset,
one is generated and printed once on stdout. MSPAUTHZ_SERVER_KEY (at least 32
characters) seals identity providers' client secrets; when it is unset, one is
generated, and secrets set with it do not open after a restart. People sign in at
/signin; with --fixtures on a loopback address, a demo sign-in offers the fixtures'
people. A banner on stderr says where each API
listens, which datastore serves and what was loaded; each request logs one JSON line.`,
		Example: `  MSPAUTHZ_ADMIN_TOKEN=demo-platform-token-1234 mspauthz serve --fixtures fixtures/demo.yaml
  mspauthz serve --datastore postgres://user:pass@localhost:5432/mspauthz
  MSPAUTHZ_SPICEDB_TOKEN=key mspauthz serve --spicedb-endpoint spicedb-a:50051,spicedb-b:50051`,
		Args: noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.HTTPAddr, "http-addr", app.DefaultHTTPAddr, "address of the REST API, /openapi.json, /metrics and the health endpoints")
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", app.DefaultGRPCAddr, "address of the gRPC API")
	fs.StringVar(&cfg.Fixtures, "fixtures", "", "fixtures file to load before serving, e.g. fixtures/demo.yaml (an MSP that exists is left as it is)")
	_ = cmd.MarkFlagFilename("fixtures", "yaml", "yml")
	registerPresetFlag(cmd, &cfg.Preset, "", "generated dataset to import before serving")
	fs.DurationVar(&cfg.GrantDay, "grant-day", 24*time.Hour, "how long a day of a time-bound grant lasts (shorten it only to demo or test expiry)")
	fs.StringVar(&cfg.SignIn.PublicURL, "public-url", "", "where people reach the REST address, e.g. https://mspauthz.example.com behind a TLS proxy: the sign-in callback is under it, and cookies are Secure when it is https (default http://<http-addr>)")
	fs.BoolVar(&cfg.SignIn.Demo, "demo-sign-in", false, "allow the demo sign-in of the fixtures' people when --http-addr is not loopback (never in production)")
	fs.DurationVar(&cfg.SignIn.SessionIdleTimeout, "session-idle-timeout", auth.DefaultSessionIdleTimeout, "how long a console session lasts without a request")
	fs.DurationVar(&cfg.SignIn.SessionMaxAge, "session-max-age", auth.DefaultSessionMaxAge, "how long a console session lasts at most after sign-in")
	fs.BoolVar(&cfg.SignIn.AllowHTTPIssuers, "allow-http-issuers", false, "take identity providers whose issuer is plain http off loopback (a provider in the same private network only)")
	fs.DurationVar(&cfg.SignIn.MinKeyRefresh, "jwks-min-refresh", signin.DefaultMinRefresh, "how soon a token signed with an unknown key may fetch its issuer's keys again")
	backend := registerBackendFlags(cmd, &cfg)
	index := registerIndexFlags(fs, &cfg.Index)

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := backend(); err != nil {
			return usageError(err)
		}
		if err := index(); err != nil {
			return usageError(err)
		}
		cfg.AdminToken = os.Getenv("MSPAUTHZ_ADMIN_TOKEN")
		cfg.ServerKey = os.Getenv("MSPAUTHZ_SERVER_KEY")
		cfg.Stdout = cmd.OutOrStdout()
		cfg.Log = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
		cfg.Banner, cfg.Version = cmd.ErrOrStderr(), ownVersion()
		a, err := cfg.Complete(cmd.Context())
		if err != nil {
			cfg.Log.Error("cannot start", "error", err.Error())
			return silentExit(1)
		}
		if err := a.Run(cmd.Context()); err != nil {
			cfg.Log.Error("stopped with an error", "error", err.Error())
			return silentExit(1)
		}
		return nil
	}
	return cmd
}
