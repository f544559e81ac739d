// Package audit keeps the audit trail: every admin call that writes, every
// Login As and every denied attempt, stored as relationships of SpiceDB (so it
// lives, and survives restarts, wherever the relationships do). It is append
// only: nothing edits or deletes an event.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Event is one entry of the audit trail.
type Event struct {
	ID   string    `json:"eventId"`
	Time time.Time `json:"time"`
	MSP  string    `json:"mspId"`
	// Actor is the user whose rights the call had, or "platform" or "service".
	Actor string `json:"actor"`
	// Token is the id of the token the call came with ("platform" for the bootstrap token).
	Token string `json:"tokenId"`
	// OnBehalfOf is set when a service token acted for a user.
	OnBehalfOf string `json:"onBehalfOf,omitempty"`
	Action     string `json:"action"`
	Target     string `json:"target"`
	// Outcome is "OK", or the error's code and message.
	Outcome  string `json:"outcome"`
	ZedToken string `json:"zedToken,omitempty"`
}

const (
	typeEvent = "audit_event"
	typeMSP   = "msp"
	relMSP    = "msp"
	attrEvent = "event"
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

// Record appends e to msp's trail, stamping its time and id.
func (l *Log) Record(ctx context.Context, e Event) (Event, error) {
	e.Time = l.now().UTC()
	e.ID = eventID(e.Time)
	raw, err := json.Marshal(e)
	if err != nil {
		return e, fault.Wrap(err, fault.Internal, "encode audit event")
	}
	rel := graph.Rel(graph.Object{Type: typeEvent, ID: e.MSP + "/" + e.ID}, relMSP, graph.Object{Type: typeMSP, ID: e.MSP}).
		WithAttributes(map[string]string{attrEvent: string(raw)})
	_, err = l.graph.Write(ctx, []graph.Update{{Op: graph.Create, Relationship: rel}}, nil)
	return e, err
}

// Query selects events; empty fields select everything.
type Query struct {
	Actor  string
	Target string
	Action string
	Since  time.Time
	Until  time.Time
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
	var out []Event
	for len(out) < size {
		// Each read asks for no more than are still wanted: every event read
		// can be kept, so the cursor never skips one.
		rels, next, _, err := l.graph.ReadPage(ctx, filter, graph.At(tok.Revision), uint32(size-len(out)), tok.Cursor)
		if err != nil {
			return nil, "", graph.ContinuationError(err, tok)
		}
		for _, r := range rels {
			var e Event
			if err := json.Unmarshal([]byte(r.Attribute(attrEvent)), &e); err != nil {
				return nil, "", fault.Wrap(err, fault.Internal, "decode audit event %s", r.Resource.ID)
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
