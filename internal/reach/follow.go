package reach

import (
	"context"
	"errors"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// maxRetry bounds the pause between attempts while faults repeat.
const maxRetry = time.Minute

// errSchemaChanged ends a watch whose schema changed.
var errSchemaChanged = errors.New("SpiceDB's schema changed")

// Run builds the index and keeps it current until ctx ends. Whatever fails —
// the watch breaking, SpiceDB restarting, a revision the watch can no longer
// resume from, a schema change, a failed snapshot read — marks the index
// stale (readers go to SpiceDB), and Run resumes the watch from the index's
// revision, or rebuilds from a new snapshot when it cannot, after a pause
// that grows while faults repeat. Run returns ctx's error.
func (x *Index[R]) Run(ctx context.Context) error {
	defer x.verifier.stop()
	defer x.setState(Stopped)
	pause := x.opts.Retry
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
			pause = min(2*pause, maxRetry)
			return true
		}
	}
	for ctx.Err() == nil {
		if err := x.build(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			event := EventStaleBuild
			if errors.Is(err, errWrongSchema) {
				event = EventStaleSchema
			}
			x.stale(event, err)
			if !wait() {
				break
			}
			continue
		}
		for resumed := false; ctx.Err() == nil; resumed = true {
			err := x.follow(ctx, resumed, func() { pause = x.opts.Retry })
			if ctx.Err() != nil {
				break
			}
			event := staleEvent(err, EventStaleWatch)
			x.stale(event, err)
			if event != EventStaleWatch {
				break // rebuild
			}
			if !wait() {
				break
			}
		}
	}
	return ctx.Err()
}

// staleEvent names why the index went stale after err.
func staleEvent(err error, otherwise string) string {
	switch {
	case errors.Is(err, errSchemaChanged), errors.Is(err, errWrongSchema):
		return EventStaleSchema
	case fault.Is(err, fault.Invalid):
		// SpiceDB cannot watch from the revision: garbage-collected, or of
		// a datastore that is gone (a memory datastore restarted).
		return EventStaleRevision
	}
	return otherwise
}

func (x *Index[R]) stale(event string, err error) {
	x.log.Warn("reachability index is stale: SpiceDB answers until it resumes or rebuilds", "event", event, "error", err)
	x.obs.Event(event)
	x.setState(Stale)
}

// errWrongSchema is the error of Options.Schema that build wraps.
var errWrongSchema = errors.New("SpiceDB's schema is not the one the index computes")

