package tenancy

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
)

// DefaultSaveAttempts is how many times a save is recomputed after losing a race.
const DefaultSaveAttempts = 8

// Service runs the domain's operations against the graph.
type Service struct {
	graph        graph.Graph
	now          func() time.Time
	saveAttempts int
	// readParallelism bounds the SpiceDB reads one operation runs at once.
	readParallelism int
	// grantDay is how long a day of a time-bound grant lasts.
	grantDay time.Duration
	// maxUpdatesPerWrite and maxDeletesPerWrite bound one write (see snapshot.write).
	maxUpdatesPerWrite, maxDeletesPerWrite int
	// index, when set, answers the customer-access check and both listings.
	index Index
	// written records the revision of the service's last write.
	written *written
	// sealer seals identity providers' client secrets; httpIssuers lets
	// their issuers be plain http (see AllowHTTPIssuers).
	sealer      Sealer
	httpIssuers bool
}

// written is the graph the service writes through: it remembers the
// revision of the last write acknowledged, so that a read without a token
// that the index answers sees every write this service made (read your
// writes).
type written struct {
	graph.Graph
	last atomic.Pointer[graph.Revision]
}

func (w *written) record(rev graph.Revision, err error) (graph.Revision, error) {
	if err == nil {
		w.last.Store(&rev)
	}
	return rev, err
}

// Write implements graph.Graph.
func (w *written) Write(ctx context.Context, updates []graph.Update, preconditions []graph.Precondition) (graph.Revision, error) {
	return w.record(w.Graph.Write(ctx, updates, preconditions))
}

// Import implements graph.Graph. A bulk import answers no revision: the
// revision of a write that changes nothing, made after it, stands for it.
// Should that write fail, the import has landed all the same and reports so;
// reads without a token then see it once the index has caught up.
func (w *written) Import(ctx context.Context, rels []graph.Relationship) error {
	if err := w.Graph.Import(ctx, rels); err != nil {
		return err
	}
	if rev, err := w.Graph.FreshRevision(ctx); err == nil {
		w.last.Store(&rev)
	}
	return nil
}

// DeleteMatching implements graph.Graph.
func (w *written) DeleteMatching(ctx context.Context, filter graph.Filter, preconditions []graph.Precondition) (graph.Revision, error) {
	return w.record(w.Graph.DeleteMatching(ctx, filter, preconditions))
}

// latest is the revision of the last write, or "".
func (w *written) latest() graph.Revision {
	if rev := w.last.Load(); rev != nil {
		return *rev
	}
	return ""
}

// Index answers questions of customer access from memory at a revision it
// knows (internal/reach): Read runs f at a revision at least as fresh as
// atLeastAsFresh (its own when empty) and returns it, or reports false when
// it cannot, and SpiceDB answers.
type Index interface {
	Read(ctx context.Context, atLeastAsFresh graph.Revision, f func(reach.View)) (graph.Revision, bool)
}

// SetIndex makes the customer-access check, "customers of a user" and
// "users of a customer" answer from x whenever it can answer as fresh as
// asked. The forms' reports keep asking SpiceDB at their write's revision.
func (s *Service) SetIndex(x Index) { s.index = x }

// readIndex runs f on the index, if there is one and it can answer at
// least as fresh as asked. Without a token it answers at least as fresh as
// the service's last write.
func (s *Service) readIndex(ctx context.Context, atLeastAsFresh string, f func(reach.View)) (graph.Revision, bool) {
	if s.index == nil {
		return "", false
	}
	floor := graph.Revision(atLeastAsFresh)
	if floor == "" {
		floor = s.written.latest()
	}
	return s.index.Read(ctx, floor, f)
}

// SetMaxUpdatesPerWrite sets how many relationship updates, and of them
// deletions, one save writes in one call (DefaultMaxUpdatesPerWrite and
// DefaultMaxDeletesPerWrite unless set; at least 3 and 2).
func (s *Service) SetMaxUpdatesPerWrite(updates, deletes int) {
	s.maxUpdatesPerWrite, s.maxDeletesPerWrite = max(updates, 3), max(deletes, 2)
}

// DefaultMaxUpdatesPerWrite is how many relationship updates one save writes
// in one call: well within SpiceDB's limit on updates per call as mspauthz
// configures it, and, at the longest ids and display names, within gRPC's
// 4 MB message.
const DefaultMaxUpdatesPerWrite = 5000

// DefaultMaxDeletesPerWrite is how many of them may be deletions. SpiceDB
// v1.56.0 deletes a write's relationships on PostgreSQL with one query of an
// OR per relationship; past about 3,000 the planner scans the whole table
// (measured here at 400,000 relationships: 5,000 deletions in 18 s, 3,000 in
// 0.7 s, 2,000 in 0.3 s).
const DefaultMaxDeletesPerWrite = 2000

// New returns a Service over g.
func New(g graph.Graph) *Service {
	w := &written{Graph: g}
	return &Service{graph: w, written: w, now: time.Now, saveAttempts: DefaultSaveAttempts, readParallelism: 8, grantDay: 24 * time.Hour, maxUpdatesPerWrite: DefaultMaxUpdatesPerWrite, maxDeletesPerWrite: DefaultMaxDeletesPerWrite}
}

// retry runs op until it succeeds or fails with anything but a conflict, at
// most s.saveAttempts times, with a random pause between attempts that grows
// with the attempts and with how long one takes.
// A refusal that depends on the graph (not found, blocked, already exists,
// not permitted) is confirmed once more on a snapshot that sees every write
// acknowledged before it: the first snapshot's fully consistent read may have
// missed the write that makes the save valid (see graph.Full). From then on
// every attempt reads at such a revision, renewed after each lost race (a
// snapshot at the old one would lose the same race again).
func (s *Service) retry(ctx context.Context, msp string, op func(context.Context) error) error {
	base, fresh := ctx, false
	for attempt := 1; ; attempt++ {
		if fresh {
			var err error
			if ctx, err = s.withFreshFloor(base); err != nil {
				return err
			}
		}
		began := time.Now()
		err := op(ctx)
		if !fresh && fault.IsAny(err, fault.NotFound, fault.Blocked, fault.AlreadyExists, fault.PermissionDenied) {
			fresh = true
			attempt-- // the confirmation is not a lost race
			continue
		}
		if !fault.Is(err, fault.Conflict) {
			return err
		}
		if attempt >= s.saveAttempts {
			return fault.Wrap(err, fault.Conflict, "MSP %q is being changed by other saves; nothing was written, try again", msp)
		}
		// Racing saves take about as long as this one did: spread the next
		// attempts over a window that many times as long, widening with each.
		pause := time.Millisecond + rand.N(time.Duration(attempt)*time.Since(began))
		select {
		case <-ctx.Done():
			return fault.Wrap(ctx.Err(), fault.Unavailable, "save canceled")
		case <-time.After(pause):
		}
	}
}

// newEpochID returns a fresh random id for a save epoch.
func newEpochID() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:])
	return hex.EncodeToString(b[:])
}
