package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

const token = "bench-platform-token-0123456789"

// BenchmarkCheck measures one "may Alex reach Zylker" check (allowed, through
// two customer groups) over every way in, on the demo data of one running
// service: SpiceDB's own CheckPermission on the embedded server, the
// in-process Go API, the gRPC API and the REST API. The last three also
// authenticate (gRPC, REST) and name every path.
func BenchmarkCheck(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Config{
		HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Fixtures: "../../fixtures/demo.yaml", AdminToken: token,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard,
	}.Complete(ctx)
	require.NoError(b, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() { cancel(); require.NoError(b, <-done) })

	b.Run("spicedb-direct", func(b *testing.B) {
		client := v1.NewPermissionsServiceClient(a.SpiceDB())
		req := &v1.CheckPermissionRequest{
			Consistency: &v1.Consistency{Requirement: &v1.Consistency_FullyConsistent{FullyConsistent: true}},
			Resource:    &v1.ObjectReference{ObjectType: "customer", ObjectId: "acme/zylker"},
			Permission:  "access",
			Subject:     &v1.SubjectReference{Object: &v1.ObjectReference{ObjectType: "user", ObjectId: "acme/alex"}},
		}
		for b.Loop() {
			resp, err := client.CheckPermission(ctx, req)
			if err != nil || resp.GetPermissionship() != v1.CheckPermissionResponse_PERMISSIONSHIP_HAS_PERMISSION {
				b.Fatal(err, resp)
			}
		}
	})
	b.Run("go-api", func(b *testing.B) {
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
		authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		req := &pb.CheckRequest{MspId: "acme", Resource: "customer:zylker", Permission: "access", Subject: "user:alex"}
		for b.Loop() {
			resp, err := client.Check(authed, req)
			if err != nil || !resp.GetAllowed() {
				b.Fatal(err)
			}
		}
	})
	b.Run("rest", func(b *testing.B) {
		url := "http://" + a.HTTPAddr() + "/v1/msps/acme/check"
		body := []byte(`{"resource":"customer:zylker","permission":"access","subject":"user:alex"}`)
		client := &http.Client{}
		for b.Loop() {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	})
}

// BenchmarkBackends compares one check (Alex reaches Zylker through two
// groups) and one form save (Edit Customer Group: Zoho drops Globex or takes
// it back, proved by SpiceDB at the write's revision) on the three backends,
// each on the demo data, through the in-process Go API: the embedded SpiceDB
// in memory, the embedded SpiceDB on PostgreSQL, and a remote cluster of two
// spicedb processes over PostgreSQL.
func BenchmarkBackends(b *testing.B) {
	for _, backend := range []string{spicedbtest.Memory, spicedbtest.Postgres, spicedbtest.Remote} {
		b.Run(backend, func(b *testing.B) {
			cfg := app.Config{
				HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
				Fixtures: "../../fixtures/demo.yaml", AdminToken: token,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard,
			}
			target := spicedbtest.TargetOn(b, backend)
			cfg.Datastore, cfg.Remote = target.Datastore, target.Remote
			ctx := context.Background()
			a, err := cfg.Complete(ctx)
			require.NoError(b, err)
			b.Cleanup(func() { require.NoError(b, a.Close()) })
			domain := a.Domain()

			b.Run("check", func(b *testing.B) {
				questions := []tenancy.Question{{ResourceType: "customer", ResourceID: "zylker", Permission: "access", UserID: "alex"}}
				for b.Loop() {
					res, _, err := domain.Check(ctx, "acme", questions, "")
					if err != nil || !res[0].Allowed {
						b.Fatal(err)
					}
				}
			})
			b.Run("save", func(b *testing.B) {
				selections := [][]string{{"zylker"}, {"zylker", "globex"}}
				i := 0
				for b.Loop() {
					rep, err := domain.EditCustomerGroup(ctx, "acme", "zoho", selections[i%2], tenancy.SaveOptions{})
					if err != nil || len(rep.Dissociated)+len(rep.Associated) != 2 {
						b.Fatal(err, rep)
					}
					i++
				}
			})
		})
	}
}
