package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb"
)

// registerBackendFlags declares the flags that choose SpiceDB — an embedded
// one in memory (none given) or on PostgreSQL, or a remote cluster — and
// returns the function that applies them after parsing.
func registerBackendFlags(cmd *cobra.Command, cfg *app.Config) (apply func() error) {
	fs := cmd.Flags()
	fs.StringVar(&cfg.Datastore, "datastore", "", "PostgreSQL URI of the embedded SpiceDB's datastore, migrated first by mspauthz migrate (default: in memory, lost at exit)")
	endpoints := fs.String("spicedb-endpoint", "", "a remote SpiceDB cluster instead of the embedded one: HOST:PORT, or its nodes HOST:PORT,HOST:PORT")
	fs.StringVar(&cfg.Remote.Token, "spicedb-token", "", "the cluster's preshared key (set MSPAUTHZ_SPICEDB_TOKEN instead to keep it out of process lists)")
	fs.BoolVar(&cfg.Remote.Insecure, "spicedb-insecure", false, "talk to the cluster in plaintext instead of TLS")
	fs.StringVar(&cfg.Remote.Engine, "spicedb-datastore-engine", spicedb.EnginePostgres, "the cluster's datastore engine (postgres, cockroachdb, mysql, spanner): how its ZedTokens are ordered")
	_ = cmd.RegisterFlagCompletionFunc("spicedb-datastore-engine", cobra.FixedCompletions([]string{"postgres", "cockroachdb", "mysql", "spanner"}, cobra.ShellCompDirectiveNoFileComp))
	return func() error {
		if *endpoints == "" {
			return nil
		}
		var err error
		cfg.Remote.Endpoints, err = spicedb.ParseEndpoints(*endpoints)
		return err
	}
}

// requirePersistent refuses a configuration whose SpiceDB keeps nothing (the
// memory datastore); why says what the command would lose.
func requirePersistent(cfg *app.Config, why string) error {
	if cfg.Datastore == "" && len(cfg.Remote.Endpoints) == 0 {
		return usagef("give --datastore postgres://... or --spicedb-endpoint HOST:PORT (%s)", why)
	}
	return nil
}

// registerIndexFlags declares the flags of the reachability index and
// returns the function that applies them after parsing.
func registerIndexFlags(fs *pflag.FlagSet, cfg *app.IndexConfig) (apply func() error) {
	on := fs.Bool("index", true, "answer customer-access checks and listings from the in-memory reachability index (--index=false: SpiceDB answers every time)")
	fs.Float64Var(&cfg.VerifySample, "index-verify-sample", 0, "share of the index's answers (0 to 1) asked of SpiceDB again at the same revision; mismatches count in mspauthz_index_events_total{event=\"mismatch\"}")
	fs.DurationVar(&cfg.MaxWait, "index-max-wait", reach.DefaultMaxWait, "how long a request carrying atLeastAsFresh waits for the index to apply it before SpiceDB answers")
	return func() error {
		cfg.Off = !*on
		if cfg.VerifySample < 0 || cfg.VerifySample > 1 {
			return errors.New("--index-verify-sample must be between 0 and 1")
		}
		return nil
	}
}

// registerPresetFlag declares --preset, the generated dataset a command loads.
func registerPresetFlag(cmd *cobra.Command, preset *string, def, what string) {
	cmd.Flags().StringVar(preset, "preset", def, what+": "+strings.Join(fixtures.PresetNames(), ", ")+" (see BENCHMARKS.md)")
	_ = cmd.RegisterFlagCompletionFunc("preset", cobra.FixedCompletions(fixtures.PresetNames(), cobra.ShellCompDirectiveNoFileComp))
}
