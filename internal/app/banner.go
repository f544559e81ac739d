package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/signin"
	"github.com/mspauthz/mspauthz/internal/spicedb"
)

// SpiceDBVersion is the version of SpiceDB this build embeds and speaks to,
// from the build info.
func SpiceDBVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/authzed/spicedb" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

// banner is what the service tells people at start-up, besides its JSON
// log: where each API listens, which SpiceDB and datastore serve, what was
// loaded, where the platform token comes from, and the reachability index's
// state once it is built. A nil banner tells nothing.
type banner struct {
	w       io.Writer
	version string
	// facts are what Complete learned, in order: a name and a sentence.
	facts [][2]string
	// index is told when the reachability index is first live (nil when
	// it is off).
	index *indexWatch
	// width is the width of the facts' names.
	width int
}

// newBanner returns the banner of c, or nil when c has none.
func (c Config) newBanner() *banner {
	if c.Banner == nil {
		return nil
	}
	b := &banner{w: c.Banner, version: c.Version}
	b.add("datastore", "%s", c.datastoreSummary())
	return b
}

// add records a fact under name.
func (b *banner) add(name, format string, args ...any) {
	if b != nil {
		b.facts = append(b.facts, [2]string{name, fmt.Sprintf(format, args...)})
	}
}

// datastoreSummary says which SpiceDB, on which datastore.
func (c Config) datastoreSummary() string {
	switch {
	case len(c.Remote.Endpoints) > 0:
		transport := "TLS"
		if c.Remote.Insecure {
			transport = "plaintext"
		}
		return fmt.Sprintf("a SpiceDB cluster at %s (%s; its datastore engine: %s)", strings.Join(c.Remote.Endpoints, ", "), transport, c.Remote.Engine)
	case c.Datastore != "":
		return fmt.Sprintf("embedded SpiceDB %s on PostgreSQL %s", SpiceDBVersion(), spicedb.Redact(c.Datastore))
	}
	return fmt.Sprintf("embedded SpiceDB %s in memory: everything is lost at exit (--datastore keeps it)", SpiceDBVersion())
}

// fixtures records what a fixtures file loaded.
func (b *banner) fixtures(file string, l fixtures.Loaded) {
	s := fmt.Sprintf("%s: %s with %d users, %d customers, %d customer groups", file, msps(l.MSPs), l.Users, l.Customers, l.CustomerGroups)
	if len(l.Skipped) > 0 {
		s += fmt.Sprintf("; %s left as they are (they exist already)", msps(l.Skipped))
	}
	b.add("loaded", "%s", s)
}

// preset records what a preset imported.
func (b *banner) preset(p fixtures.Preset, skipped []string) {
	s := fmt.Sprintf("preset %s: %d MSPs (%s…%s) with %d users, %d customers, %d customer groups each",
		p.Name, p.MSPs, p.MSPID(0), p.MSPID(p.MSPs-1), p.Users+1, p.Customers, p.CustomerGroups)
	if p.MSPs == 1 {
		s = fmt.Sprintf("preset %s: msp %s with %d users, %d customers, %d customer groups", p.Name, p.MSPID(0), p.Users+1, p.Customers, p.CustomerGroups)
	}
	if len(skipped) > 0 {
		s += fmt.Sprintf("; %d of them left as they are (they exist already)", len(skipped))
	}
	b.add("loaded", "%s", s)
}

// signIn records where people sign in, the callback URL to register at
// identity providers, whether the demo sign-in is on, and how long
// sessions last.
func (b *banner) signIn(page, callback string, demo signin.Demo, sessions *auth.Sessions) {
	s := fmt.Sprintf("%s  (identity providers: PUT /v1/msps/{msp}/identityProvider, callback %s; sessions end %s unused, %s after sign-in", page, callback, short(sessions.IdleTimeout()), short(sessions.MaxAge()))
	switch {
	case demo.Offered() && demo.Enabled:
		s += "; demo sign-in on"
	case demo.Offered():
		s += "; demo sign-in off: --demo-sign-in allows it off loopback"
	}
	b.add("sign in", "%s)", s)
}

