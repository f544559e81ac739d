package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/pgtest"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// restFeed is acme's change feed read over REST: one JSON object a line.
type restFeed struct {
	t     *testing.T
	lines chan map[string]any
}

// watch opens acme's change feed after since over REST; it must answer 200.
func (s *server) watch(token, since string) *restFeed {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(s.request(token, "GET", "/v1/msps/acme/changes:watch?since="+url.QueryEscape(since), nil))
	require.NoError(s.t, err)
	s.t.Cleanup(func() { resp.Body.Close() })
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	f := &restFeed{t: s.t, lines: make(chan map[string]any, 100)}
	go func() {
		defer close(f.lines)
		dec := json.NewDecoder(resp.Body)
		for {
			var line map[string]any
			if dec.Decode(&line) != nil {
				return
			}
			f.lines <- line
		}
	}()
	return f
}

// line is the feed's next line, which must come within 30 seconds; nil once
// the stream is over.
func (f *restFeed) line() map[string]any {
	f.t.Helper()
	select {
	case line := <-f.lines:
		return line
	case <-time.After(30 * time.Second):
		f.t.Fatal("no line of the change feed within 30s")
		return nil
	}
}

// change is the feed's next change.
func (f *restFeed) change() map[string]any {
	f.t.Helper()
	line := f.line()
	require.Contains(f.t, line, "result", "%v", line)
	return line["result"].(map[string]any)
}

// start reads the first message, which names the revision the feed starts
// after and changes nothing.
func (f *restFeed) start() string {
	f.t.Helper()
	c := f.change()
	require.Empty(f.t, c["relationships"])
	require.Empty(f.t, c["events"])
	return c["changedAt"].(string)
}

// created reads the next changes, each of which must create one user, in
// order, and returns the changedAt of the last.
func (f *restFeed) created(users ...string) string {
	f.t.Helper()
	last := ""
	for _, u := range users {
		c := f.change()
		require.Equal(f.t, []any{j{"userCreated": j{"userId": u, "displayName": strings.ToUpper(u)}}}, c["events"], "%v", c)
		last = c["changedAt"].(string)
	}
	return last
}

func createUsers(s *server, users ...string) {
	for _, u := range users {
		s.ok(adminToken, "POST", "/v1/msps/acme/users", j{"userId": u, "displayName": strings.ToUpper(u)})
	}
}

// The monitoring system reads Acme's change feed over REST and stores the
// changedAt of each change it processes. mspauthz is killed (SIGKILL);
// another instance on the same datastore takes writes while the consumer is
// away; the consumer resumes from its stored changedAt and gets exactly the
// changes it missed, then the new ones: none lost, none repeated. A graceful
// shutdown ends the feed at once (UNAVAILABLE), and the consumer resumes the
// same way on the next start.
func TestEndToEnd_TheChangeFeedResumesAcrossRestartsWithoutLossOrRepeat(t *testing.T) {
	backend := spicedbtest.ServeArgs(t)
	if spicedbtest.Backend() == spicedbtest.Memory {
		backend = []string{"--datastore", pgtest.Database(t)} // the memory datastore dies with the process
	}
	env := []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}
	first := start(t, env, backend...)
	first.ok(adminToken, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	f := first.watch(adminToken, "")
	f.start()
	createUsers(first, "u1", "u2")
	stored := f.created("u1", "u2")
	first.kill()
	require.Nil(t, f.line(), "the feed of a killed server breaks off")

	second := start(t, env, backend...)
	createUsers(second, "u3", "u4")
	f = second.watch(adminToken, stored)
	require.Equal(t, stored, f.start())
	createUsers(second, "u5")
	stored = f.created("u3", "u4", "u5")

	began := time.Now()
	second.stop()
	require.Less(t, time.Since(began), 5*time.Second, "an open feed does not hold the shutdown up")
	ended := f.line()
	require.Equal(t, float64(codes.Unavailable), ended["error"].(map[string]any)["code"], "%v", ended)
	require.Nil(t, f.line())

	third := start(t, env, backend...)
	createUsers(third, "u6")
	f = third.watch(adminToken, stored)
	f.start()
	f.created("u6")
}

