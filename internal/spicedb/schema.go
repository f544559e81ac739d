package spicedb

import (
	"context"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	case current.GetSchemaText() == schema:
		return false, nil
	}
	if _, err := client.WriteSchema(ctx, &v1.WriteSchemaRequest{Schema: schema}); err != nil {
		return false, mapError(ctx, "write schema", err)
	}
	return true, nil
}
