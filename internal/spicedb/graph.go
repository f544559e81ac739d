package spicedb

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// DefaultCallTimeout bounds every SpiceDB call whose context has no earlier deadline.
const DefaultCallTimeout = 30 * time.Second

// maxBulkCheckItems is SpiceDB's limit on items per CheckBulkPermissions call.
const maxBulkCheckItems = 10000

// Graph is the graph port over a gRPC connection to SpiceDB.
type Graph struct {
	permissions v1.PermissionsServiceClient
	watch       v1.WatchServiceClient
	timeout     time.Duration
	fresh       freshFlights
}

var _ graph.Graph = (*Graph)(nil)

// NewGraph returns a Graph talking to SpiceDB over conn.
func NewGraph(conn grpc.ClientConnInterface) *Graph {
	return &Graph{permissions: v1.NewPermissionsServiceClient(conn), watch: v1.NewWatchServiceClient(conn), timeout: DefaultCallTimeout}
}

// readPauses are the pauses before a read is made again after SpiceDB's
// datastore failed it on the way (fault.Unavailable: a connection lost, or
// timed out under load — seen on two loaded cores as a PostgreSQL connection
// left with the deadline of a canceled watch's query). A read changes
// nothing, so it is made again before its caller sees 503; a write never is
// (its outcome is unknown: saves are retried whole, on a fresh snapshot).
var readPauses = []time.Duration{20 * time.Millisecond, 100 * time.Millisecond}

// reread runs read, within one deadline for all its attempts, until it
// succeeds, fails otherwise than Unavailable, or the pauses run out.
func (g *Graph) reread(ctx context.Context, read func(ctx context.Context) error) error {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	err := read(ctx)
	for _, pause := range readPauses {
		if !fault.Is(err, fault.Unavailable) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		err = read(ctx)
	}
	return err
}

func (g *Graph) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, g.timeout)
}

// Write implements graph.Graph.
func (g *Graph) Write(ctx context.Context, updates []graph.Update, preconditions []graph.Precondition) (graph.Revision, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	req := &v1.WriteRelationshipsRequest{Updates: make([]*v1.RelationshipUpdate, 0, len(updates))}
	for _, u := range updates {
		rel, err := toRelationship(u.Relationship)
		if err != nil {
			return "", err
		}
		req.Updates = append(req.Updates, &v1.RelationshipUpdate{Operation: toOperation(u.Op), Relationship: rel})
	}
	req.OptionalPreconditions = toPreconditions(preconditions)
	req.OptionalTransactionMetadata = toMetadata(ctx)
	resp, err := g.permissions.WriteRelationships(ctx, req)
	if err != nil {
		return "", mapError(ctx, "write relationships", err)
	}
	return graph.Revision(resp.GetWrittenAt().GetToken()), nil
}

// DeleteMatching implements graph.Graph.
func (g *Graph) DeleteMatching(ctx context.Context, filter graph.Filter, preconditions []graph.Precondition) (graph.Revision, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	resp, err := g.permissions.DeleteRelationships(ctx, &v1.DeleteRelationshipsRequest{
		RelationshipFilter:          toFilter(filter),
		OptionalPreconditions:       toPreconditions(preconditions),
		OptionalTransactionMetadata: toMetadata(ctx),
	})
	if err != nil {
		return "", mapError(ctx, "delete relationships", err)
	}
	return graph.Revision(resp.GetDeletedAt().GetToken()), nil
}

// importBatch is how many relationships one message of a bulk import carries.
const importBatch = 1000

// Import implements graph.Graph with ImportBulkRelationships: one stream, one
// transaction. It is not bounded by DefaultCallTimeout: a bulk import of
// hundreds of thousands of relationships takes longer, and ctx bounds it.
func (g *Graph) Import(ctx context.Context, rels []graph.Relationship) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := g.permissions.ImportBulkRelationships(ctx)
	if err != nil {
		return mapError(ctx, "import relationships", err)
	}
	for len(rels) > 0 {
		batch := rels[:min(len(rels), importBatch)]
		rels = rels[len(batch):]
		req := &v1.ImportBulkRelationshipsRequest{Relationships: make([]*v1.Relationship, len(batch))}
		for i, r := range batch {
			if req.Relationships[i], err = toRelationship(r); err != nil {
				return err
			}
		}
		if err := stream.Send(req); err != nil {
			break // the stream's error comes with CloseAndRecv
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return mapError(ctx, "import relationships", err)
	}
	return nil
}

