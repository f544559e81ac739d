package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// The ways a customer-access check goes in.
const (
	WaySpiceDB     = "spicedb"        // SpiceDB's CheckPermission on the service's own (in-process) SpiceDB connection
	WaySpiceDBMin  = "spicedb-min"    // the same at minimize_latency (SpiceDB's caches may answer)
	WayGo          = "go-api"         // the in-process Go API (tenancy.Service.Check), with the service's index
	WayGoSpiceDB   = "go-api-spicedb" // the in-process Go API with no index: SpiceDB answers
	WaySpiceDBGRPC = "spicedb-grpc"   // SpiceDB's CheckPermission over loopback TCP (spiceDBPort)
	WayGRPC        = "grpc"           // mspauthz's gRPC API over loopback TCP
	WayREST        = "rest"           // mspauthz's REST API over loopback TCP
)

// Ways are the ways in, in the order they are measured and reported.
var Ways = []string{WaySpiceDB, WayGo, WayGoSpiceDB, WaySpiceDBGRPC, WayGRPC, WayREST}

// Baselines are the way each way is compared with: in process with in
// process, over gRPC with over gRPC.
var Baselines = map[string]string{WaySpiceDB: WaySpiceDB, WayGo: WaySpiceDB, WayGoSpiceDB: WaySpiceDB, WaySpiceDBGRPC: WaySpiceDBGRPC, WayGRPC: WaySpiceDBGRPC, WayREST: WayGRPC}

// CheckCell is one way at one concurrency.
type CheckCell struct {
	Way         string
	Concurrency int
	Latency     Latency
	// PerSecond is the throughput: checks answered per second.
	PerSecond float64
}

// sample is one question and SpiceDB's answer to it: customer access, or
// (permissions.go) a permission of the catalog on a customer or the MSP.
type sample struct {
	msp, user, customer string
	allowed             bool
	// permission is the API's name ("" for access), relation SpiceDB's;
	// onMSP asks it of the MSP.
	permission, relation string
	onMSP                bool
}

func (s sample) perm() string { return cmp.Or(s.permission, tenancy.PermissionAccess) }

// resource is the question's resource as the API names it.
func (s sample) resource() (typ, id string) {
	if s.onMSP {
		return "msp", s.msp
	}
	return "customer", s.customer
}

// spiceDBCheck is the question as SpiceDB's check of the same permission.
func (s sample) spiceDBCheck() graph.Check {
	typ, id := s.resource()
	if !s.onMSP {
		id = s.msp + "/" + id
	}
	return graph.Check{Resource: graph.Object{Type: typ, ID: id}, Permission: cmp.Or(s.relation, tenancy.PermissionAccess), Subject: graph.Object{Type: "user", ID: s.msp + "/" + s.user}}
}

// checker answers sample i one way, and says whether it was allowed.
type checker func(ctx context.Context, s sample) (bool, error)

// checks measures the customer-access check over every way at every
// concurrency, on random pairs of the preset; each answer must agree with
// SpiceDB's.
func checks(ctx context.Context, cfg Config, rng *rand.Rand) ([]CheckCell, float64, error) {
	ways, closeWays, err := checkers(cfg)
	if err != nil {
		return nil, 0, err
	}
	defer closeWays()
	samples := make([]sample, 1000)
	allowed := 0
	for i := range samples {
		p := cfg.Preset
		s := sample{msp: p.MSPID(rng.IntN(p.MSPs)), user: p.User(rng.IntN(p.Users)), customer: p.Customer(rng.IntN(p.Customers))}
		if s.allowed, err = ways[WaySpiceDB](ctx, s); err != nil {
			return nil, 0, err
		}
		samples[i] = s
		if s.allowed {
			allowed++
		}
	}
	var cells []CheckCell
	for _, c := range cfg.Concurrency {
		for _, way := range Ways {
			cell, err := measure(ctx, cfg, c, samples, ways[way])
			if err != nil {
				return nil, 0, fmt.Errorf("check over %s at concurrency %d: %w", way, c, err)
			}
			cell.Way = way
			cfg.say("check %-8s concurrency %2d: %6d checks, p50 %s p99 %s, %.0f/s", way, c, cell.Latency.N, cell.Latency.P50, cell.Latency.P99, cell.PerSecond)
			cells = append(cells, cell)
		}
	}
	return cells, float64(allowed) / float64(len(samples)), nil
}

