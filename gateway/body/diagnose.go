package body

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// diagnose walks value, one well-formed JSON value that protojson refused
// for md, and describes the first place where its shape does not fit the
// message: a value of the wrong JSON type, or an unknown field (unless
// discardUnknown). It returns "" when the shapes fit: protojson's own error
// (a number out of range, a repeated field...) then stands.
//
// Values of the well-known types (google.protobuf.*) are protojson's to judge.
func diagnose(value []byte, md protoreflect.MessageDescriptor, discardUnknown bool) string {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	w := walker{dec: dec, discardUnknown: discardUnknown}
	return w.message(md, "")
}

type walker struct {
	dec            *json.Decoder
	discardUnknown bool
}

// token is the next token; the value is well-formed, so a failure only ends
// the walk (stop) without a finding.
func (w *walker) token() (json.Token, bool) {
	t, err := w.dec.Token()
	return t, err == nil
}

// message walks an object of md at path.
func (w *walker) message(md protoreflect.MessageDescriptor, path string) string {
	t, ok := w.token()
	if !ok || t == nil {
		return ""
	}
	if t != json.Delim('{') {
		return mismatch(path, "an object", t)
	}
	for w.dec.More() {
		k, ok := w.token()
		if !ok {
			return ""
		}
		key := k.(string)
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByTextName(key)
		}
		switch {
		case fd == nil && strings.HasPrefix(key, "["):
			return "" // an extension: protojson's to judge
		case fd == nil && w.discardUnknown:
			if !w.skip() {
				return ""
			}
			continue
		case fd == nil && path == "":
			return fmt.Sprintf("unknown field %q", key)
		case fd == nil:
			return fmt.Sprintf("%s: unknown field %q", path, key)
		}
		if found := w.field(fd, join(path, key)); found != "" {
			return found
		}
	}
	_, _ = w.token() // '}'
	return ""
}

// field walks the value of fd at path: a list, a map or a single value.
func (w *walker) field(fd protoreflect.FieldDescriptor, path string) string {
	switch {
	case fd.IsList():
		_, several := kindOf(fd)
		return w.container(path, '[', "a list of "+several, func(i int) string {
			return w.value(fd, path+"["+strconv.Itoa(i)+"]")
		})
	case fd.IsMap():
		_, several := kindOf(fd.MapValue())
		return w.container(path, '{', "an object of "+several, func(int) string {
			k, ok := w.token()
			if !ok {
				return ""
			}
			return w.value(fd.MapValue(), fmt.Sprintf("%s[%q]", path, k))
		})
	}
	return w.value(fd, path)
}

// container walks a list or map (opened by open) whose elements each walks.
func (w *walker) container(path string, open json.Delim, want string, each func(i int) string) string {
	t, ok := w.token()
	if !ok || t == nil {
		return ""
	}
	if t != open {
		return mismatch(path, want, t)
	}
	for i := 0; w.dec.More(); i++ {
		if found := each(i); found != "" {
			return found
		}
	}
	_, _ = w.token() // ']' or '}'
	return ""
}

// value walks one value of fd's kind at path.
func (w *walker) value(fd protoreflect.FieldDescriptor, path string) string {
	if m := fd.Message(); m != nil {
		if m.FullName().Parent() == "google.protobuf" {
			w.skip()
			return ""
		}
		return w.message(m, path)
	}
	t, ok := w.token()
	if !ok || t == nil {
		return ""
	}
	fits := false
	switch t.(type) {
	case string:
		fits = fd.Kind() != protoreflect.BoolKind // protojson takes numbers as strings too
	case json.Number:
		fits = fd.Kind() != protoreflect.BoolKind && fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.BytesKind
	case bool:
		fits = fd.Kind() == protoreflect.BoolKind
	}
	if !fits {
		one, _ := kindOf(fd)
		return mismatch(path, one, t)
	}
	return ""
}

// skip passes over one value.
func (w *walker) skip() bool {
	t, ok := w.token()
	if d, isDelim := t.(json.Delim); ok && isDelim {
		return w.skipFrom(d)
	}
	return ok
}

// skipFrom passes over the rest of the list or object that d opened.
func (w *walker) skipFrom(d json.Delim) bool {
	if d != '{' && d != '[' {
		return true
	}
	for depth := 1; depth > 0; {
		t, ok := w.token()
		if !ok {
			return false
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mismatch says that the value at path is t where want was expected.
func mismatch(path, want string, t json.Token) string {
	msg := "expected " + want + ", got " + describe(t)
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

// describe names a token as the body wrote it (a long string is cut).
func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			return "a list"
		}
		return "an object"
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return fmt.Sprint(t)
}

// kindOf is what a value of fd's kind is in JSON, and what several are.
func kindOf(fd protoreflect.FieldDescriptor) (one, several string) {
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "a string", "strings"
	case protoreflect.BoolKind:
		return "true or false", "true or false values"
	case protoreflect.EnumKind:
		return "an enum name", "enum names"
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return "an object", "objects"
	}
	return "a number", "numbers"
}
