package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// residentMemory is the process's resident set and its high-water mark, in
// bytes, from /proc/self/status (0 where there is no /proc).
func residentMemory() (rss, peak int64) {
	raw, _ := os.ReadFile("/proc/self/status")
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return rss, peak
}

func machine(cfg Config) Machine {
	m := Machine{
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		StartedAt: time.Now().UTC(), CellTime: cfg.CellTime, CellOps: cfg.CellOps, ListingSamples: cfg.ListingSamples,
		SaveRounds: cfg.SaveRounds, SpiceDB: "as go.mod pins it",
	}
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(raw)) {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			m.CPU = strings.TrimSpace(value)
			break
		}
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/authzed/spicedb" {
				m.SpiceDB = dep.Version
			}
		}
	}
	return m
}

// cell finds the check of a way at a concurrency.
func (r *Report) cell(way string, concurrency int) (CheckCell, bool) {
	for _, c := range r.Checks {
		if c.Way == way && c.Concurrency == concurrency {
			return c, true
		}
	}
	return CheckCell{}, false
}

// CheckRatio is a way's p50 latency over another's at a concurrency, and its
// throughput over the other's.
func (r *Report) CheckRatio(way, base string, concurrency int) (latency, throughput float64) {
	a, ok1 := r.cell(way, concurrency)
	b, ok2 := r.cell(base, concurrency)
	if !ok1 || !ok2 || b.Latency.P50 == 0 || b.PerSecond == 0 {
		return 0, 0
	}
	return float64(a.Latency.P50) / float64(b.Latency.P50), a.PerSecond / b.PerSecond
}

// Markdown writes the report as the tables of BENCHMARKS.md, ratios first.
func (r *Report) Markdown(w io.Writer) {
	p, m, l := r.Preset, r.Machine, r.Load
	fmt.Fprintf(w, "### Preset `%s` on %s\n\n", p.Name, r.Backend)
	fmt.Fprintf(w, "%d MSP(s) × %d customers, %d customer groups (%d–%d customers each), %d users (in %d–%d groups each). "+
		"Run %s on %s, %d CPUs (%s), %s, %s, SpiceDB %s.\n\n",
		p.MSPs, p.Customers, p.CustomerGroups, p.GroupSize[0], p.GroupSize[1], p.Users, p.UserGroups[0], p.UserGroups[1],
		m.StartedAt.Format("2006-01-02 15:04 UTC"), orUnknown(m.CPU), m.CPUs, m.OS, m.GoVersion, r.Backend, m.SpiceDB)

	fmt.Fprintf(w, "**Load and memory.** %d relationships imported in bulk in %s (%.0f per second). "+
		"Resident memory of the process (service, embedded SpiceDB and driver) after the import: %s, %s more than before it (%s per million relationships); peak %s; Go heap in use %s",
		l.Relationships, l.Took.Round(time.Millisecond), float64(l.Relationships)/l.Took.Seconds(),
		mib(l.RSS), mib(l.RSS-l.RSSBefore), mib(perMillion(l.RSS-l.RSSBefore, l.Relationships)), mib(l.PeakRSS), mib(l.Heap))
	if l.DatastoreBytes > 0 {
		fmt.Fprintf(w, "; PostgreSQL database %s (%s per million relationships)", mib(l.DatastoreBytes), mib(perMillion(l.DatastoreBytes, l.Relationships)))
	}
	fmt.Fprintf(w, ". The live Go heap peaked at %s from the import's start until the index (when on) had applied it, %.2f× the %s live once it had.\n\n",
		mib(l.PeakHeap), float64(l.PeakHeap)/float64(max(l.SteadyHeap, 1)), mib(l.SteadyHeap))

	if len(r.Checks) > 0 {
		r.checksMarkdown(w)
	}
	if r.Permissions != nil {
		r.permissionsMarkdown(w)
	}
	if len(r.Listings) > 0 {
		r.listingsMarkdown(w)
	}
	r.indexMarkdown(w)
	if len(r.Saves) > 0 {
		r.savesMarkdown(w)
	}
	r.consoleMarkdown(w)
}

