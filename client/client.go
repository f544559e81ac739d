package client

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// The answers of the calls are the API's own messages.
type (
	// Question asks whether Subject ("user:<id>") holds Permission ("access",
	// or a permission of the catalog such as "tickets.create") on Resource
	// ("customer:<id>", "msp:<id>", ...).
	Question = pb.CheckBulkItem
	// Decision answers a check: allowed, every granting path (via), and the
	// ZedToken it was answered at.
	Decision = pb.CheckResponse
	// Decisions answers a bulk check, one result per question, at one revision.
	Decisions = pb.CheckBulkResponse
	// CustomersOfUser lists every customer a user reaches, with paths.
	CustomersOfUser = pb.ListUserCustomersResponse
	// UsersOfCustomer lists every user who reaches a customer, with paths.
	UsersOfCustomer = pb.ListCustomerUsersResponse
	// Explanation is a check with its reasons.
	Explanation = pb.Explanation
	// Report is what a form's save did to access (or would do, for validateOnly).
	Report = pb.SaveReport
)

// Client calls one mspauthz service. It is safe for concurrent use.
type Client struct {
	conn    *grpc.ClientConn
	access  pb.AccessServiceClient
	tenancy pb.TenancyServiceClient
}

// Option configures Dial.
type Option func(*options)

type options struct {
	token     func(context.Context) (string, error)
	transport credentials.TransportCredentials
	backoff   backoff
	dial      []grpc.DialOption
}

// WithToken authenticates every call with an API token (a platform, service
// or user token), sent as "authorization: Bearer <token>".
func WithToken(token string) Option {
	return WithTokenSource(func(context.Context) (string, error) { return token, nil })
}

// WithTokenSource authenticates every call with the token source returns
// then, such as a JWT of the caller's identity provider that it renews.
func WithTokenSource(source func(ctx context.Context) (string, error)) Option {
	return func(o *options) { o.token = source }
}

// WithTLS dials over TLS with config (the default is TLS with the system's roots).
func WithTLS(config *tls.Config) Option {
	return func(o *options) { o.transport = credentials.NewTLS(config) }
}

// WithInsecure dials without TLS: for a service on the loopback interface
// only, since the token travels in the clear.
func WithInsecure() Option {
	return func(o *options) { o.transport = insecure.NewCredentials() }
}

// WithRetries sets the pause before the first retry, the longest pause, and
// how long a call is retried when its context has no deadline (the defaults
// are 50ms, 2s and 10s). What is retried: see the interceptor in retry.go,
// or the Go client in docs/api.md.
func WithRetries(first, longest, budget time.Duration) Option {
	return func(o *options) { o.backoff = backoff{first: first, longest: longest, budget: budget} }
}

// WithDialOptions passes further options to grpc.NewClient.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, opts...) }
}

// Dial returns a client of the mspauthz gRPC service at target
// ("127.0.0.1:50051"). It connects lazily, on the first call.
func Dial(target string, opts ...Option) (*Client, error) {
	o := options{transport: credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12}), backoff: defaultBackoff}
	for _, opt := range opts {
		opt(&o)
	}
	if o.backoff.first <= 0 || o.backoff.longest < o.backoff.first {
		return nil, errors.New("client: WithRetries needs 0 < first <= longest")
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(o.transport),
		grpc.WithChainUnaryInterceptor(sessionInterceptor, o.backoff.interceptor),
	}
	if o.token != nil {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer(o.token)))
	}
	conn, err := grpc.NewClient(target, append(dial, o.dial...)...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, access: pb.NewAccessServiceClient(conn), tenancy: pb.NewTenancyServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the client's connection, for the API's other services
// (mspauthzv1.NewTenancyServiceClient(c.Conn()), ...): they get the same
// token, session and retries.
func (c *Client) Conn() grpc.ClientConnInterface { return c.conn }

// bearer sends a token source's token as gRPC's authorization metadata.
type bearer func(context.Context) (string, error)

func (b bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	token, err := b(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "Bearer " + token}, nil
}

// RequireTransportSecurity is false so that WithInsecure reaches a loopback
// service; Dial uses TLS unless told otherwise.
func (b bearer) RequireTransportSecurity() bool { return false }

// OnBehalfOf makes the calls under ctx act for user (X-On-Behalf-Of): mspauthz
// then answers as it answers that user — a customer he may not see is not
// found. Only a platform or service token may act for a user.
func OnBehalfOf(ctx context.Context, user string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-on-behalf-of", user)
}

// Customer is the resource of customer id: "customer:<id>".
func Customer(id string) string { return "customer:" + id }

// User is the subject of user id: "user:<id>".
func User(id string) string { return "user:" + id }

// Check answers q in msp.
func (c *Client) Check(ctx context.Context, msp string, q *Question) (*Decision, error) {
	return c.access.Check(ctx, &pb.CheckRequest{MspId: msp, Resource: q.GetResource(), Permission: q.GetPermission(), Subject: q.GetSubject()})
}

// BulkCheck answers every question in msp at one revision.
func (c *Client) BulkCheck(ctx context.Context, msp string, qs ...*Question) (*Decisions, error) {
	return c.access.CheckBulk(ctx, &pb.CheckBulkRequest{MspId: msp, Items: qs})
}

// CustomersOf lists every customer user reaches in msp.
func (c *Client) CustomersOf(ctx context.Context, msp, user string) (*CustomersOfUser, error) {
	return c.access.ListUserCustomers(ctx, &pb.ListUserCustomersRequest{MspId: msp, UserId: user})
}

// UsersOf lists every user who reaches customer in msp.
func (c *Client) UsersOf(ctx context.Context, msp, customer string) (*UsersOfCustomer, error) {
	return c.access.ListCustomerUsers(ctx, &pb.ListCustomerUsersRequest{MspId: msp, CustomerId: customer})
}

// Explain answers q in msp and says why (needs users.manage).
func (c *Client) Explain(ctx context.Context, msp string, q *Question) (*Explanation, error) {
	return c.access.Explain(ctx, &pb.ExplainRequest{MspId: msp, Resource: q.GetResource(), Permission: q.GetPermission(), Subject: q.GetSubject()})
}

// EditCustomerPreferences saves the Edit Customer Preferences form (or, with
// ValidateOnly, reports what a save would do). A blocked save's error has
// GuardBlocks.
func (c *Client) EditCustomerPreferences(ctx context.Context, form *pb.EditCustomerPreferencesRequest) (*Report, error) {
	return c.tenancy.EditCustomerPreferences(ctx, form)
}

// EditCustomerGroup saves the Edit Customer Group form, as EditCustomerPreferences.
func (c *Client) EditCustomerGroup(ctx context.Context, form *pb.EditCustomerGroupRequest) (*Report, error) {
	return c.tenancy.EditCustomerGroup(ctx, form)
}

// EditUser saves the Edit User form, as EditCustomerPreferences.
func (c *Client) EditUser(ctx context.Context, form *pb.EditUserRequest) (*Report, error) {
	return c.tenancy.EditUser(ctx, form)
}
