package graph

import (
	"context"
	"sync/atomic"
)

// Counting is a Graph that counts the calls made through it: how a
// benchmark reports the SpiceDB calls an operation costs.
type Counting struct {
	Graph
	calls atomic.Int64
}

// Calls is how many calls were made through c since the last Reset.
func (c *Counting) Calls() int64 { return c.calls.Load() }

// Reset sets the count to zero.
func (c *Counting) Reset() { c.calls.Store(0) }

func (c *Counting) Write(ctx context.Context, u []Update, p []Precondition) (Revision, error) {
	c.calls.Add(1)
	return c.Graph.Write(ctx, u, p)
}

func (c *Counting) DeleteMatching(ctx context.Context, f Filter, p []Precondition) (Revision, error) {
	c.calls.Add(1)
	return c.Graph.DeleteMatching(ctx, f, p)
}

func (c *Counting) Read(ctx context.Context, f Filter, cs Consistency) ([]Relationship, Revision, error) {
	c.calls.Add(1)
	return c.Graph.Read(ctx, f, cs)
}

func (c *Counting) ReadPage(ctx context.Context, f Filter, cs Consistency, limit uint32, cursor string) ([]Relationship, string, Revision, error) {
	c.calls.Add(1)
	return c.Graph.ReadPage(ctx, f, cs, limit, cursor)
}

func (c *Counting) Export(ctx context.Context, f Filter, cs Consistency, each func([]Relationship) error) error {
	c.calls.Add(1)
	return c.Graph.Export(ctx, f, cs, each)
}

func (c *Counting) Check(ctx context.Context, checks []Check, cs Consistency) ([]bool, Revision, error) {
	c.calls.Add(1)
	return c.Graph.Check(ctx, checks, cs)
}

func (c *Counting) LookupResources(ctx context.Context, t, p string, s Object, cs Consistency) ([]string, Revision, error) {
	c.calls.Add(1)
	return c.Graph.LookupResources(ctx, t, p, s, cs)
}

func (c *Counting) LookupResourcesPage(ctx context.Context, t, p string, s Object, cs Consistency, limit uint32, cursor string) ([]string, string, Revision, error) {
	c.calls.Add(1)
	return c.Graph.LookupResourcesPage(ctx, t, p, s, cs, limit, cursor)
}

func (c *Counting) LookupSubjects(ctx context.Context, r Object, p, t string, cs Consistency) ([]string, Revision, error) {
	c.calls.Add(1)
	return c.Graph.LookupSubjects(ctx, r, p, t, cs)
}

func (c *Counting) Import(ctx context.Context, rels []Relationship) error {
	c.calls.Add(1)
	return c.Graph.Import(ctx, rels)
}

func (c *Counting) FreshRevision(ctx context.Context) (Revision, error) {
	c.calls.Add(1)
	return c.Graph.FreshRevision(ctx)
}
