package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// PermissionWays are the ways a catalog permission is asked, serially.
var PermissionWays = []string{WaySpiceDB, WaySpiceDBMin, WayGo, WayGRPC, WayREST}

// PermissionReport is the catalog's permissions measured: questions drawn
// at random from the whole preset — a user, a customer (or the MSP), and a
// permission of the catalog — asked serially each way, and in bulk.
type PermissionReport struct {
	// Staffing says who holds which role (the preset holds none of its own).
	Staffing string
	Samples  int
	Allowed  float64
	Cells    []CheckCell
	// Bulk is the bulk check: BulkItems mixed questions per call.
	Bulk      []BulkCell
	BulkItems int
}

// BulkCell is one way of asking bulk checks.
type BulkCell struct {
	Way     string
	Calls   int
	Latency Latency
	// PerSecond is items answered per second.
	PerSecond float64
}

// permissionSamples is how many random questions the cells cycle through,
// unless the configuration says.
const permissionSamples = 20_000

// RunPermissions loads the preset, staffs it, and measures only the
// catalog's permissions.
func RunPermissions(ctx context.Context, cfg Config) (*Report, error) {
	r := &Report{Preset: cfg.Preset, Backend: cfg.Backend, Machine: machine(cfg)}
	if err := loadIndexed(ctx, cfg, r); err != nil {
		return nil, err
	}
	var err error
	r.Permissions, err = permissions(ctx, cfg, rand.New(rand.NewPCG(3, 4)))
	return r, err
}

// staff gives the preset's users roles: a third are technicians (the
// built-in role, over their associated customers), one in ten is partner
// staff (over every customer, Login As and the global views), and a third
// are in a helpdesk group scoped to a tenth of the customer groups.
func staff(ctx context.Context, cfg Config, msp string) (string, error) {
	p, d := cfg.Preset, cfg.App.Domain()
	var technicians, partners, helpdesk []string
	for u := range p.Users {
		switch {
		case u%3 == 0:
			technicians = append(technicians, p.User(u))
		case u%10 == 1:
			partners = append(partners, p.User(u))
		case u%3 == 2:
			helpdesk = append(helpdesk, p.User(u))
		}
	}
	var groups []string
	for g := 0; g < p.CustomerGroups; g += 10 {
		groups = append(groups, p.CustomerGroup(g))
	}
	if _, err := d.CreateRole(ctx, msp, tenancy.Role{ID: "helpdesk", DisplayName: "Helpdesk", Permissions: []string{"tickets.create", "tickets.view", "scripts.create", "assets.remote_access"}}); err != nil {
		return "", err
	}
	if _, err := d.CreateSecurityGroup(ctx, msp, tenancy.SecurityGroup{ID: "helpdesk", DisplayName: "Helpdesk", RoleID: "helpdesk", Scope: tenancy.Scope{CustomerGroups: groups}}); err != nil {
		return "", err
	}
	for sg, members := range map[string][]string{"technician": technicians, "partner": partners, "helpdesk": helpdesk} {
		if _, err := d.SetSecurityGroupMembers(ctx, msp, sg, members, tenancy.SaveOptions{}); err != nil {
			return "", fmt.Errorf("members of %s: %w", sg, err)
		}
	}
	return fmt.Sprintf("%d technicians (built-in, associated customers), %d partner staff (every customer), %d in a helpdesk group scoped to %d customer groups",
		len(technicians), len(partners), len(helpdesk), len(groups)), nil
}

