package api

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

var codeOf = map[fault.Kind]codes.Code{
	fault.Internal:         codes.Internal,
	fault.Invalid:          codes.InvalidArgument,
	fault.NotFound:         codes.NotFound,
	fault.AlreadyExists:    codes.AlreadyExists,
	fault.Blocked:          codes.FailedPrecondition,
	fault.Conflict:         codes.Aborted,
	fault.Unauthenticated:  codes.Unauthenticated,
	fault.PermissionDenied: codes.PermissionDenied,
	fault.Unavailable:      codes.Unavailable,
}

// toStatus is the one place where an error becomes a gRPC status: its kind
// picks the code, a guard's blocks become details, and an internal error is
// logged in full and answered with a generic message.
func toStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	// A fault decides, even when it wraps a gRPC status (SpiceDB's): a lost
	// race is ABORTED, not the FAILED_PRECONDITION SpiceDB said.
	var f *fault.Error
	if !errors.As(err, &f) {
		if _, ok := status.FromError(err); ok {
			return err
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return status.Error(codes.Canceled, "request canceled")
		}
		f = fault.Wrap(err, fault.Internal, "internal error")
	}
	code := codeOf[f.Kind]
	switch f.Kind {
	case fault.Internal:
		slog.ErrorContext(ctx, "internal error", "error", err.Error())
		return status.Error(code, "internal error; the server log has the details")
	case fault.Unavailable:
		slog.WarnContext(ctx, "dependency unavailable", "error", err.Error())
	}
	st := status.New(code, f.Message)
	if withDetails, err := st.WithDetails(detailsOf(f)...); err == nil {
		st = withDetails
	}
	return st.Err()
}

// detailsOf are the status details that let a caller act on f without
// reading its message: a guard's blocks, and for a lost race (which wrote
// nothing) google.rpc.RetryInfo, the mark that the call may be made again.
func detailsOf(f *fault.Error) []protoadapt.MessageV1 {
	var details []protoadapt.MessageV1
	if f.Kind == fault.Conflict {
		details = append(details, protoadapt.MessageV1Of(&errdetails.RetryInfo{RetryDelay: durationpb.New(0)}))
	}
	if blocks, ok := f.Details.([]tenancy.Block); ok {
		for _, b := range blocks {
			details = append(details, protoadapt.MessageV1Of(&pb.GuardBlock{UserId: b.UserID, CustomerId: b.CustomerID, Reason: string(b.Reason), AlertGroupId: b.AlertGroupID}))
		}
	}
	return details
}
