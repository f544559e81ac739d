package reach

import (
	"maps"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// The index's set engine: for each interned object, a set of interned
// objects (a compressed bitmap), in a persistent array. A store's next
// revision is a draft that shares every set and node with the store it
// comes from, and copies only those it changes, once per draft: readers go
// on reading the old store unchanged, and a revision costs what it changes.

// fanBits is the log₂ of a node's width: 64 children or sets per node.
const (
	fanBits = 6
	fan     = 1 << fanBits
	// maxDepth is the depth whose nodes hold every uint32 (6 × 6 ≥ 32 bits).
	maxDepth = 5
)

// edit marks the nodes and sets of one draft: those it may change in place.
type edit struct{ _ byte } // not empty: pointers to zero-size values may be equal

// node is a node of a persistent array: an inner node holds kids, a leaf
// sets. Its owner is the draft that made it; fresh (a leaf's) marks the
// sets that draft made, which it may change in place.
type node struct {
	owner *edit
	fresh uint64
	kids  []*node
	sets  []*roaring.Bitmap
}

// sets maps numbers to sets of numbers. The zero value is empty; a copy
// shares everything with the original, and changes (through a draft's
// edit) copy what they change.
type sets struct {
	root *node
	// depth is the number of inner levels above the leaves.
	depth int
}

// capacity is how many numbers a tree of that depth holds.
func capacity(depth int) uint64 { return 1 << (fanBits * (depth + 1)) }

// none is the set get returns for a number that has none: never changed.
var none = roaring.New()

// get is the set of k (none when it has none). It must not be changed.
func (s sets) get(k uint32) *roaring.Bitmap {
	n := s.root
	if n == nil || uint64(k) >= capacity(s.depth) {
		return none
	}
	for d := s.depth; d > 0; d-- {
		if n = n.kids[(k>>(fanBits*d))&(fan-1)]; n == nil {
			return none
		}
	}
	if b := n.sets[k&(fan-1)]; b != nil {
		return b
	}
	return none
}

// own is n, or a copy of it that e owns (a new node if n is nil).
func own(n *node, e *edit, leaf bool) *node {
	switch {
	case n == nil && leaf:
		return &node{owner: e, sets: make([]*roaring.Bitmap, fan)}
	case n == nil:
		return &node{owner: e, kids: make([]*node, fan)}
	case n.owner == e:
		return n
	}
	return &node{owner: e, kids: slices.Clone(n.kids), sets: slices.Clone(n.sets)}
}

// mutable is the set of k that e may change: the one it made already, or a
// copy of k's set, or a new one; the nodes on the way are e's too.
func (s *sets) mutable(k uint32, e *edit) *roaring.Bitmap {
	if s.root == nil {
		s.root = own(nil, e, true)
	}
	for s.depth < maxDepth && uint64(k) >= capacity(s.depth) {
		up := own(nil, e, false)
		up.kids[0] = s.root
		s.root, s.depth = up, s.depth+1
	}
	s.root = own(s.root, e, s.depth == 0)
	n := s.root
	for d := s.depth; d > 0; d-- {
		i := (k >> (fanBits * d)) & (fan - 1)
		n.kids[i] = own(n.kids[i], e, d == 1)
		n = n.kids[i]
	}
	i := k & (fan - 1)
	switch b := n.sets[i]; {
	case b != nil && n.fresh&(1<<i) != 0:
		return b
	case b != nil:
		n.sets[i] = b.Clone()
	default:
		n.sets[i] = roaring.New()
	}
	n.fresh |= 1 << i
	return n.sets[i]
}

// add puts v in k's set, and reports whether it was new.
func (s *sets) add(k, v uint32, e *edit) bool {
	if s.get(k).Contains(v) {
		return false
	}
	s.mutable(k, e).Add(v)
	return true
}

// remove takes v out of k's set, and reports whether it was there.
func (s *sets) remove(k, v uint32, e *edit) bool {
	if !s.get(k).Contains(v) {
		return false
	}
	s.mutable(k, e).Remove(v)
	return true
}

// bytes estimates the memory of the array and its sets.
func (s sets) bytes() int64 {
	var total int64
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		total += 64 + int64(cap(n.kids)+cap(n.sets))*8
		for _, kid := range n.kids {
			walk(kid)
		}
		for _, b := range n.sets {
			if b != nil {
				// The Bitmap and its slices' headers, beside their contents.
				total += 112 + int64(b.GetSizeInBytes())
			}
		}
	}
	walk(s.root)
	return total
}

// relation is one relation between two tables, held both ways: fwd maps a
// resource to its subjects, rev a subject to its resources.
type relation struct {
	fwd, rev sets
	// count is how many relationships it holds.
	count int
	// expires is when each relationship that expires by itself ends (Unix
	// nanoseconds), by edgeKey: a relation with expiration holds few (the
	// approved grants). A draft copies the map once, before its first change.
	expires map[uint64]int64
	owner   *edit
}

func edgeKey(a, b uint32) uint64 { return uint64(a)<<32 | uint64(b) }

// live reports whether the relationship a→b, which exists, has not expired
// at now (Unix nanoseconds): SpiceDB's PostgreSQL datastore keeps a
// relationship while its expiration is after NOW().
func (r *relation) live(a, b uint32, now int64) bool {
	t, ok := r.expires[edgeKey(a, b)]
	return !ok || t > now
}

// expire records when a→b expires (never, when t is zero).
func (r *relation) expire(a, b uint32, t time.Time, e *edit) {
	k := edgeKey(a, b)
	if _, had := r.expires[k]; !had && t.IsZero() {
		return
	}
	if r.owner != e {
		r.expires, r.owner = maps.Clone(r.expires), e
		if r.expires == nil {
			r.expires = map[uint64]int64{}
		}
	}
	if t.IsZero() {
		delete(r.expires, k)
		return
	}
	r.expires[k] = t.UnixNano()
}

func (r *relation) has(a, b uint32) bool { return r.fwd.get(a).Contains(b) }

// add reports whether the relationship is new.
func (r *relation) add(a, b uint32, e *edit) bool {
	if !r.fwd.add(a, b, e) {
		return false
	}
	r.rev.add(b, a, e)
	r.count++
	return true
}

// remove reports whether the relationship was there.
func (r *relation) remove(a, b uint32, e *edit) bool {
	if !r.fwd.remove(a, b, e) {
		return false
	}
	r.rev.remove(b, a, e)
	r.count--
	r.expire(a, b, time.Time{}, e)
	return true
}
