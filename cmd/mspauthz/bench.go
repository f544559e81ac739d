package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/bench"
)

// benchCommand runs the load driver: a service started in this process on
// loopback, over the SpiceDB the backend flags name (which must hold none of
// the preset's MSPs), loaded with a generated preset and measured; the
// report's tables go to stdout (or --out), progress to stderr.
func benchCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := bench.Defaults()
	preset := fs.String("preset", "small", "the generated dataset: "+strings.Join(fixtures.PresetNames(), ", "))
	fs.DurationVar(&cfg.CellTime, "cell", cfg.CellTime, "how long each check measurement (one way, one concurrency) runs")
	fs.IntVar(&cfg.CellOps, "cell-ops", 0, "stop each check measurement after this many checks too (0: time only)")
	concurrency := fs.String("concurrency", joinInts(cfg.Concurrency), "the concurrencies of the check")
	saves := fs.String("saves", joinInts(cfg.SavePairs), "the sizes of the form saves, in affected (user, customer) pairs")
	fs.IntVar(&cfg.SaveRounds, "save-rounds", cfg.SaveRounds, "how many times each save size associates and dissociates")
	fs.IntVar(&cfg.ListingSamples, "listings", cfg.ListingSamples, "how many users and customers are listed")
	out := fs.String("out", "", "write the report to this file instead of stdout")
	svc := app.Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", Stdout: io.Discard}
	backend := backendFlags(fs, &svc)
	indexFlags(fs, &svc.Index)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if err = backend(); err == nil {
		cfg.Preset, err = fixtures.PresetNamed(*preset)
	}
	if err == nil {
		cfg.Concurrency, err = parseInts("--concurrency", *concurrency)
	}
	if err == nil {
		cfg.SavePairs, err = parseInts("--saves", *saves)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := svc.Complete(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "bench: cannot start the service:", err)
		return 1
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
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	rep.Markdown(w)
	return 0
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
