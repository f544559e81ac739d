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
}

// New returns a Service over g.
func New(g graph.Graph) *Service {
	return &Service{graph: g, now: time.Now, saveAttempts: DefaultSaveAttempts, readParallelism: 8, grantDay: 24 * time.Hour}
}

// retry runs op until it succeeds or fails with anything but a conflict, at
// most s.saveAttempts times, with a short jittered pause between attempts.
func (s *Service) retry(ctx context.Context, msp string, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if !fault.Is(err, fault.Conflict) {
			return err
		}
		if attempt >= s.saveAttempts {
			return fault.Wrap(err, fault.Conflict, "MSP %q is being changed by other saves; nothing was written, try again", msp)
		}
		pause := time.Duration(attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond
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
