package api

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

func TestUpdatedFields_NamesThePathItRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		paths   []string
		code    codes.Code
		message string
	}{
		{"proto name", []string{"display_name"}, codes.OK, ""},
		{"JSON name", []string{"displayName"}, codes.OK, ""},
		{"empty mask", nil, codes.InvalidArgument, "updateMask: empty; name the fields to change (displayName)"},
		{"an empty body's mask", []string{""}, codes.InvalidArgument, "updateMask: empty"},
		{"unknown path", []string{"nickname"}, codes.InvalidArgument, `updateMask: "nickname" is not a field of User`},
		{"nested path", []string{"customer_groups.origin"}, codes.InvalidArgument, `"customer_groups.origin" is not a field of User`},
		{"an id", []string{"userId"}, codes.InvalidArgument, "updateMask: userId cannot be changed by an update"},
		{"the origin", []string{"origin"}, codes.InvalidArgument, "updateMask: origin cannot be changed by an update"},
		{"a membership", []string{"customerGroups"}, codes.InvalidArgument, "updateMask: customerGroups cannot be changed by an update"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields, err := updatedFields(&fieldmaskpb.FieldMask{Paths: tc.paths}, &pb.User{}, "display_name")
			if tc.code == codes.OK {
				require.NoError(t, err)
				require.Equal(t, map[string]bool{"display_name": true}, fields)
				return
			}
			st := status.Convert(toStatus(t.Context(), err))
			require.Equal(t, tc.code, st.Code())
			require.Contains(t, st.Message(), tc.message)
		})
	}
}