// FreshRevision implements graph.Graph with the revision of a write that
// changes nothing: a write's revision is later than every write committed
// before it began — unlike a fully consistent read's, which may come from a
// head-revision query another request started earlier. Concurrent calls share
// one such write, but only one that starts after they arrive, so that there
// is at most one in flight however many callers ask.
func (g *Graph) FreshRevision(ctx context.Context) (graph.Revision, error) {
	g.fresh.mu.Lock()
	f := g.fresh.next
	if f == nil {
		f = &freshFlight{done: make(chan struct{})}
		g.fresh.next = f
	}
	if !g.fresh.running {
		g.startFresh()
	}
	g.fresh.mu.Unlock()
	select {
	case <-f.done:
		return f.rev, f.err
	case <-ctx.Done():
		return "", mapError(ctx, "read a fresh revision", ctx.Err())
	}
}

// freshProbe matches nothing: no MSP id starts with an underscore.
var freshProbe = &v1.RelationshipFilter{ResourceType: "msp", OptionalResourceId: "_fresh_revision", OptionalRelation: "save_epoch"}

type freshFlights struct {
	mu      sync.Mutex
	running bool
	next    *freshFlight // the flight that starts when the running one ends
}

type freshFlight struct {
	done chan struct{}
	rev  graph.Revision
	err  error
}

// startFresh starts the next flight; the caller holds g.fresh.mu.
func (g *Graph) startFresh() {
	f := g.fresh.next
	g.fresh.next, g.fresh.running = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
		defer cancel()
		resp, err := g.permissions.DeleteRelationships(ctx, &v1.DeleteRelationshipsRequest{RelationshipFilter: freshProbe})
		if err != nil {
			f.err = mapError(ctx, "read a fresh revision", err)
		} else {
			f.rev = graph.Revision(resp.GetDeletedAt().GetToken())
		}
		close(f.done)
		g.fresh.mu.Lock()
		g.fresh.running = false
		if g.fresh.next != nil {
			g.startFresh()
		}
		g.fresh.mu.Unlock()
	}()
}

// Read implements graph.Graph.
func (g *Graph) Read(ctx context.Context, filter graph.Filter, c graph.Consistency) ([]graph.Relationship, graph.Revision, error) {
	rels, _, rev, err := g.ReadPage(ctx, filter, c, 0, "")
	return rels, rev, err
}

// pageReadLimit is the limit of every paged ReadRelationships: SpiceDB ties a
// cursor to the limit it was made with, so one fixed limit lets callers change
// their page size from page to page.
const pageReadLimit = 1000

// ReadPage implements graph.Graph.
func (g *Graph) ReadPage(ctx context.Context, filter graph.Filter, c graph.Consistency, limit uint32, cursor string) (rels []graph.Relationship, next string, rev graph.Revision, err error) {
	err = g.reread(ctx, func(ctx context.Context) error {
		rels, next, rev, err = g.readPage(ctx, filter, c, limit, cursor)
		return err
	})
	return rels, next, rev, err
}

func (g *Graph) readPage(ctx context.Context, filter graph.Filter, c graph.Consistency, limit uint32, cursor string) ([]graph.Relationship, string, graph.Revision, error) {
	if limit > pageReadLimit {
		return nil, "", "", fault.New(fault.Invalid, "page size %d is above %d", limit, pageReadLimit)
	}
	req := &v1.ReadRelationshipsRequest{Consistency: toConsistency(c), RelationshipFilter: toFilter(filter)}
	if limit > 0 {
		req.OptionalLimit = pageReadLimit
	}
	if cursor != "" {
		req.OptionalCursor = &v1.Cursor{Token: cursor}
	}
	stream, err := g.permissions.ReadRelationships(ctx, req)
	if err != nil {
		return nil, "", "", mapError(ctx, "read relationships", err)
	}
	var (
		rels []graph.Relationship
		last string // the cursor after the last result kept
		more bool
		rev  graph.Revision
	)
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", "", mapError(ctx, "read relationships", err)
		}
		rev = graph.Revision(resp.GetReadAt().GetToken())
		if limit > 0 && uint32(len(rels)) == limit {
			more = true
			break
		}
		last = resp.GetAfterResultCursor().GetToken()
		rels = append(rels, fromRelationship(resp.GetRelationship()))
	}
	// A full page of SpiceDB's own may have more after it (or an empty page).
	more = more || (limit > 0 && len(rels) == pageReadLimit)
	next := ""
	if more {
		next = last
	}
	if rev == "" {
		// Nothing matched: the stream carried no revision. Ask for one at the
		// same consistency so that callers can always pin what they read.
		rev, err = g.revisionAt(ctx, c)
		if err != nil {
			return nil, "", "", err
		}
	}
	return rels, next, rev, nil
}

