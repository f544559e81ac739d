package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/spicedb"
)

func newMigrateCommand() *cobra.Command {
	var cfg app.Config
	cmd := &cobra.Command{
		Use:     "migrate",
		GroupID: serviceGroup,
		Short:   "Bring a SpiceDB that keeps its data to this version: migrations, schema, built-in roles",
		Long: `On a PostgreSQL datastore (--datastore): SpiceDB's own migrations to head, then the
schema and the built-in roles. On a remote cluster (--spicedb-endpoint): the schema and
the built-in roles (the cluster's operator runs spicedb datastore migrate head).
Idempotent.`,
		Example: `  mspauthz migrate --datastore postgres://user:pass@localhost:5432/mspauthz
  MSPAUTHZ_SPICEDB_TOKEN=key mspauthz migrate --spicedb-endpoint spicedb-a:50051 --spicedb-insecure`,
		Args: noArgs,
	}
	backend := registerBackendFlags(cmd, &cfg)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := backend(); err != nil {
			return usageError(err)
		}
		if err := requirePersistent(&cfg, "the memory datastore needs no migration"); err != nil {
			return err
		}
		if err := cfg.Migrate(cmd.Context()); err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if cfg.Datastore != "" {
			fmt.Fprintf(out, "datastore migrated to %s; ", spicedb.HeadMigration)
		}
		fmt.Fprintln(out, "schema and built-in roles up to date")
		return nil
	}
	return cmd
}
