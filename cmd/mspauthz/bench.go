package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/bench"
)

func newBenchCommand() *cobra.Command {
	cfg := bench.Defaults()
	svc := app.Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", Stdout: io.Discard}
	var preset, concurrency, saves, out string
	cmd := &cobra.Command{
		Use:     "bench",
		GroupID: serviceGroup,
		Short:   "Load a preset into a service started here and measure it (BENCHMARKS.md)",
		Long: `Start the service in this process on loopback, over the SpiceDB the backend flags name
(which must hold none of the preset's MSPs), import a generated preset and measure
checks over every way in against SpiceDB's own, form saves, listings and memory,
checking every answer against SpiceDB's. The report's tables go to stdout (or --out),
progress to stderr.`,
		Example: `  mspauthz bench --preset large --datastore postgres://user:pass@localhost:5432/mspauthz`,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	registerPresetFlag(cmd, &preset, "small", "the generated dataset")
	fs.DurationVar(&cfg.CellTime, "cell", cfg.CellTime, "how long each check measurement (one way, one concurrency) runs")
	fs.IntVar(&cfg.CellOps, "cell-ops", 0, "stop each check measurement after this many checks too (0: time only)")
	fs.StringVar(&concurrency, "concurrency", joinInts(cfg.Concurrency), "the concurrencies of the check")
	fs.StringVar(&saves, "saves", joinInts(cfg.SavePairs), "the sizes of the form saves, in affected (user, customer) pairs")
	fs.IntVar(&cfg.SaveRounds, "save-rounds", cfg.SaveRounds, "how many times each save size associates and dissociates")
	fs.IntVar(&cfg.ListingSamples, "listings", cfg.ListingSamples, "how many users and customers are listed")
	fs.StringVar(&out, "out", "", "write the report to this file instead of stdout")
	backend := registerBackendFlags(cmd, &svc)
	index := registerIndexFlags(fs, &svc.Index)

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if err = backend(); err == nil {
			err = index()
		}
		if err == nil {
			cfg.Preset, err = fixtures.PresetNamed(preset)
		}
		if err == nil {
			cfg.Concurrency, err = parseInts("--concurrency", concurrency)
		}
		if err == nil {
			cfg.SavePairs, err = parseInts("--saves", saves)
		}
		if err != nil {
			return usageError(err)
		}
		stderr := cmd.ErrOrStderr()
		cfg.Backend, cfg.Datastore, cfg.Progress = "memory", svc.Datastore, stderr
		switch {
		case len(svc.Remote.Endpoints) > 0:
			cfg.Backend = "a remote SpiceDB cluster"
		case svc.Datastore != "":
			cfg.Backend = "postgres"
		}
		cfg.Token = auth.GeneratePlatformToken()
		svc.AdminToken = cfg.Token
		svc.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return runBench(cmd.Context(), svc, cfg, cmd.OutOrStdout(), out)
	}
	return cmd
}

// runBench starts the service, runs the load driver against it and writes
// the report to stdout or the file out.
func runBench(ctx context.Context, svc app.Config, cfg bench.Config, stdout io.Writer, out string) error {
	a, err := svc.Complete(ctx)
	if err != nil {
		return fmt.Errorf("cannot start the service: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	cfg.App = a
	rep, err := bench.Run(ctx, cfg)
	cancel()
	if stopErr := <-done; err == nil {
		err = stopErr
	}
	if err != nil {
		return err
	}
	w := stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	rep.Markdown(w)
	return nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a list of positive integers", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}
