package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// RecentRevisions remembers the last n revisions added, grows only as far as
// n, and a revision added again does not push out the oldest.
func TestRecentRevisions_RemembersTheLastN(t *testing.T) {
	r := NewRecentRevisions(3)
	for _, rev := range []Revision{"a", "b", "c", "c"} {
		r.Add(rev)
	}
	require.Len(t, r.ring, 3)
	require.True(t, r.Has("a"))
	r.Add("d")
	r.Add("e")
	require.False(t, r.Has("a"))
	require.False(t, r.Has("b"))
	for _, rev := range []Revision{"c", "d", "e"} {
		require.True(t, r.Has(rev), rev)
	}
	require.Len(t, r.ring, 3)
	require.Len(t, r.set, 3)
}
