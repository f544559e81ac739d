package body

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Unmarshal decodes data, a whole request body, into m. The body must be one
// JSON value with nothing but whitespace around it; it is then decoded as
// protojson decodes it with opts. A body of only whitespace is io.EOF (the
// gateway takes it for an empty message). Every other error starts with
// "request body: " and, when a value has the wrong JSON type or a field is
// unknown, names the field by its path as the body wrote it
// ("items[0].resource").
func Unmarshal(data []byte, m proto.Message, opts protojson.UnmarshalOptions) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var value json.RawMessage
	if err := dec.Decode(&value); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("request body: %w", err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("request body: unexpected data after the JSON value, at byte %d", end)
	}
	if err := opts.Unmarshal(value, m); err != nil {
		if diagnosis := diagnose(value, m.ProtoReflect().Descriptor(), opts.DiscardUnknown); diagnosis != "" {
			return fmt.Errorf("request body: %s", diagnosis)
		}
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// JSON is grpc-gateway's JSON marshaler whose request bodies are decoded by
// Unmarshal, with its UnmarshalOptions.
type JSON struct{ *runtime.JSONPb }

// NewDecoder reads the whole body from r and decodes it with Unmarshal; the
// gateway decodes request messages only, or one message field of a request
// (an update's resource, which it hands over as a **Message).
func (j JSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		m, ok := message(v)
		if !ok {
			return fmt.Errorf("request body: cannot decode into %T", v)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("request body: %w", err)
		}
		return Unmarshal(data, m, j.UnmarshalOptions)
	})
}

// message is the message v is, or that v points to (allocated if nil).
func message(v any) (proto.Message, bool) {
	if m, ok := v.(proto.Message); ok {
		return m, true
	}
	p := reflect.ValueOf(v)
	if p.Kind() != reflect.Pointer || p.IsNil() || p.Elem().Kind() != reflect.Pointer {
		return nil, false
	}
	if p.Elem().IsNil() {
		p.Elem().Set(reflect.New(p.Elem().Type().Elem()))
	}
	m, ok := p.Elem().Interface().(proto.Message)
	return m, ok
}