// checksMarkdown writes the customer-access check, way by way.
func (r *Report) checksMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "**Customer-access check**, random pairs (%.0f%% allowed), each answer checked against SpiceDB's; each cell %s", r.Allowed*100, m.CellTime)
	if m.CellOps > 0 {
		fmt.Fprintf(w, " or %d checks", m.CellOps)
	}
	fmt.Fprint(w, ". Each way is compared with its baseline at the same concurrency (p50 latency; throughput): "+
		"`spicedb` is SpiceDB's own CheckPermission on the service's in-process SpiceDB connection, `spicedb-grpc` the same over loopback TCP "+
		"(the embedded server's gRPC API on a port, as a standalone SpiceDB serves it); `go-api` is mspauthz in process (answered by its reachability index when it is on), "+
		"`go-api-spicedb` the same with no index (SpiceDB answers, paths read from SpiceDB), `grpc` and `rest` mspauthz's APIs over loopback.\n\n")
	fmt.Fprintln(w, "| way | baseline | concurrency | p50 ÷ baseline | throughput ÷ baseline | p50 | p95 | p99 | checks/s | checks |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range r.Checks {
		lat, thr := r.CheckRatio(c.Way, Baselines[c.Way], c.Concurrency)
		fmt.Fprintf(w, "| %s | %s | %d | %.3f | %.2f | %s | %s | %s | %.0f | %d |\n", c.Way, Baselines[c.Way], c.Concurrency, lat, thr,
			dur(c.Latency.P50), dur(c.Latency.P95), dur(c.Latency.P99), c.PerSecond, c.Latency.N)
	}
	fmt.Fprintln(w)

}

// listingsMarkdown writes the listings beside SpiceDB's lookups.
func (r *Report) listingsMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "**Listings**, %d random users and %d random customers, mspauthz (with every path named) and SpiceDB's lookup alternating on each; both found as many results every time.\n\n", m.ListingSamples, m.ListingSamples)
	fmt.Fprintln(w, "| listing | by | p50 ÷ SpiceDB | p50 | p95 | mean results |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for i, ls := range r.Listings {
		base := r.Listings[i|1].Latency.P50 // SpiceDB's follows mspauthz's
		fmt.Fprintf(w, "| %s | %s | %.3f | %s | %s | %.0f |\n", ls.What, ls.By, ratio(ls.Latency.P50, base), dur(ls.Latency.P50), dur(ls.Latency.P95), ls.Results)
	}
	fmt.Fprintln(w)

}

// indexMarkdown writes the reachability index, when it was on.
func (r *Report) indexMarkdown(w io.Writer) {
	if x := r.Index; x.On && x.Lag.N > 0 { // measured (RunPermissions and RunConsole only wait for its catch-up)
		fmt.Fprintf(w, "**Reachability index.** It applied the import %s after it ended (%s per million relationships). It holds %d relationships; "+
			"its own estimate of its memory is %s (%d bytes per relationship). A second index built anew from a snapshot at the end of the run took %s (%s per million relationships) and holds %s of Go heap "+
			"(%d bytes per relationship; %s at most while it was built, %.2f× that). Lag from a write's acknowledgement to the index's applying it, over %d writes one at a time: p50 %s, p95 %s, p99 %s.\n\n",
			x.CaughtUp.Round(time.Millisecond), time.Duration(perMillion(int64(x.CaughtUp), x.Relationships)).Round(time.Millisecond), x.Relationships, mib(x.EstimatedBytes), perRel(x.EstimatedBytes, x.Relationships),
			x.BuildTook.Round(time.Millisecond), time.Duration(perMillion(int64(x.BuildTook), x.Relationships)).Round(time.Millisecond), mib(x.HeapBytes), perRel(x.HeapBytes, x.Relationships),
			mib(x.BuildPeakBytes), float64(x.BuildPeakBytes)/float64(max(x.HeapBytes, 1)), x.Lag.N, dur(x.Lag.P50), dur(x.Lag.P95), dur(x.Lag.P99))
		fmt.Fprintln(w, "| preset | relationships | bytes / relationship (estimate; heap of a build anew) | build anew | catch-up after the import | peak live heap ÷ steady (import; build anew) |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		fmt.Fprintf(w, "| %s | %d | %d; %d | %s | %s | %.2f; %.2f |\n\n", r.Preset.Name, x.Relationships, perRel(x.EstimatedBytes, x.Relationships), perRel(x.HeapBytes, x.Relationships),
			x.BuildTook.Round(time.Millisecond), x.CaughtUp.Round(time.Millisecond),
			float64(r.Load.PeakHeap)/float64(max(r.Load.SteadyHeap, 1)), float64(x.BuildPeakBytes)/float64(max(x.HeapBytes, 1)))
	}

}

