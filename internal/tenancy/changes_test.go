package tenancy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// feed opens acme's change feed after since as the world's actor; it ends
// with the test.
func (w *world) feed(since string) *tenancy.ChangeFeed {
	w.t.Helper()
	ctx, cancel := context.WithCancel(w.ctx)
	w.t.Cleanup(cancel)
	f, err := w.svc.WatchChanges(ctx, "acme", since)
	require.NoError(w.t, err)
	return f
}

// next is the feed's next change, which must come within 30 seconds.
func next(t *testing.T, f *tenancy.ChangeFeed) *tenancy.Change {
	t.Helper()
	type result struct {
		c   *tenancy.Change
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := f.Next()
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r.c
	case <-time.After(30 * time.Second):
		t.Fatal("no change within 30s")
		return nil
	}
}

// relationships are a change's relationships as "OP resource#relation@subject".
func relationships(c *tenancy.Change) []string {
	out := make([]string, len(c.Relationships))
	for i, r := range c.Relationships {
		out[i] = fmt.Sprintf("%s %s#%s@%s", r.Operation, r.Resource, r.Relation, r.Subject)
	}
	return out
}

// createdUser is the id of the one user a change created.
func createdUser(t *testing.T, c *tenancy.Change) string {
	t.Helper()
	require.Len(t, c.Events, 1, "%v", relationships(c))
	require.Equal(t, tenancy.UserCreated, c.Events[0].Kind)
	return c.Events[0].UserID
}

// The monitoring system follows Acme's feed while Alex joins (made here),
// is renamed by a write to SpiceDB from outside mspauthz, becomes a
// technician, and leaves. It sees each as a typed event with its origin, in
// order; never Acme's API tokens or save epochs, nor anything of Globex, nor
// an end-customer user as an MSP user.
func TestChanges_AlexJoinsIsRenamedBecomesATechnicianAndLeaves(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", nil, []string{"contoso"}, nil)
	w.msp("globex", nil, nil, nil)
	f := w.feed("")
	local := graph.WithWriteMetadata(w.ctx, map[string]string{tenancy.MetadataOrigin: tenancy.OriginLocal})

	_, err := w.svc.CreateUser(local, "acme", tenancy.User{ID: "alex", DisplayName: "Alex"})
	require.NoError(t, err)
	_, err = w.svc.CreateUser(local, "globex", tenancy.User{ID: "gina", DisplayName: "Gina"})
	require.NoError(t, err)
	_, err = w.g.Write(w.ctx, []graph.Update{
		{Op: graph.Touch, Relationship: graph.Rel(graph.Object{Type: "user", ID: "acme/alex"}, "attributes", graph.Object{Type: "msp", ID: "acme"}).
			WithAttributes(map[string]string{"display_name": "Alex Smith"})},
		{Op: graph.Create, Relationship: graph.Rel(graph.Object{Type: "api_token", ID: "t1"}, "scope", graph.Object{Type: "msp", ID: "acme"}).
			WithAttributes(map[string]string{"secret_sha256": "00ff"})},
	}, nil)
	require.NoError(t, err)
	require.NoError(t, w.svc.SetUserSecurityGroups(local, "acme", "alex", []string{"technician"}, tenancy.SaveOptions{}))
	_, err = w.svc.UpdateSettings(local, "acme", tenancy.Settings{EndCustomerRoleSelection: true})
	require.NoError(t, err)
	_, err = w.svc.CreateEndCustomerUser(local, "acme", "contoso", tenancy.EndCustomerUser{UserID: "erin", DisplayName: "Erin", Role: "admin"})
	require.NoError(t, err)
	_, err = w.svc.DeleteUser(local, "acme", "alex")
	require.NoError(t, err)

	created := next(t, f)
	require.Equal(t, tenancy.OriginLocal, created.Origin)
	require.Equal(t, []tenancy.ChangeEvent{{Kind: tenancy.UserCreated, UserID: "alex", DisplayName: "Alex"}}, created.Events)
	require.Contains(t, relationships(created), "TOUCH msp:acme#member@user:alex")
	require.Contains(t, created.Relationships, tenancy.RelationshipChange{Operation: tenancy.ChangeTouch, Resource: "user:alex", Relation: "attributes", Subject: "msp:acme", DisplayName: "Alex"})

	renamed := next(t, f)
	require.Empty(t, renamed.Origin, "a write from outside mspauthz has no origin")
	require.Equal(t, []tenancy.ChangeEvent{{Kind: tenancy.UserRenamed, UserID: "alex", DisplayName: "Alex Smith"}}, renamed.Events)
	require.Equal(t, []string{"TOUCH user:alex#attributes@msp:acme"}, relationships(renamed), "the API token written with it is not shown")

	technician := next(t, f)
	require.Equal(t, tenancy.OriginLocal, technician.Origin)
	require.Equal(t, []tenancy.ChangeEvent{{Kind: tenancy.UserRolesChanged, UserID: "alex", Roles: []tenancy.UserRole{{SecurityGroupID: "technician", RoleID: "technician"}}}}, technician.Events)
	require.Contains(t, relationships(technician), "TOUCH security_group:technician#member@user:alex")

	settings := next(t, f)
	require.Empty(t, settings.Events)
	require.Contains(t, relationships(settings), "TOUCH msp:acme#end_customer_role_selection@msp:acme")

	endCustomer := next(t, f)
	require.Empty(t, endCustomer.Events, "an end-customer user is not an MSP user")
	require.Contains(t, relationships(endCustomer), "TOUCH msp:acme#end_customer_user@user:erin")

	deleted := next(t, f)
	require.Equal(t, []tenancy.ChangeEvent{{Kind: tenancy.UserDeleted, UserID: "alex"}}, deleted.Events, "no role change for a deleted user")
	require.Contains(t, relationships(deleted), "DELETE security_group:technician#member@user:alex")

	for _, c := range []*tenancy.Change{created, renamed, technician, settings, endCustomer, deleted} {
		for _, r := range relationships(c) {
			for _, hidden := range []string{"save_epoch", "api_token", "globex", "gina", "acme/"} {
				require.NotContains(t, r, hidden)
			}
		}
	}
}

