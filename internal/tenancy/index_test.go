package tenancy_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/reach"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// answers counts the index's answers and fallbacks.
type answers struct {
	mu     sync.Mutex
	events map[string]int
}

func (a *answers) Event(name string) { a.mu.Lock(); a.events[name]++; a.mu.Unlock() }
func (a *answers) State(reach.State) {}
func (a *answers) Lag(time.Duration) {}
func (a *answers) Size(int, int64)   {}

func (a *answers) count(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.events[name]
}

// Seed 000 asked of the index: the check, both listings and their paths
// come from memory, at least as fresh as the service's last save (read your
// writes without a token), and agree with SpiceDB's answers.
func TestIndex_AlexKeepsZylkerThroughSite24x7(t *testing.T) {
	w := newWorld(t)
	counted := &answers{events: map[string]int{}}
	x, _ := spicedbtest.Index(t, w.g, reach.Options{Observer: counted})
	w.svc.SetIndex(x)
	w.seedCast()
	w.editGroup("zoho", "zylker")
	w.editGroup("site24x7", "zylker")
	w.editUser("alex", "zoho", "site24x7")
	rep := w.editGroup("zoho")
	require.Equal(t, []tenancy.RetainedPair{retained("alex", "zylker", "customer_group:site24x7")}, rep.Retained)

	res, checkedAt, err := w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("alex", "zylker"), accessOf("bob", "zylker")}, "")
	require.NoError(t, err)
	require.Equal(t, []tenancy.CheckResult{{Allowed: true, Via: []string{"customer_group:site24x7"}}, {Allowed: false}}, res)
	customers, err := w.svc.CustomersOfUser(w.ctx, "acme", "alex", checkedAt)
	require.NoError(t, err)
	require.Equal(t, []tenancy.Access{{Pair: pair("alex", "zylker"), Via: []string{"customer_group:site24x7"}}}, customers.Access)
	users, err := w.svc.UsersOfCustomer(w.ctx, "acme", "zylker", "")
	require.NoError(t, err)
	require.Equal(t, customers.Access, users.Access)
	require.Equal(t, 3, counted.count(reach.EventAnswered))

	// Unknown objects are NotFound from the index as from SpiceDB.
	_, _, err = w.svc.Check(w.ctx, "acme", []tenancy.Question{accessOf("nobody", "zylker")}, "")
	requireKind(t, err, fault.NotFound, `subject: user "nobody" not found`)
	_, err = w.svc.CustomersOfUser(w.ctx, "acme", "nobody", "")
	requireKind(t, err, fault.NotFound, `userId: user "nobody" not found`)

	// A permission of the catalog comes from memory too.
	_, _, err = w.svc.Check(w.ctx, "acme", []tenancy.Question{{ResourceType: "customer", ResourceID: "zylker", Permission: "tickets.view", UserID: "alex"}}, "")
	require.NoError(t, err)
	require.Equal(t, 6, counted.count(reach.EventAnswered))
	require.Zero(t, counted.count(reach.EventFallbackBehind)+counted.count(reach.EventFallbackState))
}
