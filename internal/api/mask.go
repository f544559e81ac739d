package api

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// updatedFields checks the mask of an update (AIP-134) against its
// resource: every path must name a field of the resource that mutable (proto
// names) lists, by its proto or JSON name. An empty mask, a path that is no
// field of the resource and a field that cannot change are INVALID_ARGUMENT
// naming the path. It returns the fields to change, by proto name.
func updatedFields(mask *fieldmaskpb.FieldMask, resource proto.Message, mutable ...string) (map[string]bool, error) {
	fields := resource.ProtoReflect().Descriptor().Fields()
	changeable := make([]string, len(mutable))
	for i, name := range mutable {
		changeable[i] = fields.ByName(protoreflect.Name(name)).JSONName()
	}
	can := strings.Join(changeable, ", ")
	// An empty body infers the mask [""].
	paths := slices.DeleteFunc(slices.Clone(mask.GetPaths()), func(p string) bool { return p == "" })
	if len(paths) == 0 {
		return nil, fault.New(fault.Invalid, "updateMask: empty; name the fields to change (%s)", can)
	}
	out := map[string]bool{}
	for _, path := range paths {
		f := fields.ByName(protoreflect.Name(path))
		if f == nil {
			f = fields.ByJSONName(path)
		}
		switch {
		case f == nil:
			return nil, fault.New(fault.Invalid, "updateMask: %q is not a field of %s (fields that can change: %s)", path, resource.ProtoReflect().Descriptor().Name(), can)
		case !slices.Contains(mutable, string(f.Name())):
			return nil, fault.New(fault.Invalid, "updateMask: %s cannot be changed by an update (fields that can change: %s)", f.JSONName(), can)
		}
		out[string(f.Name())] = true
	}
	return out, nil
}
