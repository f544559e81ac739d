package api

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// idLists are the repeated fields of the contract whose every element is an
// id: a form's selection, a group's members, a synced user's roles.
var idLists = map[protoreflect.Name]bool{
	"customers":       true,
	"users":           true,
	"customer_groups": true,
	"contacts":        true,
	"spokespersons":   true,
	"members":         true,
	"security_groups": true,
	"roles":           true,
}

// foreignIDs are the *_id fields that hold another system's ids (an
// identity provider's), which the domain checks: they are no ids of ours.
var foreignIDs = map[protoreflect.Name]bool{
	"external_id": true,
	"client_id":   true,
}

// isID reports whether a string field of the contract holds ids: a field
// named *_id (but foreignIDs), a connected system's name, or one of
// idLists. Tokens, page tokens, ZedTokens, permission names and
// "<type>:<id>" references are not ids; the handlers parse those.
func isID(fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() != protoreflect.StringKind || fd.IsMap() {
		return false
	}
	if fd.IsList() {
		return idLists[fd.Name()]
	}
	return strings.HasSuffix(string(fd.Name()), "_id") && !foreignIDs[fd.Name()] || fd.Name() == "system"
}

// checkIDs refuses a request one of whose ids breaks the id pattern, naming
// the field by its JSON path ("snapshot.users[2].userId"), before anything
// of it reaches the domain. An empty id is the domain's to judge: for some
// fields it means "none".
func checkIDs(req any) error {
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	return checkMessageIDs(m.ProtoReflect(), "")
}

func checkMessageIDs(m protoreflect.Message, path string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		field := fd.JSONName()
		if path != "" {
			field = path + "." + field
		}
		switch {
		case isID(fd) && fd.IsList():
			list := v.List()
			for i := range list.Len() {
				if id := list.Get(i).String(); !tenancy.ValidID(id) {
					err = tenancy.InvalidID(field+"["+strconv.Itoa(i)+"]", id)
					return false
				}
			}
		case isID(fd):
			if id := v.String(); id != "" && !tenancy.ValidID(id) {
				err = tenancy.InvalidID(field, id)
			}
		case fd.Message() != nil && fd.IsList():
			list := v.List()
			for i := range list.Len() {
				if err = checkMessageIDs(list.Get(i).Message(), field+"["+strconv.Itoa(i)+"]"); err != nil {
					return false
				}
			}
		case fd.Message() != nil && !fd.IsMap():
			err = checkMessageIDs(v.Message(), field)
		}
		return err == nil
	})
	return err
}
