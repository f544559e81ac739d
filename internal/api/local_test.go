package api_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/api"
)

// elsewhere is the connection a Local falls back on: it records the streams.
type elsewhere struct{ streams []string }

func (e *elsewhere) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return status.Error(codes.Unimplemented, "not here")
}

func (e *elsewhere) NewStream(_ context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	e.streams = append(e.streams, method)
	return nil, status.Error(codes.Unavailable, "no stream here")
}

// A local call runs the interceptors in order, as a call from the gateway
// with the caller's metadata, hands back the headers the handler set, and
// answers the handler's errors as gRPC would; a stream goes elsewhere.
func TestLocal_CallsTheServiceInProcessThroughItsInterceptors(t *testing.T) {
	var order []string
	record := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			order = append(order, name+" "+info.FullMethod)
			if name == "outer" {
				p, ok := peer.FromContext(ctx)
				require.True(t, ok)
				require.Equal(t, api.GatewayNetwork, p.Addr.Network())
				md, _ := metadata.FromIncomingContext(ctx)
				require.Equal(t, []string{"Bearer x"}, md.Get("authorization"))
				require.NoError(t, grpc.SetHeader(ctx, metadata.Pairs("x-caller", "token:t@acme")))
			}
			if err := ctx.Err(); err != nil {
				return nil, err // a plain error: gRPC answers it with the context's code
			}
			return handler(ctx, req)
		}
	}
	fallback := &elsewhere{}
	local := api.NewLocal(fallback, record("outer"), record("inner"))
	served := health.NewServer()
	healthpb.RegisterHealthServer(local, served)
	client := healthpb.NewHealthClient(local)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer x")

	var header metadata.MD
	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&header))
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	require.Equal(t, []string{"token:t@acme"}, header.Get("x-caller"))
	require.Equal(t, []string{"outer /grpc.health.v1.Health/Check", "inner /grpc.health.v1.Health/Check"}, order)

	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nothing"})
	require.Equal(t, codes.NotFound, status.Code(err))

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = client.List(canceled, &healthpb.HealthListRequest{})
	require.Equal(t, codes.Canceled, status.Code(err))

	_, err = client.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Equal(t, []string{"/grpc.health.v1.Health/Watch"}, fallback.streams)
}
