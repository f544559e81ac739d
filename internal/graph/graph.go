// Package graph is the port through which the domain reads and writes the
// relationship graph: objects, relationships, consistency and the Graph
// interface that a SpiceDB adapter implements. It imports no transport.
package graph

import (
	"context"
	"time"
)

// Object is a node of the graph: a type from the schema and an id.
type Object struct {
	Type string
	ID   string
}

func (o Object) String() string { return o.Type + ":" + o.ID }

// Caveat names a caveat of the schema and the context written with a relationship.
type Caveat struct {
	Name    string
	Context map[string]any
}

// Relationship is an edge: resource#relation@subject[#subjectRelation].
type Relationship struct {
	Resource        Object
	Relation        string
	Subject         Object
	SubjectRelation string
	Caveat          *Caveat
	// Expires, when set, is when the relationship stops existing by itself.
	Expires time.Time
}

func (r Relationship) String() string {
	s := r.Resource.String() + "#" + r.Relation + "@" + r.Subject.String()
	if r.SubjectRelation != "" {
		s += "#" + r.SubjectRelation
	}
	return s
}

// attributesCaveat is the schema's caveat that carries an object's data on a
// relationship that no permission reads.
const attributesCaveat = "attributes"

// WithAttributes returns r carrying values in the schema's attributes caveat.
func (r Relationship) WithAttributes(values map[string]string) Relationship {
	ctx := make(map[string]any, len(values))
	for k, v := range values {
		ctx[k] = v
	}
	r.Caveat = &Caveat{Name: attributesCaveat, Context: map[string]any{"values": ctx}}
	return r
}

// Attribute returns the value of key in r's attributes, or "".
func (r Relationship) Attribute(key string) string {
	if r.Caveat == nil || r.Caveat.Name != attributesCaveat {
		return ""
	}
	values, _ := r.Caveat.Context["values"].(map[string]any)
	s, _ := values[key].(string)
	return s
}