// exportBatch is how many relationships one message of an export carries.
const exportBatch = 10_000

// Export implements graph.Graph with SpiceDB's ExportBulkRelationships,
// whose messages carry many relationships each: several times the rate of
// ReadRelationships, which sends one a message.
func (g *Graph) Export(ctx context.Context, filter graph.Filter, c graph.Consistency, each func([]graph.Relationship) error) error {
	stream, err := g.permissions.ExportBulkRelationships(ctx, &v1.ExportBulkRelationshipsRequest{
		Consistency: toConsistency(c), OptionalLimit: exportBatch, OptionalRelationshipFilter: toFilter(filter),
	})
	if err != nil {
		return mapError(ctx, "export relationships", err)
	}
	var rels []graph.Relationship
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return mapError(ctx, "export relationships", err)
		}
		rels = rels[:0]
		for _, r := range resp.GetRelationships() {
			rels = append(rels, fromRelationship(r))
		}
		if err := each(rels); err != nil {
			return err
		}
	}
}

// revisionAt returns the revision a read at c would see, by a check that
// cannot match anything.
func (g *Graph) revisionAt(ctx context.Context, c graph.Consistency) (graph.Revision, error) {
	if c.IsExact() {
		return c.Revision(), nil
	}
	resp, err := g.permissions.CheckBulkPermissions(ctx, &v1.CheckBulkPermissionsRequest{Consistency: toConsistency(c)})
	if err != nil {
		return "", mapError(ctx, "read revision", err)
	}
	return graph.Revision(resp.GetCheckedAt().GetToken()), nil
}

// Check implements graph.Graph.
func (g *Graph) Check(ctx context.Context, checks []graph.Check, c graph.Consistency) (allowed []bool, rev graph.Revision, err error) {
	err = g.reread(ctx, func(ctx context.Context) error {
		allowed, rev, err = g.check(ctx, checks, c)
		return err
	})
	return allowed, rev, err
}

func (g *Graph) check(ctx context.Context, checks []graph.Check, c graph.Consistency) ([]bool, graph.Revision, error) {
	switch len(checks) {
	case 0:
		rev, err := g.revisionAt(ctx, c)
		return nil, rev, err
	case 1:
		// One check is cheaper as a CheckPermission than as a bulk of one.
		resp, err := g.permissions.CheckPermission(ctx, &v1.CheckPermissionRequest{
			Consistency: toConsistency(c),
			Resource:    toObject(checks[0].Resource),
			Permission:  checks[0].Permission,
			Subject:     &v1.SubjectReference{Object: toObject(checks[0].Subject)},
		})
		if err != nil {
			return nil, "", mapError(ctx, "check permission", err)
		}
		allowed := resp.GetPermissionship() == v1.CheckPermissionResponse_PERMISSIONSHIP_HAS_PERMISSION
		return []bool{allowed}, graph.Revision(resp.GetCheckedAt().GetToken()), nil
	}
	out := make([]bool, 0, len(checks))
	var rev graph.Revision
	for start := 0; start < len(checks); start += maxBulkCheckItems {
		req := &v1.CheckBulkPermissionsRequest{Consistency: toConsistency(c)}
		if rev != "" {
			// Later chunks answer at the revision of the first one.
			req.Consistency = toConsistency(graph.At(rev))
		}
		chunk := checks[start:min(start+maxBulkCheckItems, len(checks))]
		for _, ch := range chunk {
			req.Items = append(req.Items, &v1.CheckBulkPermissionsRequestItem{
				Resource:   toObject(ch.Resource),
				Permission: ch.Permission,
				Subject:    &v1.SubjectReference{Object: toObject(ch.Subject)},
			})
		}
		resp, err := g.permissions.CheckBulkPermissions(ctx, req)
		if err != nil {
			return nil, "", mapError(ctx, "check permissions", err)
		}
		rev = graph.Revision(resp.GetCheckedAt().GetToken())
		for i, pair := range resp.GetPairs() {
			if e := pair.GetError(); e != nil {
				return nil, "", mapError(ctx, "check "+chunk[i].Resource.String(), status.ErrorProto(e))
			}
			out = append(out, pair.GetItem().GetPermissionship() == v1.CheckPermissionResponse_PERMISSIONSHIP_HAS_PERMISSION)
		}
	}
	return out, rev, nil
}

