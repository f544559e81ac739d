package tenancy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Alex loses Zylker through node A; node B, asked at that save's writtenAt,
// denies — every time, and the other way round. A ZedToken from one node
// holds on every node of the cluster: at_least_as_fresh never answers from
// before the write it names.
func TestCluster_ASaveWrittenThroughOneNodeHoldsOnTheOther(t *testing.T) {
	if spicedbtest.Backend() != spicedbtest.Remote {
		t.Skip("needs the SpiceDB cluster: MSPAUTHZ_TEST_BACKEND=remote")
	}
	w := newWorld(t)
	w.seedCast()
	w.editUser("alex", "zoho")
	c := spicedbtest.SharedCluster(t)
	node := map[string]*tenancy.Service{}
	for _, n := range []*spicedbtest.Node{c.A, c.B} {
		conn, err := n.Dial()
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		node[n.Name] = tenancy.New(spicedb.NewGraph(conn))
	}
	allowed := func(on, at string) bool {
		t.Helper()
		res, _, err := node[on].Check(w.ctx, "acme", []tenancy.Question{accessOf("alex", "zylker")}, at)
		require.NoError(t, err)
		return res[0].Allowed
	}
	for i := range 100 {
		writer, reader := "a", "b"
		if i%2 == 1 {
			writer, reader = "b", "a"
		}
		rep, err := node[writer].EditCustomerGroup(w.ctx, "acme", "zoho", []string{"zylker"}, tenancy.SaveOptions{AllowEmpty: true})
		require.NoError(t, err)
		require.True(t, allowed(reader, rep.WrittenAt), "round %d: associated through %s, checked through %s", i, writer, reader)
		rep, err = node[writer].EditCustomerGroup(w.ctx, "acme", "zoho", nil, tenancy.SaveOptions{AllowEmpty: true})
		require.NoError(t, err)
		require.Equal(t, []tenancy.Pair{pair("alex", "zylker")}, rep.Dissociated)
		require.False(t, allowed(reader, rep.WrittenAt), "round %d: dissociated through %s, checked through %s", i, writer, reader)
	}
}
