package reach_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// estate is a world of two MSPs with every relation the schema's permissions
// read: security groups of the four scopes, custom roles, time-bound grants,
// partner access, end-customer roles and users, the own domain, and a
// customer's objects (a maintenance window, an outage comment, a monitor
// and its group, an alert group).
type estate struct {
	msps, customers, groups, users, securityGroups, roles, grants []string
	windows, comments, monitorGroups, monitors, alertGroups       []string
	// expiring are the instants the short grants written so far end at.
	expiring []time.Time
}

func newEstate() *estate {
	e := &estate{}
	for m := range 2 {
		msp := fmt.Sprintf("m%d", m)
		e.msps = append(e.msps, msp)
		add := func(list *[]string, prefix string, n int) {
			for i := range n {
				*list = append(*list, fmt.Sprintf("%s/%s%d", msp, prefix, i))
			}
		}
		add(&e.customers, "c", 4)
		add(&e.groups, "g", 2)
		add(&e.users, "u", 5) // u4 is one of the customers' own users
		add(&e.securityGroups, "s", 3)
		add(&e.roles, "r", 2)
		add(&e.grants, "gr", 2)
		e.windows = append(e.windows, msp+"/c0/w0")
		e.comments = append(e.comments, msp+"/c0/o0")
		e.monitorGroups = append(e.monitorGroups, msp+"/c0/mg0")
		e.monitors = append(e.monitors, msp+"/c0/mo0")
		e.alertGroups = append(e.alertGroups, msp+"/c0/ag0")
	}
	return e
}

// base: every object in its MSP, staff members of it, u4 an end-customer user.
func (e *estate) base() []graph.Update {
	var out []graph.Update
	touch := func(r graph.Relationship) { out = append(out, graph.Update{Op: graph.Touch, Relationship: r}) }
	for _, c := range e.customers {
		touch(graph.Rel(obj("customer", c), "msp", obj("msp", ownMSP(c))))
	}
	for i, u := range e.users {
		touch(graph.Rel(obj("user", u), "msp", obj("msp", ownMSP(u))))
		if i%5 == 4 {
			touch(graph.Rel(obj("msp", ownMSP(u)), "end_customer_user", obj("user", u)))
		} else {
			touch(graph.Rel(obj("msp", ownMSP(u)), "member", obj("user", u)))
		}
	}
	for i, m := range e.msps {
		c0 := obj("customer", m+"/c0")
		touch(graph.Rel(obj("maintenance_window", e.windows[i]), "customer", c0))
		touch(graph.Rel(obj("outage_comment", e.comments[i]), "customer", c0))
		touch(graph.Rel(obj("monitor", e.monitors[i]), "customer", c0))
		touch(graph.Rel(obj("user_alert_group", e.alertGroups[i]), "customer", c0))
	}
	return out
}

var everyone = obj("user", "*")

