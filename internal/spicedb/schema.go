package spicedb

import (
	"context"
	"github.com/authzed/spicedb/pkg/schemadsl/compiler"
	"github.com/authzed/spicedb/pkg/schemadsl/generator"
	"slices"
	"strings"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// EnsureSchema writes schema to SpiceDB unless SpiceDB already holds exactly
// that text, and reports whether it wrote.
func EnsureSchema(ctx context.Context, conn grpc.ClientConnInterface, schema string) (bool, error) {
	client := v1.NewSchemaServiceClient(conn)
	current, err := client.ReadSchema(ctx, &v1.ReadSchemaRequest{})
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return false, mapError(ctx, "read schema", err)
	case current.GetSchemaText() == schema || sameSchema(ctx, current.GetSchemaText(), schema):
		return false, nil
	}
	if _, err := client.WriteSchema(ctx, &v1.WriteSchemaRequest{Schema: schema}); err != nil {
		return false, mapError(ctx, "write schema", err)
	}
	return true, nil
}

// sameSchema reports whether two schema texts define the same schema: SpiceDB
// answers ReadSchema with a text it generates (no comments, its own layout),
// so both are compiled and generated again before they are compared.
func sameSchema(ctx context.Context, a, b string) bool {
	ga, errA := canonicalSchema(ctx, a)
	gb, errB := canonicalSchema(ctx, b)
	return errA == nil && errB == nil && ga == gb
}

func canonicalSchema(ctx context.Context, text string) (string, error) {
	compiled, err := compiler.Compile(compiler.InputSchema{Source: "schema", SchemaString: text}, compiler.AllowUnprefixedObjectType())
	if err != nil {
		return "", err
	}
	defs := slices.Clone(compiled.OrderedDefinitions)
	// SpiceDB answers its definitions sorted by name.
	slices.SortFunc(defs, func(x, y compiler.SchemaDefinition) int { return strings.Compare(x.GetName(), y.GetName()) })
	out, _, err := generator.GenerateSchema(ctx, defs)
	return out, err
}

// CheckSchema fails unless SpiceDB holds schema (as EnsureSchema would leave
// it): with Invalid when it holds another, Unavailable when it cannot be asked.
func CheckSchema(ctx context.Context, conn grpc.ClientConnInterface, schema string) error {
	current, err := v1.NewSchemaServiceClient(conn).ReadSchema(ctx, &v1.ReadSchemaRequest{})
	switch {
	case status.Code(err) == codes.NotFound:
		return fault.New(fault.Invalid, "SpiceDB holds no schema")
	case err != nil:
		return mapError(ctx, "read schema", err)
	case current.GetSchemaText() == schema || sameSchema(ctx, current.GetSchemaText(), schema):
		return nil
	}
	return fault.New(fault.Invalid, "SpiceDB holds another schema than this mspauthz's")
}
