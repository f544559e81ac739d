package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
)

func newGenCommand() *cobra.Command {
	var cfg app.Config
	cmd := &cobra.Command{
		Use:     "gen",
		GroupID: serviceGroup,
		Short:   "Import a generated dataset into a SpiceDB that keeps it",
		Long: `Import a generated preset through the domain with SpiceDB's bulk import, with a
progress line, then refresh PostgreSQL's planner statistics. An MSP that exists is left
as it is, so a second run completes the first.`,
		Example: `  mspauthz gen --preset large --datastore postgres://user:pass@localhost:5432/mspauthz`,
		Args:    noArgs,
	}
	registerPresetFlag(cmd, &cfg.Preset, "", "the generated dataset")
	backend := registerBackendFlags(cmd, &cfg)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := backend(); err != nil {
			return usageError(err)
		}
		if err := requirePersistent(&cfg, "the memory datastore keeps nothing: use mspauthz serve --preset NAME"); err != nil {
			return err
		}
		if _, err := fixtures.PresetNamed(cfg.Preset); err != nil {
			return usagef("--preset: %w", err)
		}
		stderr := cmd.ErrOrStderr()
		cfg.Log = slog.New(slog.NewJSONHandler(stderr, nil))
		start := time.Now()
		err := cfg.Generate(cmd.Context(), func(done, msps, rels int) {
			fmt.Fprintf(stderr, "\rimported %d relationships, %d of %d MSPs, %s", rels, done, msps, time.Since(start).Round(100*time.Millisecond))
		})
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "preset %s imported in %s\n", cfg.Preset, time.Since(start).Round(time.Millisecond))
		return nil
	}
	return cmd
}
