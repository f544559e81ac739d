package bench_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/bench"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

func TestMain(m *testing.M) { spicedbtest.Main(m) }

const token = "bench-platform-token-0123456789"

// The driver runs whole, on the test backend: by default on the tiny preset
// with short cells (so that CI keeps it working); MSPAUTHZ_BENCH_PRESET names
// another preset, MSPAUTHZ_BENCH_FULL=1 asks for the full run and
// MSPAUTHZ_BENCH_OUT for a file to write the report to (BENCHMARKS.md). Every answer of every way
// in agrees with SpiceDB's, every listing finds what SpiceDB's lookup finds,
// every save affects exactly its pairs.
func TestRun(t *testing.T) {
	cfg := driverConfig(t)
	preset := cfg.Preset
	if os.Getenv("MSPAUTHZ_BENCH_FULL") == "" { // short: CI keeps the driver working
		cfg.CellTime, cfg.CellOps, cfg.SavePairs, cfg.SaveRounds, cfg.ListingSamples = 200*time.Millisecond, 300, []int{1, 100, 1000}, 1, 5
		cfg.PermissionSamples = 1000
	}
	if !testing.Verbose() {
		cfg.Progress = nil
	}

	ctx := serve(t, &cfg, app.IndexConfig{})
	rep, err := bench.Run(ctx, cfg)
	require.NoError(t, err)

	require.Greater(t, rep.Load.Relationships, preset.MSPs*(preset.Customers+preset.Users))
	require.Positive(t, rep.Load.Heap)
	require.Len(t, rep.Checks, len(bench.Ways)*len(cfg.Concurrency))
	for _, c := range rep.Checks {
		require.Positive(t, c.Latency.N, "%s at %d", c.Way, c.Concurrency)
		require.Positive(t, c.PerSecond)
		require.LessOrEqual(t, c.Latency.P50, c.Latency.P99)
	}
	require.Greater(t, rep.Allowed, 0.0, "some sampled pairs are allowed")
	require.Less(t, rep.Allowed, 1.0, "some are denied")
	requirePermissions(t, rep)
	require.Len(t, rep.Listings, 4)
	require.True(t, rep.Index.On)
	require.Positive(t, rep.Index.Relationships)
	require.Positive(t, rep.Load.PeakHeap)
	require.Positive(t, rep.Load.SteadyHeap)
	require.Positive(t, rep.Index.EstimatedBytes)
	require.Positive(t, rep.Index.BuildTook)
	require.Equal(t, 200, rep.Index.Lag.N)
	require.Len(t, rep.Saves, len(cfg.SavePairs))
	for _, s := range rep.Saves {
		require.Equal(t, s.Pairs, s.Users*s.Customers)
		require.Equal(t, 2*cfg.SaveRounds, s.Saves)
	}
	requireConsole(t, rep)

	var md strings.Builder
	rep.Markdown(&md)
	for _, want := range []string{"### Preset `" + preset.Name + "`", "| go-api | spicedb | 8 |", "| go-api-spicedb | spicedb | 8 |", "**Reachability index.**", "| " + bench.UsersOfCustomer + " | " + bench.BySpiceDB, "| 100 | 10 × 10 |", "**Console pages**"} {
		require.Contains(t, md.String(), want)
	}
	writeReport(t, md.String())
}

// The console's pages alone (MSPAUTHZ_BENCH_CONSOLE=1, on the preset and
// backend TestRun takes): the customer page, the picture and the preview at
// the preset's sizes, as BENCHMARKS.md reports them at the large preset.
func TestRunConsole(t *testing.T) {
	if os.Getenv("MSPAUTHZ_BENCH_CONSOLE") == "" {
		t.Skip("MSPAUTHZ_BENCH_CONSOLE=1 measures the console's pages alone (TestRun measures them too)")
	}
	cfg := driverConfig(t)
	ctx := serve(t, &cfg, app.IndexConfig{})
	rep, err := bench.RunConsole(ctx, cfg)
	require.NoError(t, err)
	requireConsole(t, rep)
	var md strings.Builder
	rep.Markdown(&md)
	writeReport(t, md.String())
}