// randomRel is a relationship some permission reads, between random objects
// (now and then across MSPs).
func (e *estate) randomRel(r *rand.Rand) graph.Relationship {
	customer, user := obj("customer", pick(r, e.customers)), obj("user", pick(r, e.users))
	sg, role := obj("security_group", pick(r, e.securityGroups)), obj("role", pick(r, e.roles))
	group, grant, msp := obj("customer_group", pick(r, e.groups)), obj("grant", pick(r, e.grants)), obj("msp", pick(r, e.msps))
	switch k := r.IntN(24); k {
	case 0, 1:
		return graph.Rel(customer, "direct", user)
	case 2:
		return graph.Rel(customer, "customer_group", group)
	case 3:
		return graph.Rel(group, "member", user)
	case 4, 5:
		return graph.Rel(sg, "member", user)
	case 6:
		return graph.Rel(sg, "role", role)
	case 7:
		return graph.Rel(customer, "security_group", sg)
	case 8:
		return graph.Rel(group, "security_group", sg)
	case 9:
		return graph.Rel(msp, "all_customers_security_group", sg)
	case 10:
		return graph.Rel(msp, "associated_security_group", sg)
	case 11, 12, 13:
		return graph.Rel(role, pick(r, catalog.All).Relation(), everyone)
	case 14:
		return graph.Rel(grant, "security_group", sg)
	case 15:
		return graph.Rel(grant, "role", role)
	case 16:
		return graph.Rel(customer, "grant", grant) // its expiration: randomWrite
	case 17:
		return graph.Rel(customer, "partner_access_off", everyone)
	case 18, 19:
		return graph.Rel(customer, "end_customer_"+pick(r, catalog.EndCustomerRoles).ID, user)
	case 20:
		return graph.Rel(msp, "own_domain", customer)
	case 21:
		i := r.IntN(len(e.msps))
		switch r.IntN(4) {
		case 0:
			return graph.Rel(obj("maintenance_window", e.windows[i]), "creator", user)
		case 1:
			return graph.Rel(obj("maintenance_window", e.windows[i]), "modified_by_other", everyone)
		case 2:
			return graph.Rel(obj("outage_comment", e.comments[i]), "creator", user)
		}
		return graph.Rel(obj("user_alert_group", e.alertGroups[i]), "contact", user)
	case 22:
		i := r.IntN(len(e.msps))
		if r.IntN(2) == 0 {
			return graph.Rel(obj("monitor_group", e.monitorGroups[i]), "spokesperson", user)
		}
		return graph.Rel(obj("monitor", e.monitors[i]), "monitor_group", obj("monitor_group", e.monitorGroups[i]))
	}
	if r.IntN(2) == 0 {
		return graph.Rel(msp, "member", user)
	}
	return graph.Rel(msp, "end_customer_user", user)
}

// shortGrant is how long a grant written to end during the test lasts at most.
const shortGrant = 300 * time.Millisecond

// randomWrite writes or deletes one to five random relationships. A grant
// approved for a customer ends soon (it expires before the next
// comparison), in an hour, or in a year.
func (e *estate) randomWrite(ctx context.Context, t *testing.T, r *rand.Rand, g graph.Graph) graph.Revision {
	t.Helper()
	updates := randomUpdates(r, 1+r.IntN(5), e.randomRel, func(rel *graph.Relationship) {
		if rel.Relation != "grant" {
			return
		}
		switch r.IntN(3) {
		case 0:
			rel.Expires = time.Now().Add(50*time.Millisecond + time.Duration(r.Int64N(int64(shortGrant))))
			e.expiring = append(e.expiring, rel.Expires)
		case 1:
			rel.Expires = time.Now().Add(time.Hour)
		default:
			rel.Expires = time.Now().AddDate(1, 0, 0)
		}
	})
	rev, err := g.Write(ctx, updates, nil)
	require.NoError(t, err)
	return rev
}

// settle waits until every short grant written so far has ended, so that
// no grant ends while the index and SpiceDB are asked.
func (e *estate) settle() {
	for _, at := range e.expiring {
		if d := time.Until(at); d > -20*time.Millisecond {
			time.Sleep(d + 20*time.Millisecond)
		}
	}
	e.expiring = nil
}

// questions are every permission of the schema the index answers, on every
// customer, MSP and customer object of the estate, for every user.
func (e *estate) questions() []graph.Check {
	var out []graph.Check
	for _, on := range []struct {
		typ string
		ids []string
	}{
		{"customer", e.customers}, {"msp", e.msps}, {"maintenance_window", e.windows}, {"outage_comment", e.comments},
		{"monitor", e.monitors}, {"user_alert_group", e.alertGroups},
	} {
		perms := reach.Permissions(on.typ)
		for _, id := range on.ids {
			for _, p := range perms {
				for _, u := range e.users {
					out = append(out, graph.Check{Resource: obj(on.typ, id), Permission: p, Subject: obj("user", u)})
				}
			}
		}
	}
	return out
}

