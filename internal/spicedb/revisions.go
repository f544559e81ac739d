package spicedb

import (
	"fmt"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/authzed/spicedb/pkg/datastore"
	"github.com/authzed/spicedb/pkg/datastore/revisionparsing"
	"github.com/authzed/spicedb/pkg/zedtoken"

	"github.com/mspauthz/mspauthz/internal/graph"
)

// Datastore engines whose revisions Revisions orders.
const (
	EngineMemory   = "memory"
	EnginePostgres = "postgres"
)

// Revisions decodes the ZedTokens of one SpiceDB datastore engine into
// revisions that can be ordered: SpiceDB answers "at least as fresh as" but
// never says whether one token is newer than another.
type Revisions struct {
	parse revisionparsing.ParsingFunc
}

// RevisionsOf returns the decoder of engine's ZedTokens ("memory",
// "postgres", "cockroachdb", "mysql", "spanner").
func RevisionsOf(engine string) (*Revisions, error) {
	parse, ok := revisionparsing.ParseRevisionStringByDatastoreEngineID[engine]
	if !ok {
		return nil, fmt.Errorf("SpiceDB datastore engine %q is not one of memory, postgres, cockroachdb, mysql, spanner", engine)
	}
	return &Revisions{parse: parse}, nil
}

// Revision is a decoded ZedToken.
type Revision struct {
	rev datastore.Revision
	// datastore is the prefix of the unique id of the datastore that made it.
	datastore string
}

// Parse decodes a ZedToken.
func (r *Revisions) Parse(token graph.Revision) (Revision, error) {
	decoded, err := zedtoken.Decode(&v1.ZedToken{Token: string(token)})
	if err != nil {
		return Revision{}, err
	}
	v := decoded.GetV1()
	if v == nil {
		return Revision{}, fmt.Errorf("ZedToken %q is of a legacy format", token)
	}
	rev, err := r.parse(v.GetRevision())
	if err != nil {
		return Revision{}, fmt.Errorf("ZedToken %q: %w", token, err)
	}
	return Revision{rev: rev, datastore: v.GetDatastoreUniqueIdPrefix()}, nil
}

// Covers reports whether every write visible at o is visible at r: both are
// of the same datastore and r is o or later. Revisions of PostgreSQL are
// ordered partially (transactions overlap): neither may cover the other.
func (r Revision) Covers(o Revision) bool {
	return r.rev != nil && o.rev != nil && r.datastore == o.datastore && (r.rev.Equal(o.rev) || r.rev.GreaterThan(o.rev))
}

// Time is when the revision's transaction committed, when the datastore
// records it (the memory datastore always, PostgreSQL in revisions its
// watch reports).
func (r Revision) Time() (time.Time, bool) {
	switch rev := r.rev.(type) {
	case interface{ TimestampNanoSec() int64 }:
		return time.Unix(0, rev.TimestampNanoSec()), true
	case interface{ OptionalNanosTimestamp() (uint64, bool) }:
		if ns, ok := rev.OptionalNanosTimestamp(); ok {
			return time.Unix(0, int64(ns)), true
		}
	}
	return time.Time{}, false
}
