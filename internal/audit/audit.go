// Package audit keeps the audit trail: every admin call that writes, every
// Login As and every denied attempt, stored as relationships of SpiceDB (so it
// lives, and survives restarts, wherever the relationships do), each linked to
// the customers it touched, whose own trail it is then part of. It is append
// only: nothing edits or deletes an event.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Event is one entry of the audit trail.
type Event struct {
	ID   string    `json:"eventId"`
	Time time.Time `json:"time"`
	MSP  string    `json:"mspId"`
	// Actor is the user whose rights the call had (a user token's user, or
	// the user a service token acted for), or "platform" or "service".
	Actor string `json:"actor"`
	// Token is the id of the token the call came with ("platform" for the bootstrap token).
	Token string `json:"tokenId"`
	// OnBehalfOf is set when a service token acted for a user.
	OnBehalfOf string `json:"onBehalfOf,omitempty"`
	Action     string `json:"action"`
	Target     string `json:"target"`
	// Outcome is "OK", "PREVIEW" (a validateOnly call that wrote nothing),
	// or the error's code and message.
	Outcome  string `json:"outcome"`
	ZedToken string `json:"zedToken,omitempty"`
	// Customers are the customers of MSP the call touched (ids local to
	// it): the event is in each one's own trail (Query.Customer).
	Customers []string `json:"-"`
}

// otherCustomers finds the customer ids an event's target and outcome name:
// "customer:<id>", `customer "<id>"`, and the count of those left out.
var otherCustomers = regexp.MustCompile(`customer:([a-z0-9][a-z0-9_-]*)|customer "([^"]*)"|\(and \d+ more customers\)`)

// seenBy is the event as customer's own trail shows it: it names no other
// customer (what a call did to others is theirs to see), in its target or
// in its outcome's message.
func (e Event) seenBy(customer string) Event {
	redact := func(text string) string {
		return otherCustomers.ReplaceAllStringFunc(text, func(m string) string {
			sub := otherCustomers.FindStringSubmatch(m)
			switch {
			case sub[1] == customer || sub[2] == customer:
				return m
			case sub[1] != "":
				return ""
			case strings.HasPrefix(m, "customer "):
				return "another customer"
			}
			return ""
		})
	}
	target := strings.Fields(redact(e.Target))
	if !slices.Contains(target, "customer:"+customer) {
		target = append(target, "customer:"+customer) // one of those its target left out
	}
	e.Target = strings.Join(target, " ")
	e.Outcome = redact(e.Outcome)
	e.Customers = nil
	return e
}

// The outcomes of calls that succeeded.
const (
	OutcomeOK      = "OK"
	OutcomePreview = "PREVIEW"
)

const (
	typeEvent    = "audit_event"
	typeMSP      = "msp"
	typeCustomer = "customer"
	relMSP       = "msp"
	relCustomer  = "customer"
	attrEvent    = "event"
	// linksPerWrite bounds the relationships one write of an event carries.
	linksPerWrite = 1000
	// readParallelism bounds the events of a customer's trail read at once.
	readParallelism = 8
)

// Log records and reads the audit trail.
type Log struct {
	graph graph.Graph
	now   func() time.Time
}

// New returns a Log over g.
func New(g graph.Graph) *Log { return &Log{graph: g, now: time.Now} }

// eventID is sortable by time: nanoseconds since the epoch, then randomness.
func eventID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%016x%s", t.UnixNano(), hex.EncodeToString(r[:]))
}

// Record appends e to msp's trail, stamping its time and id, and links it to
// each of its customers (audit_event#customer): in the same write as the
// event, or, past linksPerWrite, in the writes that follow it.
func (l *Log) Record(ctx context.Context, e Event) (Event, error) {
	e.Time = l.now().UTC()
	e.ID = eventID(e.Time)
	raw, err := json.Marshal(e)
	if err != nil {
		return e, fault.Wrap(err, fault.Internal, "encode audit event")
	}
	event := graph.Object{Type: typeEvent, ID: e.MSP + "/" + e.ID}
	updates := []graph.Update{{Op: graph.Create, Relationship: graph.Rel(event, relMSP, graph.Object{Type: typeMSP, ID: e.MSP}).
		WithAttributes(map[string]string{attrEvent: string(raw)})}}
	for _, c := range e.Customers {
		updates = append(updates, graph.Update{Op: graph.Create, Relationship: graph.Rel(event, relCustomer, graph.Object{Type: typeCustomer, ID: e.MSP + "/" + c})})
	}
	for len(updates) > 0 {
		n := min(len(updates), linksPerWrite)
		if _, err := l.graph.Write(ctx, updates[:n], nil); err != nil {
			return e, err
		}
		updates = updates[n:]
	}
	return e, nil
}