// build reads every relationship the index holds at one revision into a new
// store and makes it the index, at that revision.
func (x *Index[R]) build(ctx context.Context) error {
	x.setState(Building)
	if x.opts.Schema != nil {
		if err := x.opts.Schema(ctx); err != nil {
			return errors.Join(errWrongSchema, err)
		}
	}
	rev, err := x.g.FreshRevision(ctx)
	if err != nil {
		return err
	}
	at, err := x.revisions.Parse(rev)
	if err != nil {
		return err
	}
	st := newStore()
	for _, f := range prog.filters {
		err := x.g.Export(ctx, f, graph.At(rev), func(rels []graph.Relationship) error {
			for _, r := range rels {
				st.apply(graph.Update{Op: graph.Touch, Relationship: r})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	st.publish() // no reader reads the new store's tables yet
	x.mu.Lock()
	x.st, x.rev, x.at = st, rev, at
	x.applied = graph.NewRecentRevisions(recentApplied)
	x.mu.Unlock()
	x.obs.Event(EventBuilt)
	x.obs.Size(st.size())
	return nil
}

// follow watches SpiceDB from the index's revision and applies what it
// reports until a watch ends, and returns why.
//
// Each watch's changes are held until a checkpoint of that watch covers the
// index's revision; then those no watch has applied yet are applied
// together, in the watch's order, and the index moves to the checkpoint. A
// watch's checkpoint follows every change of every revision it covers, so
// the index never claims a revision whose changes it lacks, and a reader
// never sees a change its revision does not cover (but for one edge case:
// SpiceDB's PostgreSQL watch may report overlapping transactions in a
// checkpoint that does not cover the one before; their changes wait, and
// may be applied with a later checkpoint that still misses one of them).
// Changes are never dropped unapplied, and none is applied twice (x.applied):
// a change applied again after a later one to the same relationship would
// undo it.
//
// With Options.Watches above one, as many watches run from the same
// revision, opened Options.Stagger apart: each polls PostgreSQL on its own
// clock, so a write waits for the soonest of them. Writes to one
// relationship are serialized, and every watch reports them in commit
// order: whichever watch applies a change first, it applies the earlier
// ones with it. A watch that reports only what another applied moments
// before polls in step with it (a burst of writes ends every watch's sleep
// at once): it is opened again, staggered, from the index's revision.
// live runs once the first watch has opened.
func (x *Index[R]) follow(ctx context.Context, resumed bool, live func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type report struct {
		watch, generation int
		ch                graph.Changes
		err               error
	}
	reports := make(chan report)
	// generation counts the openings of each watch: the reports of one
	// closed to be opened again are dropped.
	generation := make([]int, x.opts.Watches)
	closers := make([]context.CancelFunc, x.opts.Watches)
	// pump sends what watch k (opened as gen) reports until it ends.
	pump := func(k, gen int, wctx context.Context, stream graph.ChangeStream) {
		for {
			ch, err := stream.Next()
			select {
			case reports <- report{k, gen, ch, err}:
			case <-wctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}
	// open opens watch k after delay, from the index's revision then.
	open := func(k int, delay time.Duration) {
		generation[k]++
		gen := generation[k]
		wctx, stop := context.WithCancel(ctx)
		closers[k] = stop
		go func() {
			select {
			case <-wctx.Done():
				return
			case <-time.After(delay):
			}
			x.mu.RLock()
			since := x.rev
			x.mu.RUnlock()
			stream, err := x.g.Watch(wctx, prog.filters, since)
			if err != nil {
				select {
				case reports <- report{watch: k, generation: gen, err: err}:
				case <-wctx.Done():
				}
				return
			}
			pump(k, gen, wctx, stream)
		}()
	}
	// The first watch opens now: the index is live once it has.
	x.mu.RLock()
	since := x.rev
	x.mu.RUnlock()
	wctx, stop := context.WithCancel(ctx)
	first, err := x.g.Watch(wctx, prog.filters, since)
	if err != nil {
		stop()
		return err
	}
	generation[0], closers[0] = 1, stop
	go pump(0, 1, wctx, first)
	for k := 1; k < x.opts.Watches; k++ {
		open(k, time.Duration(k)*x.opts.Stagger)
	}
	if resumed {
		x.obs.Event(EventResumed)
	}
	x.setState(Live)
	live()
	// advanced is when the index last moved; aligned counts the watches
	// that reported the same changes as the one that moved it, moments
	// after it: their polls fell in step (a burst of writes ends every
	// watch's sleep at once), and they are opened again, staggered.
	var advanced time.Time
	aligned := 0
	pending := make([][]graph.Changes, x.opts.Watches)
	var sized time.Time // when the size was last reported
	for {
		var r report
		select {
		case r = <-reports:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.generation != generation[r.watch] {
			continue // a watch closed to be opened again
		}
		ch := r.ch
		switch {
		case r.err != nil:
			return r.err
		case ch.SchemaChanged:
			return errSchemaChanged
		case !ch.Checkpoint:
			pending[r.watch] = append(pending[r.watch], ch)
			continue
		}
		at, err := x.revisions.Parse(ch.Revision)
		if err != nil {
			return fault.Wrap(err, fault.Internal, "the watch reported a revision the index cannot decode")
		}
		held := pending[r.watch]
		var fresh []graph.Changes // of held, those no watch has applied
		var updates []graph.Update
		for _, c := range held {
			if !x.applied.Has(c.Revision) {
				fresh = append(fresh, c)
				updates = append(updates, c.Updates...)
			}
		}
		x.mu.RLock()
		covers := at.Covers(x.at)
		x.mu.RUnlock()
		switch {
		case len(fresh) == 0 && len(held) > 0 && x.opts.Watches > 1 && time.Since(advanced) < x.opts.Stagger/2:
			// In step with the watch that applied these moments ago.
			aligned++
			closers[r.watch]()
			pending[r.watch] = nil
			open(r.watch, time.Duration(aligned)*x.opts.Stagger)
			continue
		case !covers:
			continue // held until a checkpoint of this watch covers the index
		}
		pending[r.watch] = nil
		for _, c := range held {
			x.applied.Add(c.Revision)
		}
		// Only this goroutine drafts stores: readers go on reading the old
		// one, at the old revision, while the draft copies what the updates
		// change and shares the rest.
		st := x.st
		if len(updates) > 0 {
			st = st.draft()
			for _, u := range updates {
				st.apply(u)
			}
		}
		x.mu.Lock()
		if st != x.st {
			st.publish()
			x.st = st
		}
		x.rev, x.at = ch.Revision, at
		x.wake()
		x.mu.Unlock()
		if len(fresh) == 0 {
			continue
		}
		now := time.Now()
		advanced, aligned = now, 0
		for _, c := range fresh {
			if t, ok := x.timeOf(c.Revision); ok {
				x.obs.Lag(now.Sub(t))
			}
		}
		if now.Sub(sized) >= time.Second {
			sized = now
			x.obs.Size(x.size())
		}
	}
}

func (x *Index[R]) timeOf(rev graph.Revision) (time.Time, bool) {
	r, err := x.revisions.Parse(rev)
	if err != nil {
		return time.Time{}, false
	}
	return r.Time()
}

func (x *Index[R]) size() (int, int64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.st.size()
}
