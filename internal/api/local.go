package api

import (
	"context"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Local calls the services' unary methods in process: through the server's
// unary interceptors, as a call from the gateway (GatewayNetwork), with no
// HTTP/2 framing or marshaling between the REST gateway (or the console) and
// the service. Streams go over fallback, a connection to the server. It is a
// grpc.ClientConnInterface for the generated clients, and a
// grpc.ServiceRegistrar for Register.
type Local struct {
	intercept grpc.UnaryServerInterceptor
	fallback  grpc.ClientConnInterface
	methods   map[string]localMethod
}

type localMethod struct {
	impl    any
	handler grpc.MethodHandler
}

// NewLocal is a Local whose unary calls pass through interceptors, in
// order, as the server's (grpc.ChainUnaryInterceptor) do.
func NewLocal(fallback grpc.ClientConnInterface, interceptors ...grpc.UnaryServerInterceptor) *Local {
	return &Local{intercept: chain(interceptors), fallback: fallback, methods: map[string]localMethod{}}
}

// RegisterService implements grpc.ServiceRegistrar: desc's unary methods
// are called in process on impl.
func (l *Local) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, m := range desc.Methods {
		l.methods["/"+desc.ServiceName+"/"+m.MethodName] = localMethod{impl, m.Handler}
	}
}

// localPeer is the peer of a local call: the gateway's network.
var localPeer = &peer.Peer{Addr: localAddr{}}

type localAddr struct{}

func (localAddr) Network() string { return GatewayNetwork }
func (localAddr) String() string  { return "local" }

var _ net.Addr = localAddr{}

// Invoke implements grpc.ClientConnInterface.
func (l *Local) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	m, ok := l.methods[method]
	if !ok {
		return l.fallback.Invoke(ctx, method, args, reply, opts...)
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	stream := &localStream{method: method}
	sctx := grpc.NewContextWithServerTransportStream(peer.NewContext(metadata.NewIncomingContext(ctx, md), localPeer), stream)
	decode := func(v any) error {
		proto.Merge(v.(proto.Message), args.(proto.Message))
		return nil
	}
	out, err := m.handler(m.impl, sctx, decode, l.intercept)
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = stream.header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = stream.trailer
		}
	}
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.FromContextError(err).Err() // as the server would answer it
		}
		return err
	}
	proto.Merge(reply.(proto.Message), out.(proto.Message))
	return nil
}

// NewStream implements grpc.ClientConnInterface: over fallback.
func (l *Local) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return l.fallback.NewStream(ctx, desc, method, opts...)
}

// localStream holds the headers and trailers a local call's handler sets.
type localStream struct {
	method          string
	mu              sync.Mutex
	header, trailer metadata.MD
}

func (s *localStream) Method() string { return s.method }

func (s *localStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *localStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *localStream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
	return nil
}

// chain is the interceptors as one, the first outermost.
func chain(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			icpt, inner := interceptors[i], next
			next = func(ctx context.Context, req any) (any, error) { return icpt(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}
