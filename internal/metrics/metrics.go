// Package metrics keeps the Prometheus metrics of one mspauthz process:
// every API call (count and latency, by method and code), every call to
// SpiceDB (latency, by SpiceDB method and code), form saves (by form and
// outcome), guard refusals (by method) and the reachability index (events,
// state, lag, size). They are served at /metrics.
package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/internal/reach"
)

// Metrics are one process's collectors, in a registry of their own (so that
// tests may run several servers in one process).
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	spicedb  *prometheus.HistogramVec
	saves    *prometheus.CounterVec
	refusals *prometheus.CounterVec
	isSave   func(method string, req any) bool
}

// New returns the collectors; isSave tells which API calls (a method and its
// request) save a form.
func New(isSave func(method string, req any) bool) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		isSave:   isSave,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mspauthz_requests_seconds",
			Help:    "API calls (gRPC, and REST through the gateway) by method and gRPC code: count and latency.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method", "code"}),
		spicedb: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mspauthz_spicedb_call_seconds",
			Help:    "Calls mspauthz makes to SpiceDB, by SpiceDB method and gRPC code (streams: until the last message).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 18),
		}, []string{"method", "code"}),
		saves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mspauthz_form_saves_total",
			Help: "Form saves and other writes (not their validateOnly previews), by form and outcome (OK, or the gRPC code of the refusal).",
		}, []string{"form", "outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mspauthz_guard_refusals_total",
			Help: "Saves a guard refused (FAILED_PRECONDITION: nothing was written), by method.",
		}, []string{"method"}),
	}
	m.registry.MustRegister(m.requests, m.spicedb, m.saves, m.refusals,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

func shortName(method string) string { return method[strings.LastIndex(method, "/")+1:] }

// UnaryServerInterceptor observes every unary API call. Put it first in the
// chain: it sees the final status.
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observe(info.FullMethod, req, err, start)
		return resp, err
	}
}

// StreamServerInterceptor observes every streaming API call (the change
// feed) when it ends. Put it first in the chain: it sees the final status.
func (m *Metrics) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		m.observe(info.FullMethod, nil, err, start)
		return err
	}
}

// observe records an API call of req (nil for a stream) that started at
// start and ended with err.
func (m *Metrics) observe(fullMethod string, req any, err error, start time.Time) {
	code := status.Code(err)
	method := shortName(fullMethod)
	m.requests.WithLabelValues(method, code.String()).Observe(time.Since(start).Seconds())
	if m.isSave(fullMethod, req) {
		m.saves.WithLabelValues(method, code.String()).Inc()
	}
	if code == codes.FailedPrecondition {
		m.refusals.WithLabelValues(method).Inc()
	}
}

// SpiceDBDialOptions time every call on a connection to SpiceDB.
func (m *Metrics) SpiceDBDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			start := time.Now()
			err := invoker(ctx, method, req, reply, cc, opts...)
			m.spicedb.WithLabelValues(shortName(method), status.Code(err).String()).Observe(time.Since(start).Seconds())
			return err
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			start := time.Now()
			s, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				m.spicedb.WithLabelValues(shortName(method), status.Code(err).String()).Observe(time.Since(start).Seconds())
				return nil, err
			}
			return &timedStream{ClientStream: s, done: func(err error) {
				m.spicedb.WithLabelValues(shortName(method), status.Code(err).String()).Observe(time.Since(start).Seconds())
			}}, nil
		}),
	}
}

// timedStream reports once, when the stream ends (io.EOF is success).
type timedStream struct {
	grpc.ClientStream
	done     func(error)
	reported bool
}

func (s *timedStream) RecvMsg(msg any) error {
	err := s.ClientStream.RecvMsg(msg)
	if err != nil && !s.reported {
		s.reported = true
		if err == io.EOF {
			s.done(nil)
		} else {
			s.done(err)
		}
	}
	return err
}

// Index is the observer of the reachability index (reach.Observer): its
// events (answers, fallbacks to SpiceDB, faults, rebuilds, verifications
// and mismatches), state, lag and size.
type Index struct {
	events *prometheus.CounterVec
	// counters are events' counters by name: an answer counts one, and
	// resolving its label on every answer costs more than the answer.
	counters      sync.Map // string → prometheus.Counter
	state         *prometheus.GaugeVec
	lag           prometheus.Histogram
	relationships prometheus.Gauge
	bytes         prometheus.Gauge
}

// Index returns the index's collectors, registered with the process's.
func (m *Metrics) Index() *Index {
	x := &Index{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mspauthz_index_events_total",
			Help: "What the reachability index did: answered, fallback_* (SpiceDB answered), stale_* (a fault), built, resumed, verified, mismatch, verify_failed, verify_dropped.",
		}, []string{"event"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mspauthz_index_state",
			Help: "1 for the reachability index's state (building, live, stale, stopped), 0 for the others.",
		}, []string{"state"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mspauthz_index_lag_seconds",
			Help:    "Time from a change's commit in SpiceDB to its application in the reachability index.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		relationships: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mspauthz_index_relationships", Help: "Relationships the reachability index holds."}),
		bytes:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "mspauthz_index_bytes", Help: "Estimated memory the reachability index holds."}),
	}
	m.registry.MustRegister(x.events, x.state, x.lag, x.relationships, x.bytes)
	return x
}

// Event implements reach.Observer.
func (x *Index) Event(name string) {
	c, ok := x.counters.Load(name)
	if !ok {
		c, _ = x.counters.LoadOrStore(name, x.events.WithLabelValues(name))
	}
	c.(prometheus.Counter).Inc()
}

// State implements reach.Observer.
func (x *Index) State(s reach.State) {
	for _, st := range []reach.State{reach.Building, reach.Live, reach.Stale, reach.Stopped} {
		v := 0.0
		if st == s {
			v = 1
		}
		x.state.WithLabelValues(string(st)).Set(v)
	}
}

// Lag implements reach.Observer.
func (x *Index) Lag(d time.Duration) { x.lag.Observe(d.Seconds()) }

// Size implements reach.Observer.
func (x *Index) Size(relationships int, bytes int64) {
	x.relationships.Set(float64(relationships))
	x.bytes.Set(float64(bytes))
}
