package main_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/client"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// demo starts mspauthz on the demo fixtures and dials it with the client.
func demo(t *testing.T) (*server, *client.Client) {
	t.Helper()
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	return s, dial(t, s)
}

// dial is the client of s, with the platform token and opts.
func dial(t *testing.T, s *server, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(s.grpcAddr, append([]client.Option{client.WithInsecure(), client.WithToken(adminToken)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func access(customer, user string) *client.Question {
	return &client.Question{Resource: client.Customer(customer), Permission: "access", Subject: client.User(user)}
}

// Every call of the client on seed 000's cast: Alex reaches Zylker through
// Zoho and Site24x7, Bob through Zoho, Carol directly; unticking Zoho cuts
// Bob; Alex may not leave every group (Zylker's Account Contact).
func TestClient_EveryCallOnTheDemoCast(t *testing.T) {
	s, c := demo(t)
	ctx := context.Background()

	d, err := c.Check(ctx, "acme", access("zylker", "alex"))
	require.NoError(t, err)
	require.True(t, d.GetAllowed())
	require.Equal(t, []string{"customer_group:site24x7", "customer_group:zoho"}, d.GetVia())
	require.NotEmpty(t, d.GetCheckedAt())

	bulk, err := c.BulkCheck(ctx, "acme", access("zylker", "bob"), access("initech", "bob"),
		&client.Question{Resource: client.Customer("initech"), Permission: "tickets.create", Subject: client.User("dana")})
	require.NoError(t, err)
	require.Len(t, bulk.GetResults(), 3)
	require.True(t, bulk.GetResults()[0].GetAllowed())
	require.False(t, bulk.GetResults()[1].GetAllowed())
	require.True(t, bulk.GetResults()[2].GetAllowed(), "Dana, a technician, may create Initech's tickets")

	customers, err := c.CustomersOf(ctx, "acme", "bob")
	require.NoError(t, err)
	require.Len(t, customers.GetCustomers(), 2)
	require.Equal(t, "globex", customers.GetCustomers()[0].GetCustomerId())

	users, err := c.UsersOf(ctx, "acme", "zylker")
	require.NoError(t, err)
	var who []string
	for _, u := range users.GetUsers() {
		who = append(who, u.GetUserId())
	}
	require.Equal(t, []string{"alex", "bob", "carol"}, who)

	e, err := c.Explain(ctx, "acme", access("initech", "bob"))
	require.NoError(t, err)
	require.False(t, e.GetAllowed())
	require.Equal(t, "NO_PATH", e.GetMissing()[0].GetReason())

	// The three forms, validateOnly first: nothing written.
	untick := &pb.EditCustomerPreferencesRequest{MspId: "acme", CustomerId: "zylker", CustomerGroups: []string{"site24x7"}, Users: []string{"carol"}, ValidateOnly: true}
	preview, err := c.EditCustomerPreferences(ctx, untick)
	require.NoError(t, err)
	require.Empty(t, preview.GetWrittenAt())
	require.Equal(t, "bob", preview.GetDissociated()[0].GetUserId())
	group, err := c.EditCustomerGroup(ctx, &pb.EditCustomerGroupRequest{MspId: "acme", CustomerGroupId: "zoho", Customers: []string{"zylker"}, ValidateOnly: true})
	require.NoError(t, err)
	require.Equal(t, "globex", group.GetDissociated()[0].GetCustomerId())
	user, err := c.EditUser(ctx, &pb.EditUserRequest{MspId: "acme", UserId: "bob", CustomerGroups: []string{"site24x7"}, ValidateOnly: true})
	require.NoError(t, err)
	require.NotEmpty(t, user.GetAssociated())
	still, err := c.Check(ctx, "acme", access("zylker", "bob"))
	require.NoError(t, err)
	require.True(t, still.GetAllowed(), "validateOnly wrote nothing")

	// The save, in a session: the next check is at least as fresh as it.
	session := client.NewSession()
	inSession := client.WithSession(ctx, session)
	untick.ValidateOnly = false
	saved, err := c.EditCustomerPreferences(inSession, untick)
	require.NoError(t, err)
	require.Equal(t, saved.GetWrittenAt(), session.Token())
	cut, err := c.Check(inSession, "acme", access("zylker", "bob"))
	require.NoError(t, err)
	require.False(t, cut.GetAllowed(), "a check after my own dissociation never sees the old access")
	require.Equal(t, cut.GetCheckedAt(), session.Token())

	// Typed errors.
	_, err = c.EditUser(ctx, &pb.EditUserRequest{MspId: "acme", UserId: "alex", AllowEmpty: true})
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	blocks := client.GuardBlocks(err)
	require.Len(t, blocks, 1)
	require.Equal(t, "ACCOUNT_CONTACT", blocks[0].GetReason())
	require.Equal(t, "zylker", blocks[0].GetCustomerId())
	_, err = c.Check(ctx, "acme", access("nosuch", "alex"))
	require.True(t, client.IsNotFound(err), "%v", err)
	_, err = c.Check(ctx, "northwind", access("zylker", "gina"))
	require.True(t, client.IsNotFound(err), "another MSP's customer is not found: %v", err)
	_, err = c.Check(ctx, "acme", &client.Question{Resource: "zylker", Permission: "access", Subject: client.User("alex")})
	require.True(t, client.IsInvalid(err), "%v", err)
	_, err = c.Explain(client.OnBehalfOf(ctx, "bob"), "acme", access("zylker", "alex"))
	require.True(t, client.IsPermissionDenied(err), "Bob may not ask about Alex: %v", err)
	_, err = dial(t, &server{grpcAddr: "127.0.0.1:1"}, client.WithRetries(time.Millisecond, 10*time.Millisecond, 200*time.Millisecond)).Check(ctx, "acme", access("zylker", "alex"))
	require.True(t, client.IsUnavailable(err), "nothing listens: %v", err)

	// A token source (the sign-in issue's JWTs) is asked on every call.
	var asked atomic.Int32
	sourced := dial(t, s, client.WithTokenSource(func(context.Context) (string, error) {
		asked.Add(1)
		return adminToken, nil
	}))
	_, err = sourced.Check(ctx, "acme", access("zylker", "alex"))
	require.NoError(t, err)
	require.Equal(t, int32(1), asked.Load())
}

// Read-your-writes across replicas: a session's save through one mspauthz
// process, its check through another on the same database, with the
// session's token, never sees Bob's old access to Zylker.
func TestClient_ASessionReadsItsOwnSaveThroughAnotherProcess(t *testing.T) {
	if spicedbtest.Backend() == spicedbtest.Memory {
		t.Skip("two processes share a database on PostgreSQL: run with MSPAUTHZ_TEST_BACKEND=postgres")
	}
	env := []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}
	backend := spicedbtest.ServeArgs(t)
	one := start(t, env, append([]string{"--fixtures", "../../fixtures/demo.yaml"}, backend...)...)
	other := start(t, env, backend...)
	through, check := dial(t, one), dial(t, other)
	ctx := context.Background()
	for range 5 { // each round dissociates Bob through one and checks through the other
		for _, groups := range [][]string{{"zoho", "site24x7"}, {"site24x7"}} {
			session := client.NewSession()
			ctx := client.WithSession(ctx, session)
			_, err := through.EditCustomerPreferences(ctx, &pb.EditCustomerPreferencesRequest{MspId: "acme", CustomerId: "zylker", CustomerGroups: groups, Users: []string{"carol"}})
			require.NoError(t, err)
			exported := session.Export()

			resumed, err := client.ImportSession(exported) // as a web session would keep it
			require.NoError(t, err)
			d, err := check.Check(client.WithSession(ctx, resumed), "acme", access("zylker", "bob"))
			require.NoError(t, err)
			require.Equal(t, len(groups) == 2, d.GetAllowed(), "Bob reaches Zylker only through Zoho (selection %v)", groups)
		}
	}
}

// attempts counts the attempts of calls the client makes, and those that
// failed UNAVAILABLE (an interceptor inside its retries).
func attempts(tried, unavailable *atomic.Int32) client.Option {
	return client.WithDialOptions(grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		tried.Add(1)
		err := invoker(ctx, method, req, reply, cc, opts...)
		if client.IsUnavailable(err) {
			unavailable.Add(1)
		}
		return err
	}))
}

// The SpiceDB cluster's nodes die: mspauthz answers UNAVAILABLE at once. A
// question that reaches SpiceDB (a validateOnly save) is retried until the
// nodes are back, within the caller's deadline; a save is not (its outcome
// unknown), it fails with UNAVAILABLE after one attempt.
func TestClient_RetriesWhileTheSpiceDBNodesAreDead(t *testing.T) {
	if spicedbtest.Backend() != spicedbtest.Remote {
		t.Skip("needs the SpiceDB cluster: MSPAUTHZ_TEST_BACKEND=remote")
	}
	ctx := context.Background()
	cluster := spicedbtest.SharedCluster(t)
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, append([]string{"--fixtures", "../../fixtures/demo.yaml"}, spicedbtest.ServeArgs(t)...)...)
	var tried, unavailable atomic.Int32
	c := dial(t, s, attempts(&tried, &unavailable))
	// B dispatches to A: A starts first.
	nodes := []*spicedbtest.Node{cluster.A, cluster.B}
	t.Cleanup(func() { // leave the cluster whole for the next test
		for _, n := range nodes {
			if err := n.Start(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	preview := &pb.EditCustomerPreferencesRequest{MspId: "acme", CustomerId: "zylker", CustomerGroups: []string{"site24x7"}, Users: []string{"carol"}, ValidateOnly: true}
	_, err := c.EditCustomerPreferences(ctx, preview)
	require.NoError(t, err)

	for _, n := range nodes {
		n.Kill()
	}
	tried.Store(0)
	save := proto.CloneOf(preview)
	save.ValidateOnly = false
	_, err = c.EditCustomerPreferences(ctx, save)
	require.True(t, client.IsUnavailable(err), "with SpiceDB dead a save fails: %v", err)
	require.Equal(t, int32(1), tried.Load(), "a save whose outcome is unknown is not made again")

	unavailable.Store(0)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		_, err := c.EditCustomerPreferences(ctx, preview)
		done <- err
	}()
	for began := time.Now(); unavailable.Load() < 2 && time.Since(began) < 2*time.Minute; {
		time.Sleep(100 * time.Millisecond)
	}
	require.GreaterOrEqual(t, unavailable.Load(), int32(2), "with SpiceDB dead, the preview is made again")
	for _, n := range nodes {
		require.NoError(t, n.Start(ctx))
	}
	require.NoError(t, <-done, "the preview answers once SpiceDB is back, without the application seeing the outage")
}
