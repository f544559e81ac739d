package spicedb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/authzed/grpcutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
)

// Server is a SpiceDB that mspauthz talks to: embedded in this process, or a
// remote cluster.
type Server interface {
	Conn() *grpc.ClientConn
	Close() error
}

var (
	_ Server = (*Embedded)(nil)
	_ Server = (*Remote)(nil)
)

// RemoteOptions say how to reach a SpiceDB cluster.
type RemoteOptions struct {
	// Endpoints are the host:port gRPC addresses of the cluster's nodes. One
	// endpoint is resolved through DNS (every address it names is used);
	// several are balanced round robin. Calls skip a node that is down.
	Endpoints []string
	// Token is the cluster's preshared key.
	Token string
	// Insecure talks plaintext gRPC instead of TLS (system CAs).
	Insecure bool
	// DialOptions are added to the connection's (interceptors, say).
	DialOptions []grpc.DialOption
	// Engine is the cluster's datastore engine, which says how its ZedTokens
	// are ordered (EnginePostgres when empty).
	Engine string
}

// ParseEndpoints splits a comma-separated list of host:port addresses.
func ParseEndpoints(list string) ([]string, error) {
	var endpoints []string
	for _, ep := range strings.Split(list, ",") {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(ep); err != nil || port == "" {
			return nil, fmt.Errorf("SpiceDB endpoint %q is not host:port", ep)
		}
		endpoints = append(endpoints, ep)
	}
	if len(endpoints) == 0 {
		return nil, errors.New("no SpiceDB endpoint given (host:port[,host:port...])")
	}
	return endpoints, nil
}

// Remote is a connection to a SpiceDB cluster.
type Remote struct {
	conn *grpc.ClientConn
}

// remoteProbeTimeout bounds the call that proves, at start, that the cluster
// answers and accepts the token.
const remoteProbeTimeout = 10 * time.Second

// DialRemote connects to a SpiceDB cluster and proves that it answers and
// accepts the token: an unreachable endpoint or a wrong key is an error here,
// not on the first request.
func DialRemote(ctx context.Context, opts RemoteOptions) (*Remote, error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("no SpiceDB endpoint given")
	}
	if opts.Token == "" {
		return nil, errors.New("no SpiceDB token given (--spicedb-token or MSPAUTHZ_SPICEDB_TOKEN)")
	}
	dialOpts := []grpc.DialOption{
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	}
	if opts.Insecure {
		dialOpts = append(dialOpts, grpcutil.WithInsecureBearerToken(opts.Token), grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		certs, err := grpcutil.WithSystemCerts(grpcutil.VerifyCA)
		if err != nil {
			return nil, fmt.Errorf("SpiceDB TLS: %w", err)
		}
		dialOpts = append(dialOpts, grpcutil.WithBearerToken(opts.Token), certs)
	}
	target := "dns:///" + opts.Endpoints[0]
	if len(opts.Endpoints) > 1 {
		nodes := manual.NewBuilderWithScheme("spicedb-nodes")
		state := resolver.State{}
		for _, ep := range opts.Endpoints {
			host, _, _ := net.SplitHostPort(ep)
			state.Addresses = append(state.Addresses, resolver.Address{Addr: ep, ServerName: host})
		}
		nodes.InitialState(state)
		target = nodes.Scheme() + ":///cluster"
		dialOpts = append(dialOpts, grpc.WithResolvers(nodes))
	}
	conn, err := grpc.NewClient(target, append(dialOpts, opts.DialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("SpiceDB at %s: %w", strings.Join(opts.Endpoints, ","), err)
	}
	r := &Remote{conn: conn}
	if err := r.probe(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("SpiceDB at %s: %w", strings.Join(opts.Endpoints, ","), err)
	}
	return r, nil
}

// probe reads the schema: it needs a node that answers and accepts the token.
func (r *Remote) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, remoteProbeTimeout)
	defer cancel()
	_, err := v1.NewSchemaServiceClient(r.conn).ReadSchema(ctx, &v1.ReadSchemaRequest{})
	switch status.Code(err) {
	case codes.OK, codes.NotFound: // NotFound: no schema written yet
		return nil
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("the token was refused (check --spicedb-token): %w", err)
	case codes.Unavailable, codes.DeadlineExceeded:
		return fmt.Errorf("unreachable within %s: %w", remoteProbeTimeout, err)
	}
	return err
}

// Conn is the gRPC connection to the cluster.
func (r *Remote) Conn() *grpc.ClientConn { return r.conn }

// Close closes the connection.
func (r *Remote) Close() error { return r.conn.Close() }
