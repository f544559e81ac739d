package client

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// The client is for applications: it imports the generated API, gRPC and
// protobuf, and nothing of mspauthz's domain or SpiceDB.
func TestClient_ImportsOnlyTheAPIAndGRPC(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	allowed := []string{"google.golang.org/grpc", "google.golang.org/protobuf/", "google.golang.org/genproto/googleapis/rpc/", "github.com/mspauthz/mspauthz/api/mspauthz/v1"}
	for _, imp := range strings.Fields(string(out)) {
		std := !strings.Contains(strings.Split(imp, "/")[0], ".")
		ok := std
		for _, prefix := range allowed {
			ok = ok || strings.HasPrefix(imp, prefix)
		}
		require.True(t, ok, "the client imports %s", imp)
	}
	deps, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	require.NoError(t, err, "%s", deps)
	for _, dep := range strings.Fields(string(deps)) {
		for _, forbidden := range []string{"mspauthz/internal/", "authzed", "spicedb"} {
			require.NotContains(t, dep, forbidden, "the client depends on %s", dep)
		}
	}
}

// failing answers each call with the next of its errors, then succeeds; it
// counts the calls.
type failing struct {
	pb.UnimplementedAccessServiceServer
	pb.UnimplementedTenancyServiceServer
	errs  []error
	calls atomic.Int32
}

func (f *failing) next() error {
	n := int(f.calls.Add(1)) - 1
	if n < len(f.errs) {
		return f.errs[n]
	}
	return nil
}

func (f *failing) Check(context.Context, *pb.CheckRequest) (*pb.CheckResponse, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &pb.CheckResponse{Allowed: true, CheckedAt: "t1"}, nil
}

func (f *failing) EditUser(_ context.Context, req *pb.EditUserRequest) (*pb.SaveReport, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &pb.SaveReport{WrittenAt: "w1"}, nil
}

func serve(t *testing.T, f *failing) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	pb.RegisterAccessServiceServer(s, f)
	pb.RegisterTenancyServiceServer(s, f)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	c, err := Dial(lis.Addr().String(), WithInsecure(), WithToken("t"), WithRetries(time.Millisecond, 4*time.Millisecond, time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func lostRace() error {
	st, _ := status.New(codes.Aborted, `MSP "acme" is being changed by other saves; nothing was written, try again`).
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(0)})
	return st.Err()
}

var unavailable = status.Error(codes.Unavailable, "SpiceDB unavailable for check")

// Retries: a question through UNAVAILABLE, a save through a lost race the
// server marks retryable; never a save whose outcome is unknown, never a
// refusal, never an ABORTED without the mark.
func TestClient_RetriesOnlyWhatIsSafeToMakeAgain(t *testing.T) {
	edit := func(c *Client, validateOnly bool) error {
		_, err := c.EditUser(context.Background(), &pb.EditUserRequest{MspId: "acme", UserId: "alex", CustomerGroups: []string{"zoho"}, ValidateOnly: validateOnly})
		return err
	}
	check := func(c *Client, _ bool) error {
		_, err := c.Check(context.Background(), "acme", &Question{Resource: Customer("zylker"), Permission: "access", Subject: User("alex")})
		return err
	}
	for _, tc := range []struct {
		name         string
		call         func(*Client, bool) error
		validateOnly bool
		errs         []error
		code         codes.Code
		calls        int32
	}{
		{"a check through two UNAVAILABLE", check, false, []error{unavailable, unavailable}, codes.OK, 3},
		{"a save through a lost race", edit, false, []error{lostRace(), lostRace()}, codes.OK, 3},
		{"a save's UNAVAILABLE, outcome unknown: not retried", edit, false, []error{unavailable}, codes.Unavailable, 1},
		{"a validateOnly save through UNAVAILABLE", edit, true, []error{unavailable}, codes.OK, 2},
		{"a refused save: not retried", edit, false, []error{status.Error(codes.FailedPrecondition, "blocked")}, codes.FailedPrecondition, 1},
		{"an ABORTED without RetryInfo: not retried", edit, false, []error{status.Error(codes.Aborted, "aborted")}, codes.Aborted, 1},
		{"bad input: not retried", check, false, []error{status.Error(codes.InvalidArgument, "resource")}, codes.InvalidArgument, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &failing{errs: tc.errs}
			err := tc.call(serve(t, f), tc.validateOnly)
			require.Equal(t, tc.code, status.Code(err), "%v", err)
			require.Equal(t, tc.calls, f.calls.Load())
		})
	}
}

// Retries end with the caller's deadline, or the budget without one: the
// last error, not a hang.
func TestClient_RetriesStopAtTheDeadline(t *testing.T) {
	errs := make([]error, 1000)
	for i := range errs {
		errs[i] = unavailable
	}
	f := &failing{errs: errs}
	c := serve(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.Check(ctx, "acme", &Question{Resource: Customer("zylker"), Permission: "access", Subject: User("alex")})
	// The last attempt's error, or the deadline's when it ended during an attempt (on a loaded machine).
	require.Contains(t, []codes.Code{codes.Unavailable, codes.DeadlineExceeded}, status.Code(err), "%v", err)
	require.Less(t, time.Since(began), time.Second, "no pause past the deadline")
	require.Greater(t, f.calls.Load(), int32(2))

	f.calls.Store(0)
	began = time.Now()
	_, err = c.Check(context.Background(), "acme", &Question{Resource: Customer("zylker"), Permission: "access", Subject: User("alex")})
	require.True(t, IsUnavailable(err), "%v", err)
	require.Less(t, time.Since(began), 3*time.Second, "the budget (1s) bounds a call without a deadline")
	require.Greater(t, f.calls.Load(), int32(2))
}

// A session sends its token on reads and takes the answers' tokens: a
// save's always, a read's only when no newer one came while it was asked.
func TestSession_KeepsTheNewestTokenItSaw(t *testing.T) {
	s := NewSession()
	_, before := s.sent()
	s.seen("w1", true, before)
	require.Equal(t, "w1", s.Token())
	s.seen("c0", false, before) // a read sent before the save answered after it
	require.Equal(t, "w1", s.Token())
	_, now := s.sent()
	s.seen("c1", false, now)
	require.Equal(t, "c1", s.Token())

	resumed, err := ImportSession(s.Export())
	require.NoError(t, err)
	require.Equal(t, "c1", resumed.Token())
	_, err = ImportSession("two tokens")
	require.Error(t, err)
}
