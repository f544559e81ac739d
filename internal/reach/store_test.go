package reach

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/graph"
)

func rel(resType, resID, relation, subType, subID string) graph.Relationship {
	return graph.Rel(graph.Object{Type: resType, ID: resID}, relation, graph.Object{Type: subType, ID: subID})
}

func touch(r graph.Relationship) graph.Update { return graph.Update{Op: graph.Touch, Relationship: r} }
func remove(r graph.Relationship) graph.Update {
	return graph.Update{Op: graph.Delete, Relationship: r}
}

// A draft shares its store's sets and changes none of them: the store
// answers as before while the draft is written, deep in its arrays too (ids
// past the first nodes), and the draft once published answers the new.
func TestStore_ADraftLeavesItsStoreUnchanged(t *testing.T) {
	s := newStore()
	for i := range 5000 {
		u := fmt.Sprintf("u%d", i)
		s.apply(touch(rel(typeMSP, "m", relMember, typeUser, u)))
		s.apply(touch(rel(typeCustomerGroup, fmt.Sprintf("g%d", i%70), relMember, typeUser, u)))
	}
	for i := range 300 {
		c := fmt.Sprintf("c%d", i)
		s.apply(touch(rel(typeCustomer, c, relMSP, typeMSP, "m")))
		s.apply(touch(rel(typeCustomer, c, relCustomerGroup, typeCustomerGroup, fmt.Sprintf("g%d", i%70))))
	}
	s.apply(touch(rel(typeCustomer, "c239", relDirect, typeUser, "u4999")))
	s.publish()
	before := func(st *store) {
		require.True(t, st.access("u4999", "c239"))
		require.True(t, st.access("u69", "c69"))
		require.False(t, st.access("u4999", "c1"))
		require.Equal(t, Paths{Direct: true, CustomerGroups: []string{"g29"}, Count: 2}, st.pathsOf("u4999", "c239"))
		require.Len(t, st.usersOf("c69"), 71) // u69, u139, ... u4969
		require.True(t, st.access("u4998", "c28"))
		require.Len(t, st.customersOf("u4999"), 4) // c29, c99, c169, c239: g29
		_, known := st.users().find("u-new")
		require.False(t, known)
	}
	before(s)

	d := s.draft()
	for _, u := range []graph.Update{
		remove(rel(typeCustomer, "c239", relDirect, typeUser, "u4999")),
		remove(rel(typeCustomerGroup, "g69", relMember, typeUser, "u69")),
		touch(rel(typeCustomer, "c1", relCustomerGroup, typeCustomerGroup, "g29")),
		remove(rel(typeMSP, "m", relMember, typeUser, "u4998")),
		touch(rel(typeCustomer, "c1", relDirect, typeUser, "u-new")),
		touch(rel(typeMSP, "m", relMember, typeUser, "u-new")),
	} {
		d.apply(u)
	}
	before(s)
	d.publish()
	require.False(t, d.access("u69", "c69"))
	require.True(t, d.access("u4999", "c1"))
	require.Equal(t, Paths{CustomerGroups: []string{"g29"}, Count: 1}, d.pathsOf("u4999", "c239"))
	require.False(t, d.access("u4998", "c28"))
	require.True(t, d.access("u-new", "c1"))
	require.Len(t, d.customersOf("u4999"), 5)
	rels, _ := d.size()
	require.Equal(t, 5000*2+300*2+1, rels) // three removed, three added
}

// Ids sort by their ids whichever way: many through the bitset of their
// ranks, few by comparing ranks, and ids newer than the ranks merged in.
func TestStore_SortsIdsByTheirIDs(t *testing.T) {
	d := newIDs()
	for i := range 3000 {
		d.intern(fmt.Sprintf("u%05d", (i*7919)%3000)) // numbered out of order
	}
	d.t.publish()
	all := make([]uint32, 3000)
	for i := range all {
		all[i] = uint32(i)
	}
	d.sortByID(all[:0:0]) // rank them
	for i := range 100 {
		d.intern(fmt.Sprintf("u%05d-new%d", (i*37)%3000, i)) // newer than the ranks
	}
	d.t.publish()
	for _, n := range []int{3100, 2000, 40, 3} {
		ns := make([]uint32, 0, n)
		for i := range n {
			ns = append(ns, uint32((i*101)%3100))
		}
		slices.Sort(ns)
		ns = slices.Compact(ns)
		var want []string
		for _, k := range ns {
			want = append(want, d.names[k])
		}
		slices.Sort(want)
		var got []string
		for _, k := range d.sortByID(slices.Clone(ns)) {
			got = append(got, d.names[k])
		}
		require.Equal(t, want, got, "%d ids", n)
	}
}
