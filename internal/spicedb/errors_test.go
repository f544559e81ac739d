package spicedb

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
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
