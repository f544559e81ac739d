package spicedb

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/fault"
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