// measure runs check on the samples from concurrency workers, for
// cfg.CellTime or cfg.CellOps checks, whichever ends first, after a short
// warm-up.
func measure(ctx context.Context, cfg Config, concurrency int, samples []sample, check checker) (CheckCell, error) {
	for i := range min(len(samples), 2*concurrency) { // connections, caches of the way itself
		if _, err := check(ctx, samples[i]); err != nil {
			return CheckCell{}, err
		}
	}
	var next atomic.Int64
	deadline := time.Now().Add(cfg.CellTime)
	durations := make([][]time.Duration, concurrency)
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range concurrency {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if cfg.CellOps > 0 && i >= cfg.CellOps {
					return
				}
				s := samples[i%len(samples)]
				t := time.Now()
				allowed, err := check(ctx, s)
				durations[w] = append(durations[w], time.Since(t))
				if err == nil && allowed != s.allowed {
					err = fmt.Errorf("%s may reach %s of %s: answered %v, SpiceDB says %v", s.user, s.customer, s.msp, allowed, s.allowed)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return CheckCell{}, err
		}
	}
	lat := latencyOf(slices.Concat(durations...))
	return CheckCell{Concurrency: concurrency, Latency: lat, PerSecond: float64(lat.N) / elapsed.Seconds()}, nil
}

// checkers are the ways in, and what closes their connections.
func checkers(cfg Config) (map[string]checker, func(), error) {
	a := cfg.App
	port, stopPort, err := spiceDBPort(a.SpiceDB())
	if err != nil {
		return nil, nil, err
	}
	spicedbConn, err := grpc.NewClient(port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		stopPort()
		return nil, nil, err
	}
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		stopPort()
		return nil, nil, err
	}
	access := pb.NewAccessServiceClient(conn)
	spicedbCheck := func(client v1.PermissionsServiceClient, consistency *v1.Consistency) checker {
		return func(ctx context.Context, s sample) (bool, error) {
			c := s.spiceDBCheck()
			resp, err := client.CheckPermission(ctx, &v1.CheckPermissionRequest{
				Consistency: consistency,
				Resource:    &v1.ObjectReference{ObjectType: c.Resource.Type, ObjectId: c.Resource.ID},
				Permission:  c.Permission,
				Subject:     &v1.SubjectReference{Object: &v1.ObjectReference{ObjectType: c.Subject.Type, ObjectId: c.Subject.ID}},
			})
			return resp.GetPermissionship() == v1.CheckPermissionResponse_PERMISSIONSHIP_HAS_PERMISSION, err
		}
	}
	full := &v1.Consistency{Requirement: &v1.Consistency_FullyConsistent{FullyConsistent: true}}
	goAPI := func(domain *tenancy.Service) checker {
		return func(ctx context.Context, s sample) (bool, error) {
			typ, id := s.resource()
			res, _, err := domain.Check(ctx, s.msp, []tenancy.Question{{ResourceType: typ, ResourceID: id, Permission: s.perm(), UserID: s.user}}, "")
			if err != nil {
				return false, err
			}
			return res[0].Allowed, nil
		}
	}
	web := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	authorization := "Bearer " + cfg.Token
	ways := map[string]checker{
		WaySpiceDB:     spicedbCheck(v1.NewPermissionsServiceClient(a.SpiceDB()), full),
		WaySpiceDBMin:  spicedbCheck(v1.NewPermissionsServiceClient(a.SpiceDB()), &v1.Consistency{Requirement: &v1.Consistency_MinimizeLatency{MinimizeLatency: true}}),
		WaySpiceDBGRPC: spicedbCheck(v1.NewPermissionsServiceClient(spicedbConn), full),
		WayGo:          goAPI(a.Domain()),
		WayGoSpiceDB:   goAPI(tenancy.New(spicedb.NewGraph(a.SpiceDB()))),
		WayGRPC: func(ctx context.Context, s sample) (bool, error) {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", authorization)
			typ, id := s.resource()
			resp, err := access.Check(ctx, &pb.CheckRequest{MspId: s.msp, Resource: typ + ":" + id, Permission: s.perm(), Subject: "user:" + s.user})
			return resp.GetAllowed(), err
		},
		WayREST: func(ctx context.Context, s sample) (bool, error) {
			typ, id := s.resource()
			body, _ := json.Marshal(map[string]string{"resource": typ + ":" + id, "permission": s.perm(), "subject": "user:" + s.user})
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+a.HTTPAddr()+"/v1/msps/"+s.msp+"/check", bytes.NewReader(body))
			if err != nil {
				return false, err
			}
			req.Header.Set("Authorization", authorization)
			resp, err := web.Do(req)
			if err != nil {
				return false, err
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				return false, err
			}
			if resp.StatusCode != http.StatusOK {
				return false, fmt.Errorf("REST check: %s: %s", resp.Status, raw)
			}
			var answer struct {
				Allowed bool `json:"allowed"`
			}
			return answer.Allowed, json.Unmarshal(raw, &answer)
		},
	}
	return ways, func() { _ = conn.Close(); _ = spicedbConn.Close(); stopPort(); web.CloseIdleConnections() }, nil
}

// Latency summarizes measured durations.
type Latency struct {
	N             int
	P50, P95, P99 time.Duration
}

func latencyOf(d []time.Duration) Latency {
	slices.Sort(d)
	at := func(q float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		i := int(q*float64(len(d))+0.999999) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return Latency{N: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}
