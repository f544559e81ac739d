package client

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// backoff makes a call again, after a jittered pause that doubles from first
// up to longest, while it fails in a way that is safe to retry and the
// caller's context allows another attempt: within its deadline, or within
// budget of the first attempt when it has none.
type backoff struct {
	first, longest, budget time.Duration
}

var defaultBackoff = backoff{first: 50 * time.Millisecond, longest: 2 * time.Second, budget: 10 * time.Second}

// interceptor retries a call:
//   - a lost race (ABORTED with RetryInfo: nothing was written), always;
//   - UNAVAILABLE, only for a call that writes nothing (a question, or a
//     form with validateOnly): a save's outcome is then unknown, and made
//     again it would report none of the changes the first one made;
//   - never a refusal (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, ...).
//
// It stops when the next pause would end past the context's deadline (or
// the budget), and returns the last error.
func (b backoff) interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	pause := b.first
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(b.budget)
	}
	for {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil || !b.retries(err, writes(method, req)) {
			return err
		}
		wait := pause/2 + rand.N(pause/2+1) // jitter: half to all of it
		if time.Until(deadline) < wait {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		pause = min(2*pause, b.longest)
	}
}

func (b backoff) retries(err error, writes bool) bool {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Aborted:
		return retryable(st)
	case codes.Unavailable:
		return !writes
	}
	return false
}

// writes reports whether a call may write: any but a question (Check,
// Explain) or a read (Get, BatchGet, List), and a form only without validateOnly.
func writes(method string, req any) bool {
	name := method[strings.LastIndex(method, "/")+1:]
	for _, read := range []string{"Check", "Explain", "Get", "BatchGet", "List"} {
		if strings.HasPrefix(name, read) {
			return false
		}
	}
	form, ok := req.(interface{ GetValidateOnly() bool })
	return !ok || !form.GetValidateOnly()
}
