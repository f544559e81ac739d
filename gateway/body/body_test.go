package body_test

import (
	"io"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/gateway/body"
)

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  proto.Message
		body string
		want proto.Message
		err  string
	}{
		{"one value", &pb.EditCustomerGroupRequest{}, `{"customers":["zylker","globex"]}`, &pb.EditCustomerGroupRequest{Customers: []string{"zylker", "globex"}}, ""},
		{"whitespace around it", &pb.EditCustomerGroupRequest{}, " \n{\"customers\":[\"zylker\"]}\r\n\t", &pb.EditCustomerGroupRequest{Customers: []string{"zylker"}}, ""},
		{"proto names too", &pb.EditCustomerGroupRequest{}, `{"validate_only":true}`, &pb.EditCustomerGroupRequest{ValidateOnly: true}, ""},
		{"garbage after the value", &pb.EditCustomerGroupRequest{}, `{"customerId":"x"}garbage`, nil, "request body: unexpected data after the JSON value, at byte 18"},
		{"a second value", &pb.EditCustomerGroupRequest{}, `{"customers":["zylker"]} {}`, nil, "request body: unexpected data after the JSON value, at byte 24"},
		{"a list where a list of strings goes, as a string", &pb.EditCustomerGroupRequest{}, `{"customers":"acme"}`, nil, `request body: customers: expected a list of strings, got "acme"`},
		{"a number in a list of strings", &pb.EditCustomerGroupRequest{}, `{"customers":["zylker",1]}`, nil, `request body: customers[1]: expected a string, got 1`},
		{"a string for a boolean", &pb.EditCustomerGroupRequest{}, `{"validateOnly":"yes"}`, nil, `request body: validateOnly: expected true or false, got "yes"`},
		{"an object for a string", &pb.CreateUserRequest{}, `{"userId":{"a":1}}`, nil, `request body: userId: expected a string, got an object`},
		{"nested, by the path the body wrote", &pb.CheckBulkRequest{}, `{"items":[{"resource":"customer:zylker"},{"resource":5}]}`, nil, `request body: items[1].resource: expected a string, got 5`},
		{"a nested message as a string", &pb.CreateUserRequest{}, `{"single_customer":"zylker"}`, nil, `request body: single_customer: expected an object, got "zylker"`},
		{"a list where an object goes", &pb.EditCustomerGroupRequest{}, `[]`, nil, `request body: expected an object, got a list`},
		{"null for the request", &pb.EditCustomerGroupRequest{}, `null`, nil, `request body: proto:`},
		{"an unknown field", &pb.EditCustomerGroupRequest{}, `{"customer":["zylker"]}`, nil, `request body: unknown field "customer"`},
		{"an unknown nested field", &pb.CheckBulkRequest{}, `{"items":[{"resources":"customer:zylker"}]}`, nil, `request body: items[0]: unknown field "resources"`},
		{"a number out of range: protojson's words", &pb.ListUsersRequest{}, `{"pageSize":99999999999}`, nil, `invalid value for int32 field pageSize: 99999999999`},
		{"a field given twice: protojson's words", &pb.EditCustomerGroupRequest{}, `{"customers":[],"customers":[]}`, nil, `duplicate field "customers"`},
		{"bad JSON", &pb.EditCustomerGroupRequest{}, `{"customers": ["zylker"`, nil, "request body: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := body.Unmarshal([]byte(tc.body), tc.msg, protojson.UnmarshalOptions{})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.True(t, proto.Equal(tc.want, tc.msg), "%v", tc.msg)
		})
	}
}

// A body of whitespace only is an empty request, as grpc-gateway takes it.
func TestUnmarshal_AnEmptyBodyIsEOF(t *testing.T) {
	for _, b := range []string{"", " \n\t"} {
		require.ErrorIs(t, body.Unmarshal([]byte(b), &pb.CreateTokenRequest{}, protojson.UnmarshalOptions{}), io.EOF)
	}
}

// With DiscardUnknown an unknown field is passed over, also in a diagnosis.
func TestUnmarshal_DiscardUnknown(t *testing.T) {
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	var m pb.EditCustomerGroupRequest
	require.NoError(t, body.Unmarshal([]byte(`{"x":{"y":[1]},"customers":["zylker"]}`), &m, opts))
	require.ErrorContains(t, body.Unmarshal([]byte(`{"x":{"y":[1]},"customers":"zylker"}`), &m, opts), `customers: expected a list of strings, got "zylker"`)
}

// An update's body is its resource, one field of the request, which the
// gateway hands over as a pointer to the field.
func TestJSON_DecodesAnUpdatesResourceIntoItsField(t *testing.T) {
	dec := body.JSON{JSONPb: &runtime.JSONPb{}}
	var req pb.UpdateUserRequest
	require.NoError(t, dec.NewDecoder(strings.NewReader(`{"displayName":"Alex B."}`)).Decode(&req.User))
	require.Equal(t, "Alex B.", req.GetUser().GetDisplayName())
	require.ErrorContains(t, dec.NewDecoder(strings.NewReader(`{"displayName":1}`)).Decode(&req.User), "displayName")
	require.ErrorContains(t, dec.NewDecoder(strings.NewReader(`{}`)).Decode(new(int)), "cannot decode into *int")
}
