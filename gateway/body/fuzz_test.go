package body_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/gateway/body"
)

// requests are the request messages of every call of the contract.
func requests(f *testing.F) []protoreflect.MessageType {
	var out []protoreflect.MessageType
	protoregistry.GlobalFiles.RangeFilesByPackage(pb.File_mspauthz_v1_tenancy_proto.Package(), func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			methods := fd.Services().Get(i).Methods()
			for k := range methods.Len() {
				mt, err := protoregistry.GlobalTypes.FindMessageByName(methods.Get(k).Input().FullName())
				if err != nil {
					f.Fatal(err)
				}
				out = append(out, mt)
			}
		}
		return true
	})
	if len(out) == 0 {
		f.Fatal("no request messages")
	}
	return out
}

// FuzzRESTDecoding decodes arbitrary bodies into every request message of
// the contract. Unmarshal must never panic; it must accept exactly what
// protojson accepts of a body that is one JSON value, and decode it to the
// same message; anything else (trailing data, two values, bad JSON) is an
// error that says the request body is at fault.
func FuzzRESTDecoding(f *testing.F) {
	types := requests(f)
	for i, b := range []string{
		`{"customerGroups":["zoho"],"users":["carol"],"validateOnly":true}`,
		`{"customers":["zylker","globex"]}`,
		`{"customerGroups":["zoho","site24x7"]}`,
		`{"resource":"customer:zylker","permission":"access","subject":"user:alex","atLeastAsFresh":""}`,
		`{"items":[{"resource":"customer:zylker","permission":"access","subject":"user:alex"}]}`,
		`{"userId":"zed","displayName":"Zed","singleCustomer":{"customerId":"zylker","permissions":["tickets.view"]}}`,
		`{"mspId":"m","displayName":"M","ownerUserId":"o"}`,
		`{"snapshot":{"mspId":"acme","users":[{"userId":"u","roles":["technician"]}]},"validateOnly":true}`,
		`{"contacts":["alex","carol"]}`,
		`{"customers":[1,{"a":null}],"validateOnly":"yes"}`,
		`{"customerGroups":["` + "\u00e9" + `"], "allowEmpty": true}`,
		`{"customerId":"x"}garbage`, `{} {}`, `{"pageSize":"12"}`, `{"since":"2026-01-01T00:00:00Z"}`,
		`[]`, `null`, ``, ` `, `{`, `{"a":1}`, "\x00\xff",
	} {
		f.Add(uint8(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		mt := types[int(which)%len(types)]
		strict := mt.New().Interface()
		err := body.Unmarshal(data, strict, protojson.UnmarshalOptions{})

		blank := len(bytes.Trim(data, " \t\r\n")) == 0
		lenient := mt.New().Interface()
		accepted := !blank && json.Valid(data) && protojson.Unmarshal(data, lenient) == nil
		switch {
		case blank:
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s %q: blank body answered %v, not io.EOF", mt.Descriptor().FullName(), data, err)
			}
		case accepted && err != nil:
			t.Fatalf("%s %q: protojson accepts this one value, Unmarshal refused: %v", mt.Descriptor().FullName(), data, err)
		case accepted && !proto.Equal(strict, lenient):
			t.Fatalf("%s %q: decoded %v, protojson %v", mt.Descriptor().FullName(), data, strict, lenient)
		case !accepted && err == nil:
			t.Fatalf("%s %q: accepted a body that is not one value protojson accepts", mt.Descriptor().FullName(), data)
		case !accepted && (!strings.HasPrefix(err.Error(), "request body: ") || err.Error() == "request body: "):
			t.Fatalf("%s %q: error without the body's blame or a reason: %v", mt.Descriptor().FullName(), data, err)
		}
	})
}