// Attributes returns every value of r's attributes (nil when it has none).
func (r Relationship) Attributes() map[string]string {
	if r.Caveat == nil || r.Caveat.Name != attributesCaveat {
		return nil
	}
	values, _ := r.Caveat.Context["values"].(map[string]any)
	out := make(map[string]string, len(values))
	for k, v := range values {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// Rel builds an uncaveated relationship resource#relation@subject.
func Rel(resource Object, relation string, subject Object) Relationship {
	return Relationship{Resource: resource, Relation: relation, Subject: subject}
}

// Operation is what an update does to its relationship.
type Operation int

const (
	// Create writes a relationship that must not exist yet.
	Create Operation = iota + 1
	// Touch writes a relationship whether or not it exists.
	Touch
	// Delete removes a relationship if it exists.
	Delete
)

// Update is one change of a write.
type Update struct {
	Op           Operation
	Relationship Relationship
}

// Filter selects relationships. Empty fields match anything; ResourceID and
// ResourceIDPrefix exclude each other.
type Filter struct {
	ResourceType     string
	ResourceID       string
	ResourceIDPrefix string
	Relation         string
	SubjectType      string
	SubjectID        string
}

// FilterOf is the filter that matches exactly r.
func FilterOf(r Relationship) Filter {
	return Filter{ResourceType: r.Resource.Type, ResourceID: r.Resource.ID, Relation: r.Relation, SubjectType: r.Subject.Type, SubjectID: r.Subject.ID}
}

// Precondition must hold, inside the write's transaction, for the write to apply.
type Precondition struct {
	// MustMatch: at least one relationship matches Filter; otherwise none may.
	MustMatch bool
	Filter    Filter
}

// Revision is a point in the graph's history: a SpiceDB ZedToken. It is opaque
// outside the adapter; the empty revision means "none".
type Revision string

// Consistency says how fresh a read must be.
type Consistency struct {
	mode     consistencyMode
	revision Revision
}

type consistencyMode int

const (
	fullyConsistent consistencyMode = iota
	atLeastAsFresh
	atExactSnapshot
)

// Full reads the newest data as SpiceDB's fully consistent mode does: at its
// head revision. SpiceDB v1.56.0 shares one in-flight head-revision query
// among concurrent requests (internal/datastore/proxy/singleflight.go), so
// under load Full can miss a write acknowledged a moment before the read
// began. Where that matters, read at AtLeast(FreshRevision(...)).
func Full() Consistency { return Consistency{mode: fullyConsistent} }

// AtLeast reads data at least as fresh as rev; an empty rev means Full.
func AtLeast(rev Revision) Consistency {
	if rev == "" {
		return Full()
	}
	return Consistency{mode: atLeastAsFresh, revision: rev}
}

// At reads data exactly at rev.
func At(rev Revision) Consistency { return Consistency{mode: atExactSnapshot, revision: rev} }

// Revision is the revision the consistency names, if any.
func (c Consistency) Revision() Revision { return c.revision }

// IsExact reports whether c reads at exactly its revision.
func (c Consistency) IsExact() bool { return c.mode == atExactSnapshot }

// IsAtLeast reports whether c reads at least as fresh as its revision.
func (c Consistency) IsAtLeast() bool { return c.mode == atLeastAsFresh }

// Check asks whether subject has permission on resource.
type Check struct {
	Resource   Object
	Permission string
	Subject    Object
}

// Graph is the relationship store and permission engine (SpiceDB). Every call
// returns the revision it was answered at. Errors are *fault.Error of kind
// Conflict (a precondition failed), Invalid (SpiceDB refused the request),
// Unavailable (SpiceDB or its datastore cannot be reached) or Internal.
type Graph interface {
	// Write applies updates atomically, and only if every precondition holds.
	Write(ctx context.Context, updates []Update, preconditions []Precondition) (Revision, error)
	// DeleteMatching removes, atomically, every relationship the filter matches,
	// only if every precondition holds.
	DeleteMatching(ctx context.Context, filter Filter, preconditions []Precondition) (Revision, error)
	// Read returns every relationship the filter matches.
	Read(ctx context.Context, filter Filter, c Consistency) ([]Relationship, Revision, error)
	// ReadPage returns up to limit relationships after cursor, and the cursor
	// to pass for the next page ("" when there is none).
	ReadPage(ctx context.Context, filter Filter, c Consistency, limit uint32, cursor string) ([]Relationship, string, Revision, error)
	// Export streams every relationship the filter matches to each, batch
	// by batch (each batch is reused after each returns), in one stream
	// bounded only by ctx: a bulk read of millions. It stops at each's error.
	Export(ctx context.Context, filter Filter, c Consistency, each func([]Relationship) error) error
	// Check answers every check, in order.
	Check(ctx context.Context, checks []Check, c Consistency) ([]bool, Revision, error)
	// LookupResources returns the ids of every resourceType object on which
	// subject has permission.
	LookupResources(ctx context.Context, resourceType, permission string, subject Object, c Consistency) ([]string, Revision, error)
	// LookupResourcesPage returns up to limit of those ids after cursor, and
	// the cursor of the next page ("" when there is none).
	LookupResourcesPage(ctx context.Context, resourceType, permission string, subject Object, c Consistency, limit uint32, cursor string) ([]string, string, Revision, error)
	// LookupSubjects returns the ids of every subjectType object that has
	// permission on resource.
	LookupSubjects(ctx context.Context, resource Object, permission, subjectType string, c Consistency) ([]string, Revision, error)
	// Import creates relationships in bulk, in one transaction that none of
	// them may already exist in (Conflict otherwise): SpiceDB's bulk import,
	// far cheaper per relationship than Write and not bound by its size
	// limit. It takes no preconditions and records no write metadata.
	Import(ctx context.Context, rels []Relationship) error
	// FreshRevision returns a revision at which every write acknowledged
	// before the call is visible.
	FreshRevision(ctx context.Context) (Revision, error)
	// Watch starts watching, after revision since (after now when since is
	// empty), the relationships that any of filters matches. It fails with
	// Invalid when SpiceDB cannot watch from since (a malformed revision, one
	// of another datastore, or one older than its garbage collection window,
	// whose changes are gone), and with the kinds above.
	Watch(ctx context.Context, filters []Filter, since Revision) (ChangeStream, error)
}

// Changes are what one revision changed among the relationships a watch
// selects, or a checkpoint, or a change of the schema.
type Changes struct {
	// Revision is the revision that made the changes: watching after it
	// yields the changes of later revisions only.
	Revision Revision
	// Updates are the changes: Touch (written: created, or replaced with new
	// caveat context or expiration) or Delete.
	Updates []Update
	// Metadata is the metadata the write was made with (WithWriteMetadata),
	// or nil.
	Metadata map[string]string
	// Checkpoint (no updates) says the watch has delivered every change of
	// every revision that Revision covers: a reader may take the changes
	// delivered so far as the graph at Revision.
	Checkpoint bool
	// SchemaChanged (no updates) says the schema changed at Revision.
	SchemaChanged bool
}

// ChangeStream is a watch under way.
type ChangeStream interface {
	// Next waits for the changes of the next revision. It fails with the
	// watch's context's error once that is done, and otherwise with
	// Unavailable (SpiceDB or its datastore went away, or the watch fell too
	// far behind) or Internal; the watch is over then.
	Next() (Changes, error)
}

type writeMetadataKey struct{}

// WithWriteMetadata returns ctx whose writes (Write, DeleteMatching) carry
// metadata, which Watch reports with their changes.
func WithWriteMetadata(ctx context.Context, metadata map[string]string) context.Context {
	return context.WithValue(ctx, writeMetadataKey{}, metadata)
}

// WriteMetadata is the metadata the writes made with ctx carry, or nil.
func WriteMetadata(ctx context.Context) map[string]string {
	m, _ := ctx.Value(writeMetadataKey{}).(map[string]string)
	return m
}

// RecentRevisions remembers the last revisions added (as many as it was
// made for): what a watch has delivered or applied lately.
type RecentRevisions struct {
	// ring grows to size, then the oldest makes room.
	ring []Revision
	size int
	next int
	set  map[Revision]bool
}

// NewRecentRevisions remembers the last n revisions; it holds no more
// memory than those it remembers.
func NewRecentRevisions(n int) *RecentRevisions {
	return &RecentRevisions{size: n, set: map[Revision]bool{}}
}

// Add remembers rev, forgetting the oldest when full.
func (r *RecentRevisions) Add(rev Revision) {
	if r.set[rev] {
		return
	}
	if len(r.ring) < r.size {
		r.ring, r.set[rev] = append(r.ring, rev), true
		return
	}
	delete(r.set, r.ring[r.next])
	r.ring[r.next], r.set[rev] = rev, true
	r.next = (r.next + 1) % len(r.ring)
}

// Has reports whether rev is remembered.
func (r *RecentRevisions) Has(rev Revision) bool { return r.set[rev] }
