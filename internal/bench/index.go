package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
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
	// Relationships and Pairs are what the index holds; EstimatedBytes its
	// own estimate of its memory.
	Relationships, Pairs int
	EstimatedBytes       int64
	// HeapBytes is the live Go heap that a second index, built anew from a
	// snapshot at the end of the run, adds (noise at the tiny preset, where
	// other garbage of the process outweighs it); BuildTook how long the
	// build took.
	HeapBytes int64
	BuildTook time.Duration
	// Lag is the time from a write's acknowledgement to the index's
	// applying its revision, over one write at a time at random moments.
	Lag Latency
}

// lagWrites is how many writes the lag is measured over.
const lagWrites = 200

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
	r.Relationships, r.Pairs, r.EstimatedBytes = st.Relationships, st.Pairs, st.Bytes
	cfg.say("index lag p50 %s p99 %s; %d relationships, %d pairs, about %s", r.Lag.P50, r.Lag.P99, r.Relationships, r.Pairs, mib(r.EstimatedBytes))

	before := heapInUse()
	another := cfg.App.NewIndex(reach.Options{})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- another.Run(runCtx) }()
	rev, err := g.FreshRevision(ctx)
	if err == nil {
		err = another.WaitFor(ctx, rev)
	}
	r.BuildTook = time.Since(start)
	r.HeapBytes = heapInUse() - before
	runtime.KeepAlive(another)
	stop()
	if runErr := <-done; err == nil && !errors.Is(runErr, context.Canceled) {
		err = runErr
	}
	cfg.say("a second index built in %s holds %s of heap", r.BuildTook.Round(time.Millisecond), mib(r.HeapBytes))
	return err
}

// heapInUse is the Go heap that is live after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