// The index alone (MSPAUTHZ_BENCH_INDEX=1, on the preset and backend
// TestRun takes): its catch-up after the import, its memory, the import's
// peak heap, a build anew and its lag — a row of BENCHMARKS.md's growth table
// (with MSPAUTHZ_TEST_INDEX=off, the import's heap without the index).
func TestRunIndex(t *testing.T) {
	if os.Getenv("MSPAUTHZ_BENCH_INDEX") == "" {
		t.Skip("MSPAUTHZ_BENCH_INDEX=1 measures the index alone (TestRun measures it too)")
	}
	cfg := driverConfig(t)
	ctx := serve(t, &cfg, app.IndexConfig{Off: !spicedbtest.IndexOn()})
	rep, err := bench.RunIndex(ctx, cfg)
	require.NoError(t, err)
	require.Positive(t, rep.Load.PeakHeap)
	require.Equal(t, spicedbtest.IndexOn(), rep.Index.On)
	var md strings.Builder
	rep.Markdown(&md)
	if rep.Index.On {
		require.Positive(t, rep.Index.Relationships)
		require.Equal(t, 200, rep.Index.Lag.N)
		require.Contains(t, md.String(), "**Reachability index.**")
	}
	writeReport(t, md.String())
}

// The catalog's permissions alone (MSPAUTHZ_BENCH_PERMISSIONS=1, on the
// preset and backend TestRun takes): random questions of the whole preset,
// serially each way and in bulk.
func TestRunPermissions(t *testing.T) {
	if os.Getenv("MSPAUTHZ_BENCH_PERMISSIONS") == "" {
		t.Skip("MSPAUTHZ_BENCH_PERMISSIONS=1 measures the catalog's permissions alone (TestRun measures them too)")
	}
	cfg := driverConfig(t)
	ctx := serve(t, &cfg, app.IndexConfig{})
	rep, err := bench.RunPermissions(ctx, cfg)
	require.NoError(t, err)
	requirePermissions(t, rep)
	var md strings.Builder
	rep.Markdown(&md)
	writeReport(t, md.String())
}

// requirePermissions checks that every way and every bulk way was measured
// on questions some of which are allowed and some denied.
func requirePermissions(t *testing.T, rep *bench.Report) {
	t.Helper()
	p := rep.Permissions
	require.NotNil(t, p)
	require.Len(t, p.Cells, len(bench.PermissionWays))
	require.Len(t, p.Bulk, 3)
	require.Greater(t, p.Allowed, 0.0)
	require.Less(t, p.Allowed, 1.0)
	for _, c := range p.Cells {
		require.Positive(t, c.Latency.N, c.Way)
	}
	for _, b := range p.Bulk {
		require.Positive(t, b.PerSecond, b.Way)
	}
}

// driverConfig is a full run's configuration on the preset
// MSPAUTHZ_BENCH_PRESET names (tiny by default), on the test backend.
func driverConfig(t *testing.T) bench.Config {
	preset, err := fixtures.PresetNamed(cmp.Or(os.Getenv("MSPAUTHZ_BENCH_PRESET"), "tiny"))
	require.NoError(t, err)
	cfg := bench.Defaults()
	cfg.Preset, cfg.Token, cfg.Backend, cfg.Progress = preset, token, spicedbtest.Backend(), os.Stderr
	return cfg
}

// writeReport logs the report's tables and writes them to the file
// MSPAUTHZ_BENCH_OUT names, if any.
func writeReport(t *testing.T, md string) {
	if out := os.Getenv("MSPAUTHZ_BENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(md), 0o644))
	}
	t.Log("\n" + md)
}

// serve starts the service the driver measures, on the test backend, with
// that index, and gives it to cfg.
func serve(t *testing.T, cfg *bench.Config, index app.IndexConfig) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	target := spicedbtest.TargetOn(t, cfg.Backend)
	cfg.Datastore = target.PostgresURI(t)
	a, err := app.Config{
		HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", AdminToken: token,
		Datastore: target.Datastore, Remote: target.Remote, Index: index,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard,
	}.Complete(ctx)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	cfg.App = a
	return ctx
}

// requireConsole checks that every console page was measured, on the
// busiest customer and user.
func requireConsole(t *testing.T, rep *bench.Report) {
	t.Helper()
	c := rep.Console
	require.NotNil(t, c)
	require.Len(t, c.Pages, 5)
	require.Positive(t, c.Reachers)
	require.Positive(t, c.Reaches)
	require.Equal(t, 1000, c.PreviewPairs)
	for _, p := range c.Pages {
		require.Equal(t, c.Rounds, p.Latency.N, p.What)
		require.Positive(t, p.Bytes, p.What)
	}
}
