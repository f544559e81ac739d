package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb"
)

// IndexReport is the reachability index measured: what it holds, what it
// costs, and how far it trails SpiceDB.
type IndexReport struct {
	// On is false when the service runs with the index off (nothing else is measured).
	On bool
	// CaughtUp is how long after the import the index had applied it.
	CaughtUp time.Duration
	// Relationships is what the index holds; EstimatedBytes its own
	// estimate of its memory.
	Relationships  int
	EstimatedBytes int64
	// HeapBytes is the live Go heap that a second index, built anew from a
	// snapshot at the end of the run, holds (the heap with it less the heap
	// once it is dropped); BuildPeakBytes the most it held while it was
	// built; BuildTook how long the build took, until it was live at a
	// fresh revision.
	HeapBytes, BuildPeakBytes int64
	BuildTook                 time.Duration
	// Lag is the time from a write's acknowledgement to the index's
	// applying its revision, over one write at a time at random moments.
	Lag Latency
}

// lagWrites is how many writes the lag is measured over.
const lagWrites = 200

// RunIndex loads the preset and measures only the index: its catch-up, its
// memory, the peak heap of the import, a build anew, and its lag (with the
// index off, only the import and its heap).
func RunIndex(ctx context.Context, cfg Config) (*Report, error) {
	r := &Report{Preset: cfg.Preset, Backend: cfg.Backend, Machine: machine(cfg)}
	if err := loadIndexed(ctx, cfg, r); err != nil {
		return nil, err
	}
	if err := measureIndex(ctx, cfg, &r.Index, rand.New(rand.NewPCG(1, 2))); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return r, nil
}

// loadIndexed imports the preset (load) and waits until the index has
// applied it (indexCaughtUp), watching the live heap meanwhile.
func loadIndexed(ctx context.Context, cfg Config, r *Report) error {
	peak := watchHeap()
	var err error
	if r.Load, err = load(ctx, cfg); err == nil {
		r.Index, err = indexCaughtUp(ctx, cfg)
	}
	r.Load.PeakHeap = peak()
	r.Load.SteadyHeap = heapInUse()
	return err
}

// indexCaughtUp waits until the service's index has applied every write
// acknowledged so far (the import), and says how long that took.
func indexCaughtUp(ctx context.Context, cfg Config) (IndexReport, error) {
	x := cfg.App.Index()
	if x == nil {
		return IndexReport{}, nil
	}
	start := time.Now()
	rev, err := spicedb.NewGraph(cfg.App.SpiceDB()).FreshRevision(ctx)
	if err != nil {
		return IndexReport{}, err
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := x.WaitFor(wait, rev); err != nil {
		return IndexReport{}, fmt.Errorf("the index did not apply the import: %w (state %s)", err, x.Status().State)
	}
	r := IndexReport{On: true, CaughtUp: time.Since(start)}
	cfg.say("index caught up in %s", r.CaughtUp.Round(time.Millisecond))
	return r, nil
}

// measureIndex measures the index's lag — writes of direct associations of
// random pairs of the preset, one at a time at random moments, each undone
// by the next write — and the memory of a second index built anew.
func measureIndex(ctx context.Context, cfg Config, r *IndexReport, rng *rand.Rand) error {
	x := cfg.App.Index()
	if x == nil {
		return nil
	}
	g := spicedb.NewGraph(cfg.App.SpiceDB())
	p := cfg.Preset
	lags := make([]time.Duration, 0, lagWrites)
	var undo []graph.Update
	for range lagWrites {
		msp := p.MSPID(rng.IntN(p.MSPs))
		rel := graph.Rel(graph.Object{Type: "customer", ID: msp + "/" + p.Customer(rng.IntN(p.Customers))}, "direct",
			graph.Object{Type: "user", ID: msp + "/" + p.User(rng.IntN(p.Users))})
		updates := append(undo, graph.Update{Op: graph.Touch, Relationship: rel})
		if len(undo) > 0 && undo[0].Relationship == rel {
			updates = undo
		}
		time.Sleep(time.Duration(rng.IntN(int(20 * time.Millisecond))))
		rev, err := g.Write(ctx, updates, nil)
		if err != nil {
			return err
		}
		acked := time.Now()
		if err := x.WaitFor(ctx, rev); err != nil {
			return err
		}
		lags = append(lags, time.Since(acked))
		undo = []graph.Update{{Op: graph.Delete, Relationship: rel}}
	}
	if _, err := g.Write(ctx, undo, nil); err != nil {
		return err
	}
	r.Lag = latencyOf(lags)
	st := x.Status()
	r.Relationships, r.EstimatedBytes = st.Relationships, st.Bytes
	cfg.say("index lag p50 %s p99 %s; %d relationships, about %s", r.Lag.P50, r.Lag.P99, r.Relationships, mib(r.EstimatedBytes))

	var err error
	r.HeapBytes, r.BuildPeakBytes, r.BuildTook, err = buildAnew(ctx, cfg)
	cfg.say("a second index built in %s holds %s of heap", r.BuildTook.Round(time.Millisecond), mib(r.HeapBytes))
	return err
}

// buildAnew builds a second index from a snapshot, and measures the live
// heap it holds once built and at most while it was built: the heap then
// less the heap once it is dropped (what SpiceDB keeps of serving the
// snapshot stays, and is not counted).
func buildAnew(ctx context.Context, cfg Config) (heap, peak int64, took time.Duration, err error) {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	watch := watchHeap()
	start := time.Now()
	built := func() int64 {
		another := cfg.App.NewIndex(reach.Options{})
		go func() { done <- another.Run(runCtx) }()
		rev, e := spicedb.NewGraph(cfg.App.SpiceDB()).FreshRevision(ctx)
		if e == nil {
			e = another.WaitFor(ctx, rev)
		}
		took, err = time.Since(start), e
		return heapInUse()
	}()
	most := watch()
	stop()
	if runErr := <-done; err == nil && !errors.Is(runErr, context.Canceled) {
		err = runErr
	}
	without := heapInUse()
	return built - without, max(most, built) - without, took, err
}

// watchHeap samples the live Go heap (as the last collection found it)
// until the function it returns is called, which returns its peak.
// watched counts the heap's watches (for the names of their profiles).
var watched atomic.Int64

func watchHeap() (peak func() int64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop, out := make(chan struct{}), make(chan int64)
	profile := os.Getenv("MSPAUTHZ_BENCH_PEAK_PROFILE")
	if profile != "" {
		profile += fmt.Sprintf(".%d", watched.Add(1)) // one file a watch: the import's is .1
	}
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var most, profiled int64
		for {
			metrics.Read(sample)
			most = max(most, int64(sample[0].Value.Uint64()))
			// MSPAUTHZ_BENCH_PEAK_PROFILE names files for the heap's
			// profile near its peak (written again at each new peak 5% over).
			if profile != "" && most > profiled+profiled/20 {
				profiled = most
				if f, err := os.Create(profile); err == nil {
					_ = pprof.WriteHeapProfile(f)
					_ = f.Close()
				}
			}
			select {
			case <-stop:
				out <- most
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 { close(stop); return <-out }
}

// heapInUse is the Go heap that is live after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