// The index answers every permission of the schema as SpiceDB does, after
// random writes of every relation they read — security groups of every
// scope, role edits, grants approved, revoked and expired, partner access
// flipped, end-customer roles changed — compared after every batch, at the
// batch's last ZedToken, on every question of the estate, with SpiceDB at
// exactly the index's revision.
func TestIndex_AnswersEveryPermissionAsSpiceDBAfterRandomWrites(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	e := newEstate()
	_, err := g.Write(ctx, e.base(), nil)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(22, 1))
	for range 150 {
		e.randomWrite(ctx, t, r, g)
	}
	x, rec, _ := start(t, g, reach.Options{MaxWait: 10 * time.Second})
	questions := e.questions()
	require.Greater(t, len(questions), 5000)
	batches := 12
	if testing.Short() || spicedbtest.Backend() != spicedbtest.Memory {
		batches = 6 // SpiceDB answers 8,000 checks a batch in seconds on PostgreSQL
	}
	allowed := 0
	for batch := range batches {
		// Every other batch, arrows ask only their candidates however few
		// objects they go through (at this size, they never would).
		restore := func() {}
		if batch%2 == 0 {
			restore = reach.PruneArrowsThrough(0)
		}
		var last graph.Revision
		for range 40 {
			last = e.randomWrite(ctx, t, r, g)
		}
		e.settle()
		var answers []bool
		rev, ok := x.Read(ctx, last, func(v reach.View) {
			var indexed bool
			answers, indexed = v.Check(questions)
			require.True(t, indexed, "the index answers every permission")
		})
		require.True(t, ok)
		want, _, err := g.Check(ctx, questions, graph.At(rev))
		require.NoError(t, err)
		for i, c := range questions {
			require.Equal(t, want[i], answers[i], "batch %d: %s#%s@%s at %s", batch, c.Resource, c.Permission, c.Subject, rev)
			if want[i] {
				allowed++
			}
		}
		restore()
	}
	require.Greater(t, allowed, batches*200, "the estate allows enough to prove something")
	require.Zero(t, rec.count(reach.EventFallbackBehind)+rec.count(reach.EventFallbackState))
}

// A time-bound grant allows right up to its instant and never after it, at
// the same revision (nothing is written as it ends), from the index as from
// SpiceDB asked at exactly the index's revision.
func TestIndex_AGrantEndsAtItsInstantAsInSpiceDB(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	ends := time.Now().Add(1500 * time.Millisecond).Truncate(time.Microsecond) // PostgreSQL's precision
	grant := graph.Rel(obj("customer", "m0/c0"), "grant", obj("grant", "m0/gr0"))
	grant.Expires = ends
	var updates []graph.Update
	for _, r := range []graph.Relationship{
		graph.Rel(obj("customer", "m0/c0"), "msp", obj("msp", "m0")),
		graph.Rel(obj("msp", "m0"), "member", obj("user", "m0/gus")),
		graph.Rel(obj("security_group", "m0/support"), "member", obj("user", "m0/gus")),
		graph.Rel(obj("role", "m0/helpdesk"), "tickets_create", everyone),
		graph.Rel(obj("grant", "m0/gr0"), "security_group", obj("security_group", "m0/support")),
		graph.Rel(obj("grant", "m0/gr0"), "role", obj("role", "m0/helpdesk")),
		grant,
	} {
		updates = append(updates, graph.Update{Op: graph.Touch, Relationship: r})
	}
	written, err := g.Write(ctx, updates, nil)
	require.NoError(t, err)
	x, _, _ := start(t, g, reach.Options{})
	waitFor(t, x, written)
	ticket := []graph.Check{{Resource: obj("customer", "m0/c0"), Permission: "tickets_create", Subject: obj("user", "m0/gus")}}
	ask := func() (index, spicedb bool, rev graph.Revision) {
		rev, ok := x.Read(ctx, written, func(v reach.View) {
			answers, indexed := v.Check(ticket)
			require.True(t, indexed)
			index = answers[0]
		})
		require.True(t, ok)
		want, _, err := g.Check(ctx, ticket, graph.At(rev))
		require.NoError(t, err)
		return index, want[0], rev
	}
	time.Sleep(time.Until(ends) - 40*time.Millisecond)
	index, spicedb, before := ask()
	require.True(t, index, "the index allows right before the grant ends")
	require.True(t, spicedb, "SpiceDB allows right before the grant ends")
	time.Sleep(time.Until(ends) + 5*time.Millisecond)
	index, spicedb, after := ask()
	require.False(t, index, "the index denies right after the grant ends")
	require.False(t, spicedb, "SpiceDB denies right after the grant ends")
	require.Equal(t, before, after, "nothing was written: the same revision")
}