// A consumer that stops and resumes from the last ChangedAt it stored gets
// exactly the changes made meanwhile and after: none lost, none repeated.
func TestChanges_AResumedFeedLosesNothingAndRepeatsNothing(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", nil, nil, nil)
	create := func(users ...string) {
		for _, u := range users {
			_, err := w.svc.CreateUser(w.ctx, "acme", tenancy.User{ID: u, DisplayName: strings.ToUpper(u)})
			require.NoError(t, err)
		}
	}

	ctx, stop := context.WithCancel(w.ctx)
	f, err := w.svc.WatchChanges(ctx, "acme", "")
	require.NoError(t, err)
	create("u1", "u2", "u3")
	var tokens []string
	for _, want := range []string{"u1", "u2", "u3"} {
		c := next(t, f)
		require.Equal(t, want, createdUser(t, c))
		tokens = append(tokens, c.ChangedAt)
	}
	stop()
	_, err = f.Next()
	require.ErrorIs(t, err, context.Canceled, "the feed ends with its context")

	create("u4", "u5")
	resumed := w.feed(tokens[2])
	create("u6")
	for _, want := range []string{"u4", "u5", "u6"} {
		require.Equal(t, want, createdUser(t, next(t, resumed)))
	}

	fromMiddle := w.feed(tokens[0])
	for _, want := range []string{"u2", "u3", "u4", "u5", "u6"} {
		require.Equal(t, want, createdUser(t, next(t, fromMiddle)))
	}
	create("u7")
	require.Equal(t, "u7", createdUser(t, next(t, resumed)))
	require.Equal(t, "u7", createdUser(t, next(t, fromMiddle)))
}

// Only who manages Acme's users may follow its feed, and only while he does.
func TestChanges_OnlyWhoManagesUsersFollowsTheFeed(t *testing.T) {
	w := newWorld(t)
	w.msp("acme", []string{"tina", "sam"}, nil, nil)
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "tina", []string{"technician"}, tenancy.SaveOptions{}))
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "sam", []string{"admin"}, tenancy.SaveOptions{}))

	type refusal struct {
		name  string
		world *world
		msp   string
		since string
		kind  fault.Kind
		msg   string
	}
	cases := []refusal{
		{"a technician", w.as("tina"), "acme", "", fault.PermissionDenied, `user "tina" lacks users.manage`},
		{"an MSP that does not exist", w, "initech", "", fault.NotFound, `msp "initech" not found`},
		{"a token that is not one", w, "acme", "not-a-zedtoken", fault.Invalid, `since: "not-a-zedtoken" is not a ZedToken the change feed can resume from`},
	}
	if spicedbtest.Backend() == spicedbtest.Memory {
		// Every memory datastore is another datastore: its tokens mean
		// nothing to the next (as to a server in memory after a restart).
		_, other, err := spicedbtest.Graph(t).Read(w.ctx, graph.Filter{ResourceType: "msp"}, graph.Full())
		require.NoError(t, err)
		cases = append(cases, refusal{"a token of another datastore", w, "acme", string(other), fault.Invalid, "is not a ZedToken the change feed can resume from"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.world.svc.WatchChanges(tc.world.ctx, tc.msp, tc.since)
			requireKind(t, err, tc.kind, tc.msg)
		})
	}

	sam := w.as("sam").feed("")
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "tina", []string{"technician", "admin"}, tenancy.SaveOptions{}))
	require.Equal(t, tenancy.UserRolesChanged, next(t, sam).Events[0].Kind, "an admin follows the feed")
	require.NoError(t, w.svc.SetUserSecurityGroups(w.ctx, "acme", "sam", []string{"technician"}, tenancy.SaveOptions{}))
	_, err := sam.Next()
	requireKind(t, err, fault.PermissionDenied, `user "sam" lacks users.manage`)
}
