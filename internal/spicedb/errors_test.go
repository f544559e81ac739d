package spicedb

import (
	"context"
	"testing"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// What SpiceDB v1.56.0 answers while its PostgreSQL restarts (seen in the
// durability tests) is the dependency being unavailable: 503, try again. An
// internal error that is not about the datastore stays internal.
func TestMapError_ADatastoreOutageIsUnavailable(t *testing.T) {
	ctx := context.Background()
	for code, msg := range map[codes.Code]string{
		codes.Internal: "an internal error occurred while accessing the datastore",
		codes.Unknown:  "failed to connect to `user=postgres database=t1`: 127.0.0.1:5432 (127.0.0.1): dial error: dial tcp 127.0.0.1:5432: connect: connection refused",
	} {
		require.True(t, fault.Is(mapError(ctx, "write relationships", status.Error(code, msg)), fault.Unavailable), msg)
	}
	require.True(t, fault.Is(mapError(ctx, "check", status.Error(codes.Internal, "unexpected consistency middleware error: unable to find revision: FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")), fault.Unavailable))
	require.True(t, fault.Is(mapError(ctx, "check", status.Error(codes.Internal, "nil pointer")), fault.Internal))
}

// ioTimeout is what SpiceDB v1.56.0 answered a read on PostgreSQL under load
// (seen in .ci/run): a pooled connection still under the deadline a canceled
// query left on it.
const ioTimeout = "unexpected consistency middleware error: unable to find revision: timeout: read tcp 127.0.0.1:60888->127.0.0.1:36009: i/o timeout"

// failingFirst answers the first calls with an error, then with ok.
type failingFirst struct {
	failures int
	err      error
	calls    int
}

func (f *failingFirst) Invoke(_ context.Context, _ string, _, reply any, _ ...grpc.CallOption) error {
	f.calls++
	if f.calls <= f.failures {
		return f.err
	}
	reply.(*v1.CheckPermissionResponse).Permissionship = v1.CheckPermissionResponse_PERMISSIONSHIP_HAS_PERMISSION
	return nil
}

func (f *failingFirst) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "no streams here")
}

// A read that SpiceDB's datastore fails on the way is made again, a read
// changes nothing; what is not the datastore's failure is not, and neither is
// a write.
func TestGraph_AReadTheDatastoreFailedOnTheWayIsMadeAgain(t *testing.T) {
	check := []graph.Check{{Resource: graph.Object{Type: "customer", ID: "acme/zylker"}, Permission: "access", Subject: graph.Object{Type: "user", ID: "acme/alex"}}}
	for _, tc := range []struct {
		name     string
		failures int
		err      error
		calls    int
		answered bool
		kind     fault.Kind
	}{
		{"an i/o timeout, once", 1, status.Error(codes.Internal, ioTimeout), 2, true, 0},
		{"SpiceDB unavailable, twice", 2, status.Error(codes.Unavailable, "connection refused"), 3, true, 0},
		{"an outage that lasts", 5, status.Error(codes.Unavailable, "connection refused"), 3, false, fault.Unavailable},
		{"bad input", 1, status.Error(codes.InvalidArgument, "no such permission"), 1, false, fault.Invalid},
		{"an internal error", 1, status.Error(codes.Internal, "nil pointer"), 1, false, fault.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := &failingFirst{failures: tc.failures, err: tc.err}
			ok, _, err := NewGraph(conn).Check(t.Context(), check, graph.Full())
			require.Equal(t, tc.calls, conn.calls)
			if tc.answered {
				require.NoError(t, err)
				require.Equal(t, []bool{true}, ok)
				return
			}
			require.True(t, fault.Is(err, tc.kind), "%v", err)
		})
	}
	conn := &failingFirst{failures: 1, err: status.Error(codes.Internal, ioTimeout)}
	_, err := NewGraph(conn).Write(t.Context(), []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(check[0].Resource, "direct", check[0].Subject)}}, nil)
	require.True(t, fault.Is(err, fault.Unavailable))
	require.Equal(t, 1, conn.calls, "a write is never made again here")
}

// A write too large for SpiceDB or its datastore is bad input, which no retry
// mends: SpiceDB v1.56.0 answers ABORTED (as to a transient conflict) when a
// write would bind more than PostgreSQL's 65,535 parameters. A refusal for
// load stays unavailable.
func TestMapError_AWriteTooLargeIsInvalidNotUnavailable(t *testing.T) {
	ctx := context.Background()
	withReason := func(code codes.Code, msg, reason string) error {
		st, err := status.New(code, msg).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "authzed.com"})
		require.NoError(t, err)
		return st.Err()
	}
	for _, err := range []error{
		withReason(codes.Aborted, "the specified write operation exceeds the maximum size supported by this datastore; please reduce the number of updates in the call", "ERROR_REASON_TOO_MANY_UPDATES_IN_REQUEST"),
		withReason(codes.InvalidArgument, "update count of 70000 is greater than maximum allowed of 65535", "ERROR_REASON_TOO_MANY_UPDATES_IN_REQUEST"),
		withReason(codes.InvalidArgument, "precondition count of 70000 is greater than maximum allowed of 65535", "ERROR_REASON_TOO_MANY_PRECONDITIONS_IN_REQUEST"),
		status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5242880 vs. 4194304)"),
	} {
		mapped := mapError(ctx, "write relationships", err)
		require.True(t, fault.Is(mapped, fault.Invalid), "%v", mapped)
		require.Contains(t, mapped.Error(), "write relationships is too large for SpiceDB and its datastore")
	}
	for _, err := range []error{
		status.Error(codes.ResourceExhausted, "server rejected the request because memory usage is too high"),
		withReason(codes.Aborted, "unable to write relationships due to a serialization error", "ERROR_REASON_UNSPECIFIED"),
	} {
		require.True(t, fault.Is(mapError(ctx, "write relationships", err), fault.Unavailable), "%v", err)
	}
}