// LookupResources implements graph.Graph.
func (g *Graph) LookupResources(ctx context.Context, resourceType, permission string, subject graph.Object, c graph.Consistency) (ids []string, rev graph.Revision, err error) {
	err = g.reread(ctx, func(ctx context.Context) error {
		ids, rev, err = g.lookupResources(ctx, resourceType, permission, subject, c)
		return err
	})
	return ids, rev, err
}

func (g *Graph) lookupResources(ctx context.Context, resourceType, permission string, subject graph.Object, c graph.Consistency) ([]string, graph.Revision, error) {
	stream, err := g.permissions.LookupResources(ctx, &v1.LookupResourcesRequest{
		Consistency:        toConsistency(c),
		ResourceObjectType: resourceType,
		Permission:         permission,
		Subject:            &v1.SubjectReference{Object: toObject(subject)},
	})
	return lookedUp(ctx, g, c, "lookup resources", stream, err, func(r *v1.LookupResourcesResponse) (string, v1.LookupPermissionship, *v1.ZedToken) {
		return r.GetResourceObjectId(), r.GetPermissionship(), r.GetLookedUpAt()
	})
}

// LookupResourcesPage implements graph.Graph.
func (g *Graph) LookupResourcesPage(ctx context.Context, resourceType, permission string, subject graph.Object, c graph.Consistency, limit uint32, cursor string) (ids []string, next string, rev graph.Revision, err error) {
	err = g.reread(ctx, func(ctx context.Context) error {
		ids, next, rev, err = g.lookupResourcesPage(ctx, resourceType, permission, subject, c, limit, cursor)
		return err
	})
	return ids, next, rev, err
}

func (g *Graph) lookupResourcesPage(ctx context.Context, resourceType, permission string, subject graph.Object, c graph.Consistency, limit uint32, cursor string) ([]string, string, graph.Revision, error) {
	req := &v1.LookupResourcesRequest{
		Consistency:        toConsistency(c),
		ResourceObjectType: resourceType,
		Permission:         permission,
		Subject:            &v1.SubjectReference{Object: toObject(subject)},
		OptionalLimit:      limit,
	}
	if cursor != "" {
		req.OptionalCursor = &v1.Cursor{Token: cursor}
	}
	stream, err := g.permissions.LookupResources(ctx, req)
	if err != nil {
		return nil, "", "", mapError(ctx, "lookup resources", err)
	}
	var ids []string
	var rev graph.Revision
	next := ""
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", "", mapError(ctx, "lookup resources", err)
		}
		rev = graph.Revision(resp.GetLookedUpAt().GetToken())
		next = resp.GetAfterResultCursor().GetToken()
		if resp.GetPermissionship() == v1.LookupPermissionship_LOOKUP_PERMISSIONSHIP_HAS_PERMISSION {
			ids = append(ids, resp.GetResourceObjectId())
		}
	}
	if uint32(len(ids)) < limit {
		next = ""
	}
	if rev == "" {
		if rev, err = g.revisionAt(ctx, c); err != nil {
			return nil, "", "", err
		}
	}
	return ids, next, rev, nil
}

// LookupSubjects implements graph.Graph.
func (g *Graph) LookupSubjects(ctx context.Context, resource graph.Object, permission, subjectType string, c graph.Consistency) (ids []string, rev graph.Revision, err error) {
	err = g.reread(ctx, func(ctx context.Context) error {
		ids, rev, err = g.lookupSubjects(ctx, resource, permission, subjectType, c)
		return err
	})
	return ids, rev, err
}

func (g *Graph) lookupSubjects(ctx context.Context, resource graph.Object, permission, subjectType string, c graph.Consistency) ([]string, graph.Revision, error) {
	stream, err := g.permissions.LookupSubjects(ctx, &v1.LookupSubjectsRequest{
		Consistency:       toConsistency(c),
		Resource:          toObject(resource),
		Permission:        permission,
		SubjectObjectType: subjectType,
	})
	return lookedUp(ctx, g, c, "lookup subjects", stream, err, func(r *v1.LookupSubjectsResponse) (string, v1.LookupPermissionship, *v1.ZedToken) {
		return r.GetSubject().GetSubjectObjectId(), r.GetSubject().GetPermissionship(), r.GetLookedUpAt()
	})
}