// savesMarkdown writes the form saves, size by size.
func (r *Report) savesMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "**Form save** (Edit Customer Group on a fresh group amid the preset's data, alternately selecting and dropping its customers; %d saves a size), with the report proved by SpiceDB at the write's revision. Ratios are to the save of 100 pairs.\n\n", 2*m.SaveRounds)
	fmt.Fprintln(w, "| pairs | users × customers | time per pair ÷ at 100 | time per pair | time per save | SpiceDB calls per save | calls per distinct user or customer |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|")
	var at100 time.Duration
	for _, s := range r.Saves {
		if s.Pairs == 100 {
			at100 = s.PerPair()
		}
	}
	for _, s := range r.Saves {
		fmt.Fprintf(w, "| %d | %d × %d | %s | %s | %s | %.0f | %.2f |\n", s.Pairs, s.Users, s.Customers, ratioOrDash(s.PerPair(), at100),
			us(s.PerPair()), ms(s.Took), s.Calls, s.Calls/float64(s.Users+s.Customers))
	}
	fmt.Fprintln(w)
}

// consoleMarkdown writes the console's pages, when they were measured.
func (r *Report) consoleMarkdown(w io.Writer) {
	c := r.Console
	if c == nil {
		return
	}
	fmt.Fprintf(w, "**Console pages**, each over loopback HTTP in the MSP owner's session (the server's time and the driver's reading of the page), asked once and then timed %d times: "+
		"customer `%s` (%d users reach it), user `%s` (he reaches %d customers), a preview cutting %d pairs. The target is the issue's bound of server time.\n\n",
		c.Rounds, c.Customer, c.Reachers, c.User, c.Reaches, c.PreviewPairs)
	fmt.Fprintln(w, "| page | request | p50 | p95 | target | p50 ÷ target | HTML |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	for _, p := range c.Pages {
		target, share := "—", "—"
		if p.Target > 0 {
			target, share = ms(p.Target), fmt.Sprintf("%.2f", float64(p.Latency.P50)/float64(p.Target))
		}
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s | %d KiB |\n", p.What, p.Request, ms(p.Latency.P50), ms(p.Latency.P95), target, share, p.Bytes>>10)
	}
	fmt.Fprintln(w)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown CPU"
	}
	return s
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func ratioOrDash(a, b time.Duration) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", ratio(a, b))
}

// perMillion is an amount (bytes, nanoseconds) per million relationships.
func perMillion(amount int64, rels int) int64 {
	if rels == 0 {
		return 0
	}
	return int64(float64(amount) * 1e6 / float64(rels))
}

func perRel(bytes int64, rels int) int64 {
	if rels == 0 {
		return 0
	}
	return bytes / int64(rels)
}

// dur is a duration in µs below a millisecond, else in ms.
func dur(d time.Duration) string {
	if d < time.Millisecond {
		return us(d)
	}
	return ms(d)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
