package bench

import (
	"fmt"
	"net"

	"google.golang.org/grpc"
)

// spiceDBPort serves the SpiceDB of the service under test on a loopback TCP
// port, as a standalone SpiceDB serves its gRPC API: every unary call is
// passed, unread, to the service's own SpiceDB connection. It is the
// baseline of the gRPC-to-gRPC comparison: a client of SpiceDB crosses one
// gRPC hop over loopback, as a client of mspauthz's gRPC API does.
func spiceDBPort(spicedb grpc.ClientConnInterface) (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		var req, resp frame
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		if err := spicedb.Invoke(stream.Context(), method, &req, &resp, grpc.ForceCodec(rawCodec{})); err != nil {
			return err
		}
		return stream.SendMsg(&resp)
	}))
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), srv.Stop, nil
}

// frame is a message's encoded bytes, which rawCodec passes through.
type frame struct{ raw []byte }

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return f.raw, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	f.raw = append(f.raw[:0], data...)
	return nil
}
