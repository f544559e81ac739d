package reach

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// verifyQueue bounds the verifications waiting for SpiceDB; more are dropped.
const verifyQueue = 256

// verifyTimeout bounds one verification.
const verifyTimeout = 30 * time.Second

// verifier asks SpiceDB again, at the same revision, a sample of the
// index's answers (shadow mode), in the background, and counts mismatches.
type verifier struct {
	g      graph.Graph
	sample float64
	obs    Observer
	jobs   chan func(context.Context)
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

func newVerifier(g graph.Graph, sample float64, obs Observer) *verifier {
	v := &verifier{g: g, sample: sample, obs: obs, done: make(chan struct{})}
	if sample <= 0 {
		close(v.done)
		return v
	}
	v.jobs = make(chan func(context.Context), verifyQueue)
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	go func() {
		defer close(v.done)
		for {
			select {
			case <-ctx.Done():
				return
			case job := <-v.jobs:
				jctx, cancel := context.WithTimeout(ctx, verifyTimeout)
				job(jctx)
				cancel()
			}
		}
	}()
	return v
}

func (v *verifier) stop() {
	v.once.Do(func() {
		if v.cancel != nil {
			v.cancel()
		}
	})
	<-v.done
}

// sampled reports whether this answer is to be verified.
func (v *verifier) sampled() bool {
	return v != nil && v.sample > 0 && rand.Float64() < v.sample
}

func (v *verifier) enqueue(job func(context.Context)) {
	select {
	case v.jobs <- job:
	default:
		v.obs.Event(EventVerifyDropped)
	}
}

func (v *verifier) outcome(err error, agree bool, what string, rev graph.Revision) {
	switch {
	case err != nil:
		v.obs.Event(EventVerifyFailed)
	case agree:
		v.obs.Event(EventVerified)
	default:
		v.obs.Event(EventMismatch)
		slog.Error("reachability index disagrees with SpiceDB", "answer", what, "revision", rev)
	}
}

// checks verifies answers to checks at rev.
func (v *verifier) checks(rev graph.Revision, checks []graph.Check, answers []bool) {
	if !v.sampled() {
		return
	}
	checks, answers = slices.Clone(checks), slices.Clone(answers)
	v.enqueue(func(ctx context.Context) {
		got, _, err := v.g.Check(ctx, checks, graph.At(rev))
		what := ""
		if err == nil && !slices.Equal(got, answers) {
			for i := range checks {
				if got[i] != answers[i] {
					what = checks[i].Resource.String() + "#" + checks[i].Permission + "@" + checks[i].Subject.String()
					break
				}
			}
		}
		v.outcome(err, what == "", what, rev)
	})
}

// list verifies the customers a user has access to, or the users who have
// access to a customer, at rev.
func (v *verifier) list(rev graph.Revision, of graph.Object, reached []Reached) {
	if !v.sampled() {
		return
	}
	ids := make([]string, len(reached))
	for i, r := range reached {
		ids[i] = r.ID
	}
	v.enqueue(func(ctx context.Context) {
		var got []string
		var err error
		if of.Type == typeUser {
			got, _, err = v.g.LookupResources(ctx, typeCustomer, PermissionAccess, of, graph.At(rev))
		} else {
			got, _, err = v.g.LookupSubjects(ctx, of, PermissionAccess, typeUser, graph.At(rev))
		}
		slices.Sort(got)
		v.outcome(err, slices.Equal(got, ids), "listing of "+of.String(), rev)
	})
}
