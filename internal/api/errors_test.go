package api

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// A fault decides the code even when it wraps SpiceDB's status: a save that
// lost a race is ABORTED (409), and a key SpiceDB refused is mspauthz's
// dependency being UNAVAILABLE, not the caller's PERMISSION_DENIED.
func TestToStatus_TheFaultDecidesOverTheStatusItWraps(t *testing.T) {
	ctx := context.Background()
	lost := fault.Wrap(status.Error(codes.FailedPrecondition, "unable to satisfy write precondition"), fault.Conflict, "MSP %q is being changed by other saves", "acme")
	st := status.Convert(toStatus(ctx, lost))
	require.Equal(t, codes.Aborted, st.Code())
	require.Equal(t, `MSP "acme" is being changed by other saves`, st.Message())
	require.Len(t, st.Details(), 1, "a lost race wrote nothing: it carries RetryInfo, the mark that it may be retried")
	require.IsType(t, &errdetails.RetryInfo{}, st.Details()[0])

	refused := fault.Wrap(status.Error(codes.PermissionDenied, "invalid preshared key"), fault.Unavailable, "SpiceDB rejected mspauthz's credentials")
	require.Equal(t, codes.Unavailable, status.Code(toStatus(ctx, refused)))

	plain := status.Error(codes.Unauthenticated, "no token")
	require.Equal(t, plain, toStatus(ctx, plain))
}
