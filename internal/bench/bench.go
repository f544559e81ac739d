// Package bench is mspauthz's load driver: it loads a generated preset into a
// running service and measures, side by side in one run, the customer-access
// check over every way in (SpiceDB's own CheckPermission on the same server,
// the in-process Go API, gRPC, REST) at several concurrencies, form saves of
// growing size, the "customers of a user" and "users of a customer" listings
// against SpiceDB's own lookups, and the memory the data takes. Every run is
// bounded and every answer is checked against SpiceDB's.
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/spicedb"
)

// Config is one run of the driver.
type Config struct {
	Preset fixtures.Preset
	// App is the service under test: completed, running, listening on
	// loopback, and holding none of the preset's MSPs yet.
	App *app.App
	// Token is a platform token of App, for gRPC and REST.
	Token string
	// Backend names App's SpiceDB in the report (memory, postgres, remote);
	// Datastore is its PostgreSQL URI when it has one, to refresh the
	// planner's statistics after the import and report the database's size.
	Backend, Datastore string
	// CellTime bounds each measurement of the check (one way, one
	// concurrency); CellOps bounds it too (0: no bound but time).
	CellTime time.Duration
	CellOps  int
	// Concurrency are the concurrencies of the check.
	Concurrency []int
	// SavePairs are the sizes of the form saves, in (user, customer) pairs
	// affected; SaveRounds how many times each associates and dissociates.
	SavePairs  []int
	SaveRounds int
	// ListingSamples is how many users and how many customers are listed.
	ListingSamples int
	// PermissionSamples is how many random questions the catalog
	// permissions' cells cycle through (0: 20,000).
	PermissionSamples int
	// ConsoleRounds is how many times each console page is timed (0: 30, so
	// that a p50 on a shared machine is not one noisy sample).
	ConsoleRounds int
	// Progress receives progress lines; nil for none.
	Progress io.Writer
}

// Report is what a run measured.
type Report struct {
	Preset  fixtures.Preset
	Backend string
	Machine Machine
	Load    Load
	Checks  []CheckCell
	// Permissions are the catalog's permissions measured (RunPermissions, and Run).
	Permissions *PermissionReport
	Allowed     float64 // the share of sampled checks that are allowed
	Listings    []Listing
	Saves       []Save
	Index       IndexReport
	Console     *ConsoleReport
}

// Load is the import of the preset and the memory it takes.
type Load struct {
	Relationships int
	Took          time.Duration
	// RSS is the process's resident memory after the import (after a
	// garbage collection), RSSBefore before it; PeakRSS its high-water mark,
	// which includes the generator's and the import's transient memory; Heap
	// the Go heap in use after the import.
	RSS, RSSBefore, PeakRSS, Heap int64
	// DatastoreBytes is the PostgreSQL database's size, when there is one.
	DatastoreBytes int64
	// PeakHeap is the process's peak live Go heap from the import's start
	// until the index (when on) had applied it; SteadyHeap the live heap
	// then, once the import's garbage is collected.
	PeakHeap, SteadyHeap int64
}

// Machine is where a run ran.
type Machine struct {
	CPU                     string
	CPUs                    int
	GoVersion, OS, SpiceDB  string
	StartedAt               time.Time
	CellTime                time.Duration
	CellOps, ListingSamples int
	SaveRounds              int
}

// Defaults are the settings of a full run, as BENCHMARKS.md reports it;
// Preset, App, Token, Backend and Datastore remain to be given.
func Defaults() Config {
	return Config{
		CellTime: 5 * time.Second, Concurrency: []int{1, 8, 32},
		SavePairs: []int{1, 100, 1_000, 10_000}, SaveRounds: 2, ListingSamples: 20,
	}
}

// Run loads the preset and measures everything the configuration asks.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r := &Report{Preset: cfg.Preset, Backend: cfg.Backend, Machine: machine(cfg)}
	cfg.say("loading preset %s (%d MSPs × %d customers, %d customer groups, %d users) on %s",
		cfg.Preset.Name, cfg.Preset.MSPs, cfg.Preset.Customers, cfg.Preset.CustomerGroups, cfg.Preset.Users, cfg.Backend)
	if err := loadIndexed(ctx, cfg, r); err != nil {
		return nil, err
	}
	var err error
	rng := rand.New(rand.NewPCG(1, 2)) // the same samples every run
	if r.Checks, r.Allowed, err = checks(ctx, cfg, rng); err != nil {
		return nil, err
	}
	if r.Permissions, err = permissions(ctx, cfg, rand.New(rand.NewPCG(3, 4))); err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	if r.Listings, err = listings(ctx, cfg, rng); err != nil {
		return nil, err
	}
	if err = measureIndex(ctx, cfg, &r.Index, rng); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if r.Saves, err = saves(ctx, cfg); err != nil {
		return nil, err
	}
	if r.Console, err = consolePages(ctx, cfg); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return r, nil
}

func (cfg Config) say(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, format+"\n", args...)
	}
}

// load imports the preset in bulk through the domain, with a progress line.
func load(ctx context.Context, cfg Config) (Load, error) {
	var l Load
	l.RSSBefore, _ = residentMemory()
	start, last := time.Now(), time.Time{}
	skipped, err := cfg.Preset.Import(ctx, cfg.App.Domain(), func(done, msps, rels int) {
		l.Relationships = rels
		if cfg.Progress != nil && (time.Since(last) > time.Second || done == msps) {
			last = time.Now()
			fmt.Fprintf(cfg.Progress, "\rimported %d relationships, %d of %d MSPs, %s", rels, done, msps, time.Since(start).Round(100*time.Millisecond))
		}
	})
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress)
	}
	if err == nil && len(skipped) > 0 {
		err = fmt.Errorf("the SpiceDB under test holds MSPs of preset %s already (%s...): give it an empty one", cfg.Preset.Name, skipped[0])
	}
	if err != nil {
		return l, err
	}
	if cfg.Datastore != "" {
		if err := spicedb.Analyze(ctx, cfg.Datastore); err != nil {
			return l, fmt.Errorf("analyze: %w", err)
		}
		if l.DatastoreBytes, err = spicedb.DatastoreBytes(ctx, cfg.Datastore); err != nil {
			return l, fmt.Errorf("datastore size: %w", err)
		}
	}
	l.Took = time.Since(start)
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	l.Heap = int64(ms.HeapInuse)
	l.RSS, l.PeakRSS = residentMemory()
	cfg.say("loaded %d relationships in %s", l.Relationships, l.Took.Round(time.Millisecond))
	return l, nil
}