// short writes a duration without its zero units: 30m, 12h, 1h30m.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func msps(ids []string) string {
	if len(ids) == 1 {
		return "msp " + ids[0]
	}
	return fmt.Sprintf("%d MSPs (%s)", len(ids), strings.Join(ids, ", "))
}

// watchIndex returns the observer of the reachability index: obs, which the
// banner also listens to.
func (b *banner) watchIndex(obs reach.Observer) reach.Observer {
	if b == nil {
		return obs
	}
	b.index = &indexWatch{Observer: obs, started: time.Now(), live: make(chan struct{})}
	return b.index
}

// print writes the banner, in one write: the addresses of a, then the facts.
func (b *banner) print(a *App) {
	if b == nil {
		return
	}
	httpAddr, everywhere := loopback(a.HTTPAddr())
	grpcAddr, grpcEverywhere := loopback(a.GRPCAddr())
	rest := "http://" + httpAddr
	index := "off (--index=false): SpiceDB answers every question"
	if b.index != nil {
		index = "building from a snapshot; SpiceDB answers until it is live"
	}
	facts := append([][2]string{
		{"console", rest + "/  (open it in a browser; it sends you to sign in)"},
		{"REST API", rest + "/v1/…  (Authorization: Bearer <token>)"},
		{"OpenAPI", rest + "/openapi.json"},
		{"gRPC API", grpcAddr + "  (mspauthz.v1, plaintext)"},
		{"metrics", rest + "/metrics  (health: /healthz, /readyz)"},
	}, b.facts...)
	facts = append(facts,
		[2]string{"index", index},
		[2]string{"try", "MSPAUTHZ_TOKEN=<token> mspauthz reach --url " + rest + " --msp MSP --user USER  (mspauthz --help: every command)"})
	if everywhere || grpcEverywhere {
		facts = append(facts, [2]string{"", "(listening on every interface of this host: the addresses above are its loopback)"})
	}
	for _, f := range facts {
		b.width = max(b.width, len(f[0]))
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "mspauthz %s is serving\n", b.version)
	for _, f := range facts {
		b.line(&buf, f[0], f[1])
	}
	_, _ = b.w.Write(buf.Bytes())
}

// loopback is the address a client on this host connects to for a
// listener's address, and whether the listener is on every interface.
func loopback(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !net.ParseIP(host).IsUnspecified() {
		return addr, false
	}
	return net.JoinHostPort("127.0.0.1", port), true
}

// line writes one fact, its name padded to the banner's width.
func (b *banner) line(w io.Writer, name, fact string) {
	fmt.Fprintf(w, "  %-*s  %s\n", b.width, name, fact)
}

// announceIndex tells, once the reachability index is first live, what it
// holds and how long it took; it gives up when ctx is done.
func (b *banner) announceIndex(ctx context.Context, index *reach.Index[spicedb.Revision]) {
	if b == nil || b.index == nil {
		return
	}
	select {
	case <-ctx.Done():
	case <-b.index.live:
		st := index.Status()
		var buf bytes.Buffer
		b.line(&buf, "index", fmt.Sprintf("live: %d relationships, built in %s",
			st.Relationships, b.index.built.Round(time.Millisecond)))
		_, _ = b.w.Write(buf.Bytes())
	}
}

// indexWatch is an observer of the reachability index that notes when it is
// first live.
type indexWatch struct {
	reach.Observer
	started time.Time
	once    sync.Once
	built   time.Duration
	live    chan struct{}
}

// State passes the state on, and closes live the first time it is Live.
func (w *indexWatch) State(s reach.State) {
	w.Observer.State(s)
	if s == reach.Live {
		w.once.Do(func() {
			w.built = time.Since(w.started)
			close(w.live)
		})
	}
}