// lookedUp drains a lookup stream into the ids found with permission (not
// merely conditional), and the revision they were looked up at.
func lookedUp[R any](ctx context.Context, g *Graph, c graph.Consistency, what string, stream interface{ Recv() (R, error) }, err error, fields func(R) (string, v1.LookupPermissionship, *v1.ZedToken)) ([]string, graph.Revision, error) {
	if err != nil {
		return nil, "", mapError(ctx, what, err)
	}
	var ids []string
	var rev graph.Revision
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", mapError(ctx, what, err)
		}
		id, permissionship, at := fields(resp)
		rev = graph.Revision(at.GetToken())
		if permissionship == v1.LookupPermissionship_LOOKUP_PERMISSIONSHIP_HAS_PERMISSION {
			ids = append(ids, id)
		}
	}
	if rev == "" {
		if rev, err = g.revisionAt(ctx, c); err != nil {
			return nil, "", err
		}
	}
	return ids, rev, nil
}

func toConsistency(c graph.Consistency) *v1.Consistency {
	switch {
	case c.IsExact():
		return &v1.Consistency{Requirement: &v1.Consistency_AtExactSnapshot{AtExactSnapshot: &v1.ZedToken{Token: string(c.Revision())}}}
	case c.IsAtLeast():
		return &v1.Consistency{Requirement: &v1.Consistency_AtLeastAsFresh{AtLeastAsFresh: &v1.ZedToken{Token: string(c.Revision())}}}
	default:
		return &v1.Consistency{Requirement: &v1.Consistency_FullyConsistent{FullyConsistent: true}}
	}
}

func toObject(o graph.Object) *v1.ObjectReference {
	return &v1.ObjectReference{ObjectType: o.Type, ObjectId: o.ID}
}

func toOperation(op graph.Operation) v1.RelationshipUpdate_Operation {
	switch op {
	case graph.Create:
		return v1.RelationshipUpdate_OPERATION_CREATE
	case graph.Touch:
		return v1.RelationshipUpdate_OPERATION_TOUCH
	case graph.Delete:
		return v1.RelationshipUpdate_OPERATION_DELETE
	}
	return v1.RelationshipUpdate_OPERATION_UNSPECIFIED
}

func toRelationship(r graph.Relationship) (*v1.Relationship, error) {
	rel := &v1.Relationship{
		Resource: toObject(r.Resource),
		Relation: r.Relation,
		Subject:  &v1.SubjectReference{Object: toObject(r.Subject), OptionalRelation: r.SubjectRelation},
	}
	if !r.Expires.IsZero() {
		rel.OptionalExpiresAt = timestamppb.New(r.Expires)
	}
	if r.Caveat != nil {
		ctx, err := structpb.NewStruct(r.Caveat.Context)
		if err != nil {
			return nil, fault.Wrap(err, fault.Internal, "caveat context of %s", r)
		}
		rel.OptionalCaveat = &v1.ContextualizedCaveat{CaveatName: r.Caveat.Name, Context: ctx}
	}
	return rel, nil
}

func fromRelationship(r *v1.Relationship) graph.Relationship {
	out := graph.Relationship{
		Resource:        graph.Object{Type: r.GetResource().GetObjectType(), ID: r.GetResource().GetObjectId()},
		Relation:        r.GetRelation(),
		Subject:         graph.Object{Type: r.GetSubject().GetObject().GetObjectType(), ID: r.GetSubject().GetObject().GetObjectId()},
		SubjectRelation: r.GetSubject().GetOptionalRelation(),
	}
	if c := r.GetOptionalCaveat(); c != nil {
		out.Caveat = &graph.Caveat{Name: c.GetCaveatName(), Context: c.GetContext().AsMap()}
	}
	if e := r.GetOptionalExpiresAt(); e != nil {
		out.Expires = e.AsTime()
	}
	return out
}

func toFilter(f graph.Filter) *v1.RelationshipFilter {
	out := &v1.RelationshipFilter{
		ResourceType:             f.ResourceType,
		OptionalResourceId:       f.ResourceID,
		OptionalResourceIdPrefix: f.ResourceIDPrefix,
		OptionalRelation:         f.Relation,
	}
	if f.SubjectType != "" {
		out.OptionalSubjectFilter = &v1.SubjectFilter{SubjectType: f.SubjectType, OptionalSubjectId: f.SubjectID}
	}
	return out
}

// toMetadata is the transaction metadata of the writes made with ctx
// (graph.WithWriteMetadata), or nil.
func toMetadata(ctx context.Context) *structpb.Struct {
	m := graph.WriteMetadata(ctx)
	if len(m) == 0 {
		return nil
	}
	fields := make(map[string]*structpb.Value, len(m))
	for k, v := range m {
		fields[k] = structpb.NewStringValue(v)
	}
	return &structpb.Struct{Fields: fields}
}

