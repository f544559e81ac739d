package client

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// The calls return mspauthz's gRPC status errors as they are; these say what
// an application can do about one.

// Block is one reason a save was refused: ACCOUNT_CONTACT,
// LAST_ALERT_GROUP_CONTACT (with AlertGroupId), ACCOUNT_OWNER or NOT_ASSOCIATED.
type Block = pb.GuardBlock

// IsNotFound reports an object that does not exist, or that the caller may
// not know exists (of another MSP, or a customer he may not see).
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// IsPermissionDenied reports a caller who may not make the call.
func IsPermissionDenied(err error) bool { return status.Code(err) == codes.PermissionDenied }

// IsInvalid reports bad input; the message names the field.
func IsInvalid(err error) bool { return status.Code(err) == codes.InvalidArgument }

// IsUnavailable reports mspauthz or its SpiceDB out of reach (after the
// client's retries, for a call it may retry).
func IsUnavailable(err error) bool { return status.Code(err) == codes.Unavailable }

// IsConflict reports a save that lost a race with other saves and wrote
// nothing (after the client's retries): it may be made again.
func IsConflict(err error) bool { return status.Code(err) == codes.Aborted }

// GuardBlocks are the blocks of a save refused by a guard (FAILED_PRECONDITION),
// or none.
func GuardBlocks(err error) []*Block {
	var blocks []*Block
	for _, d := range status.Convert(err).Details() {
		if b, ok := d.(*pb.GuardBlock); ok {
			blocks = append(blocks, b)
		}
	}
	return blocks
}

// retryable reports a status the server marks as safe to make again: it
// wrote nothing (google.rpc.RetryInfo, which mspauthz sends with a lost race).
func retryable(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			return true
		}
	}
	return false
}