// permissions measures catalog permissions each way at concurrency 1 and
// in bulk; every answer must agree with SpiceDB's.
func permissions(ctx context.Context, cfg Config, rng *rand.Rand) (*PermissionReport, error) {
	p := cfg.Preset
	msp := p.MSPID(0)
	staffing, err := staff(ctx, cfg, msp)
	if err != nil {
		return nil, fmt.Errorf("staffing: %w", err)
	}
	if _, err := indexCaughtUp(ctx, cfg); err != nil {
		return nil, err
	}
	rep := &PermissionReport{Staffing: staffing, Samples: cmp.Or(cfg.PermissionSamples, permissionSamples)}
	var customerPerms, mspPerms []catalog.Permission
	for _, c := range catalog.All {
		if c.Level == catalog.MSP {
			mspPerms = append(mspPerms, c)
		} else {
			customerPerms = append(customerPerms, c)
		}
	}
	samples := make([]sample, rep.Samples)
	for i := range samples {
		s := sample{msp: msp, user: p.User(rng.IntN(p.Users)), customer: p.Customer(rng.IntN(p.Customers))}
		perm := customerPerms[rng.IntN(len(customerPerms))]
		if rng.IntN(10) == 0 {
			perm, s.onMSP = mspPerms[rng.IntN(len(mspPerms))], true
		}
		s.permission, s.relation = perm.ID, tenancy.RelationOf(perm)
		samples[i] = s
	}
	g := spicedb.NewGraph(cfg.App.SpiceDB())
	allowed := 0
	for start := 0; start < len(samples); start += tenancy.MaxCheckItems {
		part := samples[start:min(start+tenancy.MaxCheckItems, len(samples))]
		checks := make([]graph.Check, len(part))
		for i, s := range part {
			checks[i] = s.spiceDBCheck()
		}
		answers, _, err := g.Check(ctx, checks, graph.Full())
		if err != nil {
			return nil, err
		}
		for i, a := range answers {
			part[i].allowed = a
			if a {
				allowed++
			}
		}
	}
	rep.Allowed = float64(allowed) / float64(len(samples))
	ways, closeWays, err := checkers(cfg)
	if err != nil {
		return nil, err
	}
	defer closeWays()
	if err := settle(ctx, ways[WaySpiceDBMin], samples[:min(200, len(samples))]); err != nil {
		return nil, err
	}
	for _, way := range PermissionWays {
		cell, err := measure(ctx, cfg, 1, samples, ways[way])
		if err != nil {
			return nil, fmt.Errorf("permission check over %s: %w", way, err)
		}
		cell.Way = way
		cfg.say("permission %-12s: %6d checks, p50 %s p99 %s, %.0f/s", way, cell.Latency.N, cell.Latency.P50, cell.Latency.P99, cell.PerSecond)
		rep.Cells = append(rep.Cells, cell)
	}
	rep.BulkItems = tenancy.MaxCheckItems
	if rep.Bulk, err = bulk(ctx, cfg, samples, rep.BulkItems); err != nil {
		return nil, err
	}
	return rep, nil
}