func toPreconditions(ps []graph.Precondition) []*v1.Precondition {
	out := make([]*v1.Precondition, 0, len(ps))
	for _, p := range ps {
		op := v1.Precondition_OPERATION_MUST_NOT_MATCH
		if p.MustMatch {
			op = v1.Precondition_OPERATION_MUST_MATCH
		}
		out = append(out, &v1.Precondition{Operation: op, Filter: toFilter(p.Filter)})
	}
	return out
}

// mapError turns a SpiceDB error into a fault of the graph port's kinds.
func mapError(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) || status.Code(err) == codes.Canceled {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fault.Wrap(err, fault.Unavailable, "SpiceDB did not answer %s in time", what)
		}
		return fault.Wrap(err, fault.Unavailable, "%s canceled", what)
	}
	st, _ := status.FromError(err)
	if tooLarge(st) {
		return fault.Wrap(err, fault.Invalid, "%s is too large for SpiceDB and its datastore: nothing was written; send fewer relationships at once", what)
	}
	switch st.Code() {
	case codes.FailedPrecondition:
		if reason(st) == v1.ErrorReason_ERROR_REASON_WRITE_OR_DELETE_PRECONDITION_FAILURE.String() {
			return fault.Wrap(err, fault.Conflict, "%s: a precondition no longer holds", what)
		}
		return fault.Wrap(err, fault.Invalid, "SpiceDB refused %s", what)
	case codes.AlreadyExists:
		return fault.Wrap(err, fault.Conflict, "%s: a relationship already exists", what)
	case codes.InvalidArgument, codes.OutOfRange:
		// OutOfRange: a ZedToken or cursor SpiceDB cannot use (malformed, from
		// the future, or older than its garbage collection window).
		return fault.Wrap(err, fault.Invalid, "SpiceDB refused %s", what)
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return fault.Wrap(err, fault.Unavailable, "SpiceDB unavailable for %s", what)
	case codes.Unauthenticated, codes.PermissionDenied:
		return fault.Wrap(err, fault.Unavailable, "SpiceDB rejected mspauthz's credentials for %s", what)
	case codes.Internal, codes.Unknown:
		// SpiceDB's answers to PostgreSQL errors it does not classify (a
		// write's is UNKNOWN), among them every lost or refused connection
		// (a restart, a failover): the datastore, not the request, is at fault.
		if datastoreUnavailable(st.Message()) {
			return fault.Wrap(err, fault.Unavailable, "SpiceDB's datastore failed %s; try again", what)
		}
	}
	return fault.Wrap(err, fault.Internal, "SpiceDB failed %s", what)
}

// datastoreUnavailable reports whether SpiceDB's INTERNAL message says that
// its datastore is out of reach: SpiceDB v1.56.0's message for a PostgreSQL
// error it does not classify (internal/services/shared/errors.go), or one
// that passes PostgreSQL's own through — a connection exception (SQLSTATE
// class 08), an operator intervention such as a shutdown (57P0x), too few
// resources (53) — or the driver's for a connection that failed, closed or
// timed out.
func datastoreUnavailable(msg string) bool {
	if msg == "an internal error occurred while accessing the datastore" {
		return true
	}
	for _, sign := range []string{"(SQLSTATE 08", "(SQLSTATE 57P0", "(SQLSTATE 53", "failed to connect", "connection refused", "conn closed", "unexpected EOF", "i/o timeout"} {
		if strings.Contains(msg, sign) {
			return true
		}
	}
	return false
}

// tooLarge reports whether st refuses a request for its size, which no retry
// helps: too many updates or preconditions for SpiceDB, or for its datastore —
// SpiceDB v1.56.0 answers ABORTED, as to a transient conflict, when a write
// would bind more than PostgreSQL's 65,535 parameters in one statement (7,281
// creations: internal/datastore/postgres/readwrite.go) — or a message past
// gRPC's limit.
func tooLarge(st *status.Status) bool {
	switch reason(st) {
	case v1.ErrorReason_ERROR_REASON_TOO_MANY_UPDATES_IN_REQUEST.String(), v1.ErrorReason_ERROR_REASON_TOO_MANY_PRECONDITIONS_IN_REQUEST.String():
		return true
	}
	return st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), "message larger than max")
}

func reason(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
