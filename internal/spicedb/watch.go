package spicedb

import (
	"context"
	"errors"
	"io"
	"strings"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// maxWatchMessageBytes bounds one message of a watch, which holds every
// change of one revision: above what one write of SpiceDB's largest
// (65,535 updates) takes, where gRPC's default of 4 MB is not.
const maxWatchMessageBytes = 1 << 30

// Watch implements graph.Graph with SpiceDB's Watch: relationship updates,
// checkpoints and schema changes. SpiceDB's Watch does not check that its start
// revision is still within the garbage collection window, whose changes
// would be missing without a word; a read at exactly that revision does,
// so one is made first.
func (g *Graph) Watch(ctx context.Context, filters []graph.Filter, since graph.Revision) (graph.ChangeStream, error) {
	req := &v1.WatchRequest{OptionalUpdateKinds: []v1.WatchKind{
		v1.WatchKind_WATCH_KIND_INCLUDE_RELATIONSHIP_UPDATES,
		v1.WatchKind_WATCH_KIND_INCLUDE_CHECKPOINTS,
		v1.WatchKind_WATCH_KIND_INCLUDE_SCHEMA_UPDATES,
	}}
	for _, f := range filters {
		req.OptionalRelationshipFilters = append(req.OptionalRelationshipFilters, toFilter(f))
	}
	cs := &changeStream{ctx: ctx, g: g, delivered: graph.NewRecentRevisions(recentDelivered)}
	if since != "" {
		if err := g.checkWatchStart(ctx, since); err != nil {
			return nil, err
		}
		req.OptionalStartCursor = &v1.ZedToken{Token: string(since)}
		cs.delivered.Add(since)
	}
	var err error
	if cs.stream, err = g.watch.Watch(ctx, req, grpc.MaxCallRecvMsgSize(maxWatchMessageBytes)); err != nil {
		return nil, watchError(ctx, err)
	}
	return cs, nil
}

// checkWatchStart refuses a start revision SpiceDB cannot read at exactly:
// malformed, of another datastore, or garbage-collected.
func (g *Graph) checkWatchStart(ctx context.Context, since graph.Revision) error {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	_, err := g.permissions.CheckBulkPermissions(ctx, &v1.CheckBulkPermissionsRequest{Consistency: toConsistency(graph.At(since))})
	switch {
	case err == nil:
		return nil
	case strings.Contains(status.Convert(err).Message(), "different datastore instance"):
		// SpiceDB v1.56.0 answers UNKNOWN for an exact read at a revision
		// of another datastore (a memory datastore that was restarted).
		return fault.Wrap(err, fault.Invalid, "SpiceDB refused to watch from a revision of another datastore")
	}
	return mapError(ctx, "watch", err)
}

// changeStream is a SpiceDB Watch under way.
type changeStream struct {
	ctx       context.Context
	g         *Graph
	stream    v1.WatchService_WatchClient
	delivered *graph.RecentRevisions // and the start revision
	// nudged: a repeat was met and ended with a write since the last new revision.
	nudged bool
}

// Next implements graph.ChangeStream.
//
// SpiceDB v1.56.0's PostgreSQL watch repeats revisions when two transactions
// overlap (the one begun later commits first, and the watch polls in
// between): its cursor, the snapshot of the last transaction it saw, misses
// the other one, so it sends both again, alternately, until a later
// transaction commits. Next skips a revision it delivered (or started
// after), and ends such a loop at once with a write that changes nothing,
// whose snapshot covers both.
func (s *changeStream) Next() (graph.Changes, error) {
	for {
		resp, err := s.stream.Recv()
		if err != nil {
			return graph.Changes{}, watchError(s.ctx, err)
		}
		rev := graph.Revision(resp.GetChangesThrough().GetToken())
		switch {
		case resp.GetSchemaUpdated():
			return graph.Changes{Revision: rev, SchemaChanged: true}, nil
		case resp.GetIsCheckpoint():
			return graph.Changes{Revision: rev, Checkpoint: true}, nil
		case len(resp.GetUpdates()) == 0:
			continue
		}
		if s.delivered.Has(rev) {
			if !s.nudged {
				s.nudged = true
				if _, err := s.g.FreshRevision(s.ctx); err != nil {
					return graph.Changes{}, err
				}
			}
			continue
		}
		s.delivered.Add(rev)
		s.nudged = false
		ch := graph.Changes{
			Revision: rev,
			Updates:  make([]graph.Update, len(resp.GetUpdates())),
			Metadata: fromMetadata(resp.GetOptionalTransactionMetadata()),
		}
		for i, u := range resp.GetUpdates() {
			// SpiceDB reports every written relationship as TOUCH: its
			// datastores do not tell a creation from a replacement.
			op := graph.Touch
			if u.GetOperation() == v1.RelationshipUpdate_OPERATION_DELETE {
				op = graph.Delete
			}
			ch.Updates[i] = graph.Update{Op: op, Relationship: fromRelationship(u.GetRelationship())}
		}
		return ch, nil
	}
}

// recentDelivered is how many revisions a watch remembers having
// delivered: enough for those of the transactions in flight together.
const recentDelivered = 256

// watchError is the error that ends a watch: its context's once that is
// done, else SpiceDB's as a fault.
func watchError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, io.EOF):
		return fault.Wrap(err, fault.Unavailable, "SpiceDB ended the watch")
	case status.Code(err) == codes.FailedPrecondition:
		// SpiceDB's answer when its datastore cannot watch.
		return fault.Wrap(err, fault.Internal, "SpiceDB cannot watch its datastore (PostgreSQL needs track_commit_timestamp=on)")
	}
	return mapError(ctx, "watch", err)
}

// fromMetadata is the string values of a write's transaction metadata, or nil.
func fromMetadata(s *structpb.Struct) map[string]string {
	if len(s.GetFields()) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.GetFields()))
	for k, v := range s.GetFields() {
		if str, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			out[k] = str.StringValue
		}
	}
	return out
}