// The feed over gRPC is the same feed; who may follow it is decided as for
// any call: a token of another MSP learns nothing of Acme, a user needs
// users.manage, refusals are on the audit trail, and every feed is logged
// with its caller when it ends.
func TestEndToEnd_TheChangeFeedOverGRPCAndWhoMayFollowIt(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	for _, msp := range []string{"acme", "globex"} {
		s.ok(a, "POST", "/v1/msps", j{"mspId": msp, "displayName": msp, "ownerUserId": "olivia"})
	}
	createUsers(s, "tina")
	acme := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	globex := s.ok(a, "POST", "/v1/msps/globex/tokens", j{})["token"].(string)
	tina := s.ok(a, "POST", "/v1/msps/acme/users/tina/tokens", j{})["token"].(string)

	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := pb.NewChangeServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := client.WatchChanges(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+acme), &pb.WatchChangesRequest{MspId: "acme"})
	require.NoError(t, err)
	opened, err := stream.Recv()
	require.NoError(t, err)
	require.NotEmpty(t, opened.GetChangedAt())
	require.Empty(t, opened.GetRelationships())
	createUsers(s, "sam")
	c, err := stream.Recv()
	require.NoError(t, err)
	require.Equal(t, "sam", c.GetEvents()[0].GetUserCreated().GetUserId())
	require.Contains(t, c.GetRelationships(), &pb.RelationshipChange{Operation: pb.RelationshipChange_OPERATION_TOUCH, Resource: "msp:acme", Relation: "member", Subject: "user:sam"})

	refusals := []struct {
		name, token, msp, since string
		code                    codes.Code
		msg                     string
	}{
		{"no token", "", "acme", "", codes.Unauthenticated, "missing Authorization"},
		{"a token of Globex", globex, "acme", "", codes.NotFound, `msp "acme" not found`},
		{"a technician", tina, "acme", "", codes.PermissionDenied, `user "tina" lacks users.manage`},
		{"a token that is not one", acme, "acme", "garbage", codes.InvalidArgument, `since: "garbage" is not a ZedToken`},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			callCtx := ctx
			if tc.token != "" {
				callCtx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tc.token)
			}
			refused, err := client.WatchChanges(callCtx, &pb.WatchChangesRequest{MspId: tc.msp, Since: tc.since})
			require.NoError(t, err)
			_, err = refused.Recv()
			require.Equal(t, tc.code, status.Code(err), "%v", err)
			require.Contains(t, status.Convert(err).Message(), tc.msg)

			// Over REST the same, as grpc-gateway streams errors: the HTTP
			// status of the code and one {"error": ...} line.
			resp, err := http.DefaultClient.Do(s.request(tc.token, "GET", "/v1/msps/"+tc.msp+"/changes:watch?since="+tc.since, nil))
			require.NoError(t, err)
			defer resp.Body.Close()
			var line map[string]map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&line))
			require.Equal(t, float64(tc.code), line["error"]["code"])
			require.Contains(t, line["error"]["message"], tc.msg)
		})
	}
	audited := s.auditEvents(a, "acme", url.Values{"action": {"ChangeService/WatchChanges"}})
	require.Len(t, audited, 2, "tina's refusals, over gRPC and over REST: %v", audited)
	require.Equal(t, "tina", audited[0]["actor"])
	require.Contains(t, audited[0]["outcome"], "PermissionDenied: user \"tina\" lacks users.manage")

	cancel()
	hungUp := regexp.MustCompile(`"msg":"grpc request","method":"/mspauthz.v1.ChangeService/WatchChanges","status":"Canceled","duration":\d+,"caller":"token:[^"]+@acme"`)
	require.Eventually(t, func() bool { return hungUp.MatchString(s.logs.String()) }, 10*time.Second, 50*time.Millisecond, "a feed is logged when its caller hangs up")
	require.Regexp(t, `"msg":"http request","method":"GET","path":"/v1/msps/acme/changes:watch","status":403,"duration":\d+,"caller":"token:[^"]+@acme/tina"`, s.logs.String())
}
