package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/app"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

const token = "bench-platform-token-0123456789"

// BenchmarkBackends compares one check (Alex reaches Zylker through two
// groups) and one form save (Edit Customer Group: Zoho drops Globex or takes
// it back, proved by SpiceDB at the write's revision) on the three backends,
// each on the demo data, through the in-process Go API: the embedded SpiceDB
// in memory, the embedded SpiceDB on PostgreSQL, and a remote cluster of two
// spicedb processes over PostgreSQL.
func BenchmarkBackends(b *testing.B) {
	for _, backend := range []string{spicedbtest.Memory, spicedbtest.Postgres, spicedbtest.Remote} {
		b.Run(backend, func(b *testing.B) {
			cfg := demoConfig()
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

// demoConfig is the service on loopback with the demo fixtures, quiet.
func demoConfig() app.Config {
	return app.Config{
		HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Fixtures: "../../fixtures/demo.yaml", AdminToken: token,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard,
	}
}