// Query selects events; empty fields select everything.
type Query struct {
	// Customer selects the events that touched this customer: its own trail.
	Customer string
	Actor    string
	Target   string
	Action   string
	Since    time.Time
	Until    time.Time
}

func (q Query) matches(e Event) bool {
	return (q.Actor == "" || q.Actor == e.Actor || q.Actor == e.OnBehalfOf) &&
		(q.Target == "" || strings.Contains(e.Target, q.Target)) &&
		(q.Action == "" || q.Action == e.Action) &&
		(q.Since.IsZero() || !e.Time.Before(q.Since)) &&
		(q.Until.IsZero() || e.Time.Before(q.Until))
}

// Page sizes of the trail.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// List returns, oldest first, up to size events of msp that q selects after
// the page token (0: DefaultPageSize), and the token of the next page ("" at
// the end). Every page reads at the first page's revision.
func (l *Log) List(ctx context.Context, msp string, q Query, size int, token string) ([]Event, string, error) {
	if size < 0 || size > MaxPageSize {
		return nil, "", fault.New(fault.Invalid, "pageSize: %d is outside 0..%d", size, MaxPageSize)
	}
	if size == 0 {
		size = DefaultPageSize
	}
	var tok graph.PageToken
	if token != "" {
		var err error
		if tok, err = graph.DecodePageToken(token); err != nil {
			return nil, "", err
		}
	} else {
		_, rev, err := l.graph.Check(ctx, nil, graph.Full())
		if err != nil {
			return nil, "", err
		}
		tok.Revision = rev
	}
	filter := graph.Filter{ResourceType: typeEvent, ResourceIDPrefix: msp + "/", Relation: relMSP}
	if q.Customer != "" {
		filter.Relation, filter.SubjectType, filter.SubjectID = relCustomer, typeCustomer, msp+"/"+q.Customer
	}
	var out []Event
	for len(out) < size {
		// Each read asks for no more than are still wanted: every event read
		// can be kept, so the cursor never skips one.
		rels, next, _, err := l.graph.ReadPage(ctx, filter, graph.At(tok.Revision), uint32(size-len(out)), tok.Cursor)
		if err != nil {
			return nil, "", graph.ContinuationError(err, tok)
		}
		if q.Customer != "" {
			if rels, err = l.eventsOf(ctx, rels, tok.Revision); err != nil {
				return nil, "", err
			}
		}
		for _, r := range rels {
			var e Event
			if err := json.Unmarshal([]byte(r.Attribute(attrEvent)), &e); err != nil {
				return nil, "", fault.Wrap(err, fault.Internal, "decode audit event %s", r.Resource.ID)
			}
			if q.Customer != "" {
				e = e.seenBy(q.Customer)
			}
			if q.matches(e) {
				out = append(out, e)
			}
		}
		tok.Cursor = next
		if next == "" {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if tok.Cursor == "" {
		return out, "", nil
	}
	return out, tok.Encode(), nil
}

// eventsOf reads, at rev, the event relationships of the events that links
// (audit_event#customer) point from, in their order.
func (l *Log) eventsOf(ctx context.Context, links []graph.Relationship, rev graph.Revision) ([]graph.Relationship, error) {
	events := make([][]graph.Relationship, len(links))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(readParallelism)
	for i, link := range links {
		g.Go(func() error {
			rels, _, err := l.graph.Read(ctx, graph.Filter{ResourceType: typeEvent, ResourceID: link.Resource.ID, Relation: relMSP}, graph.At(rev))
			events[i] = rels
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []graph.Relationship
	for _, rels := range events {
		out = append(out, rels...)
	}
	return out, nil
}
