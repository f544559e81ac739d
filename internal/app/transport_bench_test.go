package app_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/client"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// BenchmarkTransport is one check (Alex reaches Zylker, answered by the
// reachability index) through each way in, on the demo data in memory: the
// domain in process, the gRPC API over loopback by the generated stub and by
// the Go client, gRPC's own floor, and the REST gateway over loopback; the
// differences are what each costs per call (go test -bench Transport
// -cpuprofile says where it goes).
func BenchmarkTransport(b *testing.B) {
	cfg := demoConfig()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := cfg.Complete(ctx)
	require.NoError(b, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() { cancel(); require.NoError(b, <-done) })
	for a.Index().Status().State != reach.Live {
		time.Sleep(10 * time.Millisecond)
	}

	b.Run("in-process", func(b *testing.B) {
		questions := []tenancy.Question{{ResourceType: "customer", ResourceID: "zylker", Permission: "access", UserID: "alex"}}
		for b.Loop() {
			res, _, err := a.Domain().Check(ctx, "acme", questions, "")
			if err != nil || !res[0].Allowed {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpc", func(b *testing.B) {
		conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(b, err)
		defer conn.Close()
		client := pb.NewAccessServiceClient(conn)
		call := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		req := &pb.CheckRequest{MspId: "acme", Resource: "customer:zylker", Permission: "access", Subject: "user:alex"}
		for b.Loop() {
			res, err := client.Check(call, req)
			if err != nil || !res.GetAllowed() {
				b.Fatal(err)
			}
		}
	})
	// The Go client for applications (issue 23) on the same kind of
	// connection: its session and retry interceptors against the raw stub.
	b.Run("grpc-client", func(b *testing.B) {
		c, err := client.Dial(a.GRPCAddr(), client.WithInsecure(), client.WithToken(token))
		require.NoError(b, err)
		defer c.Close()
		q := &client.Question{Resource: client.Customer("zylker"), Permission: "access", Subject: client.User("alex")}
		for b.Loop() {
			res, err := c.Check(ctx, "acme", q)
			if err != nil || !res.GetAllowed() {
				b.Fatal(err)
			}
		}
	})
	// The floor: gRPC's own health check on a bare server over loopback, no
	// interceptor, no domain: what any gRPC call costs here.
	b.Run("grpc-floor", func(b *testing.B) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(b, err)
		bare := grpc.NewServer()
		healthpb.RegisterHealthServer(bare, health.NewServer())
		go func() { _ = bare.Serve(lis) }()
		defer bare.Stop()
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(b, err)
		defer conn.Close()
		client := healthpb.NewHealthClient(conn)
		for b.Loop() {
			if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rest", func(b *testing.B) {
		body := []byte(`{"resource":"customer:zylker","permission":"access","subject":"user:alex"}`)
		url := "http://" + a.HTTPAddr() + "/v1/msps/acme/check"
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	}) // The floor of REST: a bare net/http handler over loopback, the same
	// POST body, no gateway, no JSON: what any REST call costs here.
	b.Run("rest-floor", func(b *testing.B) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(b, err)
		bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `{"allowed":true}`)
		})}
		go func() { _ = bare.Serve(lis) }()
		defer bare.Close()
		body := []byte(`{"resource":"customer:zylker","permission":"access","subject":"user:alex"}`)
		url := "http://" + lis.Addr().String() + "/v1/msps/acme/check"
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
