package reach

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Revisions decodes ZedTokens into revisions the index can order.
type Revisions[R Revision[R]] interface {
	Parse(graph.Revision) (R, error)
}

// Revision is a decoded ZedToken.
type Revision[R any] interface {
	// Covers reports whether every write visible at o is visible here.
	Covers(o R) bool
	// Time is when the revision was written, if the datastore says.
	Time() (time.Time, bool)
}

// State is what the index can do.
type State string

const (
	// Building: reading a snapshot; answers come from SpiceDB.
	Building State = "building"
	// Live: following SpiceDB's changes; the index answers.
	Live State = "live"
	// Stale: the watch broke, the schema changed or a build failed; answers
	// come from SpiceDB while the index resumes or rebuilds.
	Stale State = "stale"
	// Stopped: Run has returned.
	Stopped State = "stopped"
)

// Events the index counts (Observer.Event).
const (
	EventAnswered       = "answered"        // a read answered from the index
	EventFallbackState  = "fallback_state"  // not live: SpiceDB answered
	EventFallbackBehind = "fallback_behind" // the token's revision was not applied in time
	EventFallbackToken  = "fallback_token"  // a token the index cannot order (malformed, another datastore)
	EventStaleWatch     = "stale_watch"     // the watch broke
	EventStaleRevision  = "stale_revision"  // the watch could not resume from the index's revision
	EventStaleSchema    = "stale_schema"    // the schema changed, or is not the one the index knows
	EventStaleBuild     = "stale_build"     // a snapshot read failed
	EventBuilt          = "built"           // a snapshot was read into a new store
	EventResumed        = "resumed"         // the watch resumed from the index's revision
	EventVerified       = "verified"        // a sampled answer agreed with SpiceDB
	EventMismatch       = "mismatch"        // a sampled answer disagreed with SpiceDB
	EventVerifyFailed   = "verify_failed"   // SpiceDB could not be asked
	EventVerifyDropped  = "verify_dropped"  // too many verifications queued
)

// Observer is told what the index does (the metrics of a process).
type Observer interface {
	// Event counts one of the events above.
	Event(name string)
	// State is the index's new state.
	State(State)
	// Lag is how long after its commit a change was applied.
	Lag(time.Duration)
	// Size is what the index holds after a build or a change.
	Size(relationships int, bytes int64)
}

type nopObserver struct{}

func (nopObserver) Event(string)      {}
func (nopObserver) State(State)       {}
func (nopObserver) Lag(time.Duration) {}
func (nopObserver) Size(int, int64)   {}

// DefaultMaxWait is how long a read that carries a token waits for the index
// to apply its revision before SpiceDB answers it instead.
const DefaultMaxWait = 50 * time.Millisecond

// Options configure an index.
type Options struct {
	// Schema, when set, fails unless SpiceDB's schema is the one whose
	// access permission the index computes; it runs before every build.
	Schema func(context.Context) error
	// MaxWait bounds the wait for a token's revision (DefaultMaxWait if 0).
	MaxWait time.Duration
	// VerifySample is the share of answers (0 to 1) asked of SpiceDB again,
	// at the same revision, in the background: mismatches are counted.
	VerifySample float64
	// Observer is told events, state, lag and size; nil tells no one.
	Observer Observer
	// Watches is how many watches follow SpiceDB at once (1 if 0), opened
	// Stagger apart: SpiceDB's PostgreSQL watch polls every heartbeat, and a
	// write waits for the soonest poll of any of them.
	Watches int
	Stagger time.Duration
	// Log is told of faults (slog.Default() if nil).
	Log *slog.Logger
	// Retry is the pause before resuming or rebuilding after a fault
	// (a second if 0); it doubles up to a minute while faults repeat.
	Retry time.Duration
}

// Index is the reachability index: every user's access to every customer,
// with its paths, and the reverse, answered in memory from the
// relationships that make access, held as sets and intersected per
// question (store). It is built from a snapshot read of SpiceDB at a revision and kept
// current from SpiceDB's Watch from that revision on, so it reflects every
// write, mspauthz's or not, and knows the revision it reflects.
type Index[R Revision[R]] struct {
	g         graph.Graph
	revisions Revisions[R]
	opts      Options
	obs       Observer
	log       *slog.Logger

	mu    sync.RWMutex
	st    *store
	rev   graph.Revision
	at    R
	state State
	// advanced is closed, and replaced, whenever rev or state changes.
	advanced chan struct{}
	// applied are the revisions whose changes the store holds, since the
	// last build (the recent ones: enough for the watches to agree on).
	applied *graph.RecentRevisions

	verifier *verifier
	parsed   atomic.Pointer[parsedToken[R]]
}

// New returns an index over g; Run builds it and keeps it current.
func New[R Revision[R]](g graph.Graph, revisions Revisions[R], opts Options) *Index[R] {
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	opts.Watches = max(opts.Watches, 1)
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	obs := opts.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	x := &Index[R]{g: g, revisions: revisions, opts: opts, obs: obs, log: log, state: Building, advanced: make(chan struct{}), applied: graph.NewRecentRevisions(recentApplied)}
	x.verifier = newVerifier(g, opts.VerifySample, obs)
	obs.State(Building)
	return x
}

// recentApplied is how many applied revisions the index remembers: far more
// than the watches ever trail one another by.
const recentApplied = 1 << 16

// View is the index at one revision, for the length of one Read, and at
// one instant (when it was read): a relationship that expired by then does
// not exist for it.
type View struct {
	s   *store
	rev graph.Revision
	v   *verifier
	now time.Time
}

