package tenancy

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
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
	return &Service{graph: g, now: time.Now, saveAttempts: DefaultSaveAttempts, readParallelism: 8, grantDay: 24 * time.Hour, maxUpdatesPerWrite: DefaultMaxUpdatesPerWrite, maxDeletesPerWrite: DefaultMaxDeletesPerWrite}
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