// settle waits until check (SpiceDB at minimize_latency) answers the
// samples as SpiceDB fully consistent did: it answers at a revision up to
// its quantization window old (5 s by default, and as much again), which
// may not have the staffing yet.
func settle(ctx context.Context, check checker, samples []sample) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		agree := true
		for _, s := range samples {
			allowed, err := check(ctx, s)
			if err != nil {
				return err
			}
			if allowed != s.allowed {
				agree = false
				break
			}
		}
		if agree {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("SpiceDB at minimize_latency still answers otherwise than fully consistent 30 s after the staffing")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// bulk measures bulk checks of items mixed questions: SpiceDB's
// CheckBulkPermissions, the Go API, and gRPC's CheckBulk.
func bulk(ctx context.Context, cfg Config, samples []sample, items int) ([]BulkCell, error) {
	msp := cfg.Preset.MSPID(0)
	conn, err := grpc.NewClient(cfg.App.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	access := pb.NewAccessServiceClient(conn)
	g := spicedb.NewGraph(cfg.App.SpiceDB())
	ways := []struct {
		name string
		ask  func(part []sample) ([]bool, error)
	}{
		{WaySpiceDB, func(part []sample) ([]bool, error) {
			checks := make([]graph.Check, len(part))
			for i, s := range part {
				checks[i] = s.spiceDBCheck()
			}
			allowed, _, err := g.Check(ctx, checks, graph.Full())
			return allowed, err
		}},
		{WayGo, func(part []sample) ([]bool, error) {
			qs := make([]tenancy.Question, len(part))
			for i, s := range part {
				typ, id := s.resource()
				qs[i] = tenancy.Question{ResourceType: typ, ResourceID: id, Permission: s.perm(), UserID: s.user}
			}
			res, _, err := cfg.App.Domain().Check(ctx, msp, qs, "")
			allowed := make([]bool, len(res))
			for i, r := range res {
				allowed[i] = r.Allowed
			}
			return allowed, err
		}},
		{WayGRPC, func(part []sample) ([]bool, error) {
			req := &pb.CheckBulkRequest{MspId: msp}
			for _, s := range part {
				typ, id := s.resource()
				req.Items = append(req.Items, &pb.CheckBulkItem{Resource: typ + ":" + id, Permission: s.perm(), Subject: "user:" + s.user})
			}
			resp, err := access.CheckBulk(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+cfg.Token), req)
			allowed := make([]bool, len(resp.GetResults()))
			for i, r := range resp.GetResults() {
				allowed[i] = r.GetAllowed()
			}
			return allowed, err
		}},
	}
	var out []BulkCell
	for _, way := range ways {
		var durations []time.Duration
		deadline := time.Now().Add(cfg.CellTime)
		start := time.Now()
		for call := 0; call == 0 || time.Now().Before(deadline); call++ {
			if cfg.CellOps > 0 && call*items >= cfg.CellOps {
				break
			}
			from := (call * items) % max(len(samples)-items+1, 1)
			part := samples[from:min(from+items, len(samples))]
			t := time.Now()
			allowed, err := way.ask(part)
			durations = append(durations, time.Since(t))
			if err != nil {
				return nil, fmt.Errorf("bulk check over %s: %w", way.name, err)
			}
			for i, s := range part {
				if allowed[i] != s.allowed {
					return nil, fmt.Errorf("bulk check over %s: %s may %s on %s: answered %v, SpiceDB says %v", way.name, s.user, s.perm(), s.customer, allowed[i], s.allowed)
				}
			}
		}
		elapsed := time.Since(start)
		lat := latencyOf(durations)
		cell := BulkCell{Way: way.name, Calls: lat.N, Latency: lat, PerSecond: float64(lat.N*items) / elapsed.Seconds()}
		cfg.say("bulk %-8s: %d calls of %d, p50 %s, %.0f items/s", way.name, cell.Calls, items, lat.P50, cell.PerSecond)
		out = append(out, cell)
	}
	return out, nil
}

// permissionsMarkdown writes the catalog permissions' table.
func (r *Report) permissionsMarkdown(w io.Writer) {
	pr := r.Permissions
	fmt.Fprintf(w, "**Catalog permissions**, %d random questions drawn from the whole preset (a user, a customer or the MSP, one of the catalog's permissions; %.0f%% allowed), asked serially one way after the other, each answer checked against SpiceDB's. Staffing: %s. "+
		"`spicedb` is SpiceDB's CheckPermission of the same permission, fully consistent, `spicedb-min` the same at minimize_latency; the rest as in the access table.\n\n",
		pr.Samples, pr.Allowed*100, pr.Staffing)
	fmt.Fprintln(w, "| way | checks | p50 | p99 | per second | p50 vs spicedb | p50 vs spicedb-min |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	p50 := map[string]time.Duration{}
	for _, c := range pr.Cells {
		p50[c.Way] = c.Latency.P50
	}
	for _, c := range pr.Cells {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f | %s | %s |\n", c.Way, c.Latency.N, c.Latency.P50, c.Latency.P99, c.PerSecond,
			times(p50[WaySpiceDB], c.Latency.P50), times(p50[WaySpiceDBMin], c.Latency.P50))
	}
	fmt.Fprintf(w, "\n**Bulk check** of %d mixed questions per call:\n\n", pr.BulkItems)
	fmt.Fprintln(w, "| way | calls | p50 per call | items per second |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, b := range pr.Bulk {
		fmt.Fprintf(w, "| %s | %d | %s | %.0f |\n", b.Way, b.Calls, b.Latency.P50, b.PerSecond)
	}
	fmt.Fprintln(w)
}

// times is how many times faster than base d is ("12.3×").
func times(base, d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f×", ratio(base, d))
}