func (v View) eval() eval { return eval{s: v.s, now: v.now.UnixNano(), m: &memo{}} }

// Check answers checks of any relation or permission of the schema the
// index holds or evaluates — customer access, every permission of the
// catalog, the channels, the partner-gated permissions, the MSP's
// administration, the objects' permissions, and the relationships that
// prove objects exist — as SpiceDB's CheckPermission would at the view's
// revision; ok is false when one of the checks is of anything else.
func (v View) Check(checks []graph.Check) (answers []bool, ok bool) {
	answers = make([]bool, len(checks))
	ev := v.eval()
	for i, c := range checks {
		if answers[i], ok = ev.check(c); !ok {
			return nil, false
		}
	}
	v.v.checks(v.rev, checks, answers)
	return answers, true
}

// Grants names what grants user the permission p of the catalog on
// customer, or on msp when customer is "" (user, customer and msp are
// SpiceDB object ids). It names nothing for a permission not granted.
func (v View) Grants(msp, user, customer string, p catalog.Permission) Grants {
	return v.eval().grantsOf(msp, user, customer, p)
}

// Paths names the paths from user to customer (user and customer are
// SpiceDB object ids).
func (v View) Paths(user, customer string) Paths { return v.s.pathsOf(user, customer) }

// CustomersOf lists the customers user has access to, with their paths,
// sorted by id: SpiceDB's LookupResources of customer#access.
func (v View) CustomersOf(user string) []Reached {
	out := v.s.customersOf(user)
	v.v.list(v.rev, graph.Object{Type: typeUser, ID: user}, out)
	return out
}

// UsersOf lists the users who have access to customer, with their paths,
// sorted by id: SpiceDB's LookupSubjects of customer#access.
func (v View) UsersOf(customer string) []Reached {
	out := v.s.usersOf(customer)
	v.v.list(v.rev, graph.Object{Type: typeCustomer, ID: customer}, out)
	return out
}

// Read runs f on the index at a revision at least as fresh as
// atLeastAsFresh (at the index's own revision when empty) and returns that
// revision. It waits up to MaxWait for the index to apply atLeastAsFresh;
// ok is false, and f has not run, when the index cannot answer: it is not
// live, it has not applied the token's revision in time, or the token is
// not one it can order. SpiceDB answers then. f runs under the index's read
// lock: it must not block, nor keep the view.
func (x *Index[R]) Read(ctx context.Context, atLeastAsFresh graph.Revision, f func(View)) (graph.Revision, bool) {
	var want R
	if atLeastAsFresh != "" {
		var ok bool
		if want, ok = x.parse(atLeastAsFresh); !ok {
			x.obs.Event(EventFallbackToken)
			return "", false
		}
	}
	var deadline <-chan time.Time
	for {
		x.mu.RLock()
		switch {
		case x.state != Live:
			x.mu.RUnlock()
			x.obs.Event(EventFallbackState)
			return "", false
		case atLeastAsFresh == "" || x.at.Covers(want):
			rev := x.rev
			f(View{s: x.st, rev: rev, v: x.verifier, now: time.Now()})
			x.mu.RUnlock()
			x.obs.Event(EventAnswered)
			return rev, true
		}
		advanced := x.advanced
		x.mu.RUnlock()
		if deadline == nil {
			timer := time.NewTimer(x.opts.MaxWait)
			defer timer.Stop()
			deadline = timer.C
		}
		select {
		case <-advanced:
		case <-deadline:
			x.obs.Event(EventFallbackBehind)
			return "", false
		case <-ctx.Done():
			x.obs.Event(EventFallbackBehind)
			return "", false
		}
	}
}

// parse decodes a token; the last one decoded is kept, since a service
// asks most reads at its own last save's.
func (x *Index[R]) parse(token graph.Revision) (R, bool) {
	if p := x.parsed.Load(); p != nil && p.token == token {
		return p.rev, true
	}
	rev, err := x.revisions.Parse(token)
	if err != nil {
		return rev, false
	}
	x.parsed.Store(&parsedToken[R]{token, rev})
	return rev, true
}

type parsedToken[R any] struct {
	token graph.Revision
	rev   R
}

// WaitFor waits until the index is live and has applied rev, or ctx ends.
func (x *Index[R]) WaitFor(ctx context.Context, rev graph.Revision) error {
	want, err := x.revisions.Parse(rev)
	if err != nil {
		return err
	}
	for {
		x.mu.RLock()
		done, advanced := x.state == Live && x.at.Covers(want), x.advanced
		x.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Status is what the index is and holds.
type Status struct {
	State         State
	Revision      graph.Revision
	Relationships int
	// Bytes estimates the memory the index holds.
	Bytes int64
}

// Status reports the index's state and size.
func (x *Index[R]) Status() Status {
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := Status{State: x.state, Revision: x.rev}
	if x.st != nil {
		st.Relationships, st.Bytes = x.st.size()
	}
	return st
}

// setState changes the state and wakes the waiting readers.
func (x *Index[R]) setState(s State) {
	x.mu.Lock()
	changed := x.state != s
	x.state = s
	x.wake()
	x.mu.Unlock()
	if changed {
		x.obs.State(s)
	}
}

// wake wakes the readers waiting for a change; x.mu is held.
func (x *Index[R]) wake() {
	close(x.advanced)
	x.advanced = make(chan struct{})
}
