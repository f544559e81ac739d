package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// binary is the mspauthz binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mspauthz-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "mspauthz")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	spicedbtest.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const adminToken = "e2e-platform-token-0123456789"

// server is a running mspauthz process.
type server struct {
	t        *testing.T
	cmd      *exec.Cmd
	base     string
	grpcAddr string
	stdout   *safeBuffer
	logs     *safeBuffer
}

type safeBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

var servingLine = regexp.MustCompile(`"msg":"serving","http":"([^"]+)","grpc":"([^"]+)"`)

// start runs the binary on free ports and waits until it serves.
func start(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	if !slices.Contains(args, "--datastore") && !slices.Contains(args, "--spicedb-endpoint") {
		args = append(args, spicedbtest.ServeArgs(t)...)
	}
	if !spicedbtest.IndexOn() {
		args = append(args, "--index=false")
	}
	cmd := exec.Command(binary, append([]string{"serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	s := &server{t: t, cmd: cmd, stdout: &safeBuffer{mu: make(chan struct{}, 1)}, logs: &safeBuffer{mu: make(chan struct{}, 1)}}
	cmd.Stdout = s.stdout
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = s.logs.Write([]byte(line + "\n"))
			if m := servingLine.FindStringSubmatch(line); m != nil {
				found <- m
			}
		}
	}()
	select {
	case m := <-found:
		s.base, s.grpcAddr = "http://"+m[1], m[2]
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("mspauthz did not start:\n%s", s.logs.String())
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// stop sends SIGTERM and requires a clean, graceful exit.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(s.t, err, "exit after SIGTERM:\n%s", s.logs.String())
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Fatal("mspauthz did not stop on SIGTERM")
	}
}

// mspauthz runs the built binary with args and returns its exit code,
// stdout and stderr.
func mspauthz(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return mspauthzEnv(t, nil, args...)
}

// mspauthzEnv runs the built binary with args and extra environment.
func mspauthzEnv(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, stdout.String(), stderr.String()
}

// request builds one REST request.
func (s *server) request(token, method, path string, body any) *http.Request {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// withHeader sets header pairs on req.
func (s *server) withHeader(req *http.Request, header ...string) *http.Request {
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// do sends a request and decodes the JSON answer.
func (s *server) do(req *http.Request) (int, map[string]any) {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	var out map[string]any
	require.NoError(s.t, json.Unmarshal(raw, &out), "answer of %s %s: %s", req.Method, req.URL.Path, raw)
	return resp.StatusCode, out
}

// call makes one REST call and decodes the JSON answer.
func (s *server) call(token, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	return s.do(s.request(token, method, path, body))
}

// ok makes a call that must answer 200.
func (s *server) ok(token, method, path string, body any) map[string]any {
	s.t.Helper()
	code, out := s.call(token, method, path, body)
	require.Equal(s.t, http.StatusOK, code, "%s %s: %v", method, path, out)
	return out
}

// fails makes a call (with header pairs, if any) that must answer status,
// with a message containing msg.
func (s *server) fails(status int, msg, token, method, path string, body any, header ...string) map[string]any {
	s.t.Helper()
	code, out := s.do(s.withHeader(s.request(token, method, path, body), header...))
	require.Equal(s.t, status, code, "%s %s: %v", method, path, out)
	require.Contains(s.t, out["message"], msg)
	return out
}

// j is a JSON object literal.
type j = map[string]any

func pairs(ps ...string) []any {
	out := []any{}
	for _, p := range ps {
		user, customer, _ := strings.Cut(p, "@")
		out = append(out, j{"userId": user, "customerId": customer})
	}
	return out
}

func TestEndToEnd_SeedScenariosOverREST(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken

	// Tenancy objects.
	require.Equal(t, j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"},
		s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"}))
	for _, u := range []string{"alex", "bob", "carol", "ulla", "vic"} {
		s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": u, "displayName": strings.ToUpper(u[:1]) + u[1:]})
	}
	for _, c := range []string{"zylker", "globex", "initech"} {
		s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": c, "displayName": c})
	}
	for _, g := range []string{"zoho", "site24x7"} {
		require.Equal(t, j{"customerGroupId": g, "displayName": g, "origin": "local", "members": []any{}, "customers": []any{}}, s.ok(a, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": g, "displayName": g}))
	}
	s.fails(409, `customer "zylker" already exists`, a, "POST", "/v1/msps/acme/customers", j{"customerId": "zylker", "displayName": "Zylker"})

	// The forms, as seed 000 tells them.
	s.ok(a, "PUT", "/v1/msps/acme/customerGroups/zoho/customers", j{"customers": []string{"zylker", "globex"}})
	s.ok(a, "PUT", "/v1/msps/acme/customerGroups/site24x7/customers", j{"customers": []string{"zylker"}})
	rep := s.ok(a, "PUT", "/v1/msps/acme/users/alex/customerGroups", j{"customerGroups": []string{"zoho", "site24x7"}})
	require.Equal(t, pairs("alex@globex", "alex@zylker"), rep["associated"])
	s.ok(a, "PUT", "/v1/msps/acme/users/bob/customerGroups", j{"customerGroups": []string{"zoho"}})

	// Edit Customer Preferences: Alex keeps Zylker through Site24x7; Bob, only in Zoho, leaves.
	preview := s.ok(a, "PUT", "/v1/msps/acme/customers/zylker/preferences", j{"customerGroups": []string{"site24x7"}, "users": []string{"carol"}, "validateOnly": true})
	rep = s.ok(a, "PUT", "/v1/msps/acme/customers/zylker/preferences", j{"customerGroups": []string{"site24x7"}, "users": []string{"carol"}, "validateOnly": false})
	require.Equal(t, j{
		"writtenAt":            rep["writtenAt"],
		"associated":           pairs("carol@zylker"),
		"dissociated":          pairs("bob@zylker"),
		"retained":             []any{j{"userId": "alex", "customerId": "zylker", "via": []any{"customer_group:site24x7"}}},
		"alertContactsRemoved": []any{},
	}, rep)
	require.NotEmpty(t, rep["writtenAt"])
	preview["writtenAt"] = rep["writtenAt"]
	require.Equal(t, rep, preview, "validateOnly answers the same report")

	// A check at the save's token can never see Bob's old access.
	check := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:bob", "atLeastAsFresh": rep["writtenAt"]})
	require.Equal(t, false, check["allowed"])
	require.Equal(t, []any{}, check["via"])
	require.NotEmpty(t, check["checkedAt"])
	check = s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:alex"})
	require.Equal(t, j{"allowed": true, "checkedAt": check["checkedAt"], "via": []any{"customer_group:site24x7"}}, check)

	// Edit Customer Group: Alex leaves Zylker when Site24x7 was his only path left.
	rep = s.ok(a, "PUT", "/v1/msps/acme/customerGroups/site24x7/customers", j{"customers": []string{"initech"}})
	require.Equal(t, pairs("alex@zylker"), rep["dissociated"])
	require.Equal(t, pairs("alex@initech"), rep["associated"])

	// Edit User: Alex keeps Globex through Zoho while leaving Initech.
	s.ok(a, "PUT", "/v1/msps/acme/customerGroups/site24x7/customers", j{"customers": []string{"initech", "globex"}})
	rep = s.ok(a, "PUT", "/v1/msps/acme/users/alex/customerGroups", j{"customerGroups": []string{"zoho"}})
	require.Equal(t, pairs("alex@initech"), rep["dissociated"])
	require.Equal(t, []any{j{"userId": "alex", "customerId": "globex", "via": []any{"customer_group:zoho"}}}, rep["retained"])

	// Who reaches what, and why.
	users := s.ok(a, "GET", "/v1/msps/acme/customers/globex/users?atLeastAsFresh="+rep["writtenAt"].(string), nil)
	require.Equal(t, []any{
		j{"userId": "alex", "via": []any{"customer_group:zoho"}},
		j{"userId": "bob", "via": []any{"customer_group:zoho"}},
	}, users["users"])
	customers := s.ok(a, "GET", "/v1/msps/acme/users/alex/customers", nil)
	require.Equal(t, []any{j{"customerId": "globex", "via": []any{"customer_group:zoho"}}}, customers["customers"])
	bulk := s.ok(a, "POST", "/v1/msps/acme/check:bulk", j{"items": []j{
		{"resource": "customer:globex", "permission": "access", "subject": "user:bob"},
		{"resource": "customer:zylker", "permission": "access", "subject": "user:bob"},
	}})
	require.Equal(t, []any{j{"allowed": true, "via": []any{"customer_group:zoho"}}, j{"allowed": false, "via": []any{}}}, bulk["results"])

	// The guards: an Account Contact and the last contact of an alert group.
	require.Equal(t, "bob", s.ok(a, "PUT", "/v1/msps/acme/customers/globex/accountContact", j{"userId": "bob"})["userId"])
	s.ok(a, "PUT", "/v1/msps/acme/customers/globex/alertGroups/ops", j{"contacts": []string{"alex"}})
	blocked := s.fails(400, "nothing was written", a, "PUT", "/v1/msps/acme/customerGroups/zoho/customers", j{"customers": []string{"zylker"}})
	require.Equal(t, float64(codes.FailedPrecondition), blocked["code"])
	require.Contains(t, blocked["message"], "ACCOUNT_CONTACT")
	require.Contains(t, blocked["message"], "LAST_ALERT_GROUP_CONTACT")
	require.Equal(t, []any{
		j{"@type": "type.googleapis.com/mspauthz.v1.GuardBlock", "userId": "alex", "customerId": "globex", "reason": "LAST_ALERT_GROUP_CONTACT", "alertGroupId": "ops"},
		j{"@type": "type.googleapis.com/mspauthz.v1.GuardBlock", "userId": "bob", "customerId": "globex", "reason": "ACCOUNT_CONTACT", "alertGroupId": ""},
	}, blocked["details"])
	s.fails(400, "ACCOUNT_OWNER", a, "DELETE", "/v1/msps/acme/users/olivia", nil)
	require.Equal(t, true, s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:globex", "permission": "access", "subject": "user:bob"})["allowed"], "the refused save wrote nothing")

	// Deletes cascade and report who lost access.
	rep = s.ok(a, "DELETE", "/v1/msps/acme/customers/globex", nil)
	require.Equal(t, pairs("alex@globex", "bob@globex"), rep["dissociated"])
	s.fails(404, `customer "globex" not found`, a, "GET", "/v1/msps/acme/customers/globex", nil)
	s.ok(a, "DELETE", "/v1/msps/acme/customerGroups/site24x7", nil)
	s.ok(a, "DELETE", "/v1/msps/acme/users/vic", nil)

	// Lists and gets.
	list := s.ok(a, "GET", "/v1/msps/acme/users?pageSize=2", nil)
	require.Len(t, list["users"], 2)
	require.NotEmpty(t, list["nextPageToken"])
	list = s.ok(a, "GET", "/v1/msps/acme/users?pageSize=10&pageToken="+list["nextPageToken"].(string), nil)
	require.Len(t, list["users"], 3)
	require.Equal(t, j{"userId": "alex", "displayName": "Alex", "singleCustomerId": "", "origin": "local", "externalId": "",
		"customerGroups": []any{j{"customerGroupId": "zoho", "origin": "local"}}, "securityGroups": []any{}}, s.ok(a, "GET", "/v1/msps/acme/users/alex", nil))
	require.Equal(t, j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"}, s.ok(a, "GET", "/v1/msps/acme", nil))
	require.Len(t, s.ok(a, "GET", "/v1/msps/acme/customers", nil)["customers"], 2)
	require.Len(t, s.ok(a, "GET", "/v1/msps/acme/customerGroups", nil)["customerGroups"], 1)

	// The OpenAPI document is served.
	resp, err := http.Get(s.base + "/openapi.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	resp.Body.Close()
	require.Contains(t, doc["paths"], "/v1/msps/{mspId}/customers/{customerId}/preferences")
}

func TestEndToEnd_TokensAndBadInput(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken

	// Missing, wrong or malformed credentials: 401, nothing happens.
	s.fails(401, "missing Authorization", "", "GET", "/v1/msps", nil)
	s.fails(401, "unknown or revoked token", "not-a-token", "GET", "/v1/msps", nil)
	s.fails(401, "missing Authorization", "", "POST", "/v1/msps", j{"mspId": "evil", "displayName": "Evil", "ownerUserId": "eve"})
	s.fails(404, `msp "evil" not found`, a, "GET", "/v1/msps/evil", nil)

	// An MSP token reads and writes its own MSP only; another MSP does not exist for it.
	issued := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})
	acme := issued["token"].(string)
	require.Equal(t, "acme", issued["mspId"])
	require.Equal(t, []any{issued["tokenId"]}, s.ok(a, "GET", "/v1/msps/acme/tokens", nil)["tokenIds"])
	require.Equal(t, []any{j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"}}, s.ok(acme, "GET", "/v1/msps", nil)["msps"])
	s.ok(acme, "GET", "/v1/msps/acme/customers/zylker/users", nil)
	s.fails(404, `msp "northwind" not found`, acme, "GET", "/v1/msps/northwind/customers/contoso/users", nil)
	s.fails(404, `msp "northwind" not found`, acme, "PUT", "/v1/msps/northwind/users/gina/customerGroups", j{"customerGroups": []string{}})
	s.fails(404, `msp "northwind" not found`, acme, "POST", "/v1/msps/northwind/tokens", j{})
	s.fails(404, `msp "nosuch" not found`, acme, "GET", "/v1/msps/nosuch", nil)
	s.fails(403, "platform token", acme, "POST", "/v1/msps", j{"mspId": "evil", "displayName": "Evil", "ownerUserId": "eve"})
	s.fails(403, "platform token", acme, "POST", "/v1/msps/acme/tokens", j{})
	// Another MSP's objects through one's own MSP: not found.
	s.fails(404, `customer "contoso" not found`, acme, "PUT", "/v1/msps/acme/customerGroups/zoho/customers", j{"customers": []string{"contoso"}})

	// Bad input: 400 naming the problem, and nothing written.
	before := s.ok(a, "GET", "/v1/msps/acme/customers/zylker/users", nil)["users"]
	form := "/v1/msps/acme/customerGroups/zoho/customers"
	s.fails(400, "request body", a, "PUT", form, `{"customers": ["zylker"`)
	s.fails(400, `unknown field "customer"`, a, "PUT", form, `{"customer": ["zylker"]}`)
	s.fails(400, "request body", a, "PUT", form, `{"customers": "zylker"}`)
	s.fails(400, "request body", a, "PUT", form, `{"customers": [1, 2]}`)
	s.fails(400, `customers[0]: "Zylker" is not a valid id`, a, "PUT", form, j{"customers": []string{"Zylker"}})
	s.fails(400, `customers: "zylker" is selected twice`, a, "PUT", form, j{"customers": []string{"zylker", "zylker"}})
	s.fails(400, "the selection is empty", a, "PUT", form, j{"customers": []string{}})
	s.fails(404, `customers: customer "nosuch" not found`, a, "PUT", form, j{"customers": []string{"nosuch"}})
	s.fails(404, `customerGroupId: customer group "nosuch" not found`, a, "PUT", "/v1/msps/acme/customerGroups/nosuch/customers", j{"customers": []string{"zylker"}})
	s.fails(400, "too large", a, "PUT", form, []byte(`{"customers": ["`+strings.Repeat("a", 5<<20)+`"]}`))
	s.fails(400, `mspId: "Bad MSP" is not a valid id`, a, "POST", "/v1/msps", j{"mspId": "Bad MSP", "displayName": "x", "ownerUserId": "o"})
	s.fails(400, "permission", a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "admin", "subject": "user:alex"})
	s.fails(400, "resource", a, "POST", "/v1/msps/acme/check", j{"resource": "zylker", "permission": "access", "subject": "user:alex"})
	s.fails(400, "atLeastAsFresh", a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:alex", "atLeastAsFresh": "garbage"})
	s.fails(404, `subject: user "nosuch" not found`, a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:nosuch"})
	require.Equal(t, before, s.ok(a, "GET", "/v1/msps/acme/customers/zylker/users", nil)["users"])

	// gRPC callers authenticate the same way.
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := pb.NewAccessServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+acme)
	resp, err := client.Check(ctx, &pb.CheckRequest{MspId: "acme", Resource: "customer:zylker", Permission: "access", Subject: "user:carol"})
	require.NoError(t, err)
	require.True(t, resp.GetAllowed())
	require.Equal(t, []string{"direct"}, resp.GetVia())
	_, err = client.Check(context.Background(), &pb.CheckRequest{MspId: "acme", Resource: "customer:zylker", Permission: "access", Subject: "user:carol"})
	require.Equal(t, codes.Unauthenticated, status.Code(err))

	// A revoked token stops at once.
	s.ok(a, "DELETE", "/v1/msps/acme/tokens/"+issued["tokenId"].(string), nil)
	s.fails(401, "unknown or revoked token", acme, "GET", "/v1/msps/acme", nil)
	s.fails(404, "not found", a, "DELETE", "/v1/msps/acme/tokens/"+issued["tokenId"].(string), nil)

	// One log line per request, with the caller and never a token.
	s.stop()
	logs := s.logs.String()
	require.NotContains(t, logs, acme)
	require.NotContains(t, logs, adminToken)
	require.Contains(t, logs, `"caller":"token:`+issued["tokenId"].(string)+`@acme"`)
	require.Regexp(t, `"msg":"grpc request","method":"/mspauthz.v1.AccessService/Check","status":"OK","duration":\d+,"caller":"token:`, logs)
}

// Without MSPAUTHZ_ADMIN_TOKEN a platform token is generated and printed once.
func TestEndToEnd_GeneratedPlatformToken(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN="})
	printed := regexp.MustCompile(`platform token \(shown once[^)]*\): (\S+)`)
	require.Eventually(t, func() bool { return printed.MatchString(s.stdout.String()) }, 5*time.Second, 10*time.Millisecond, "stdout: %s", s.stdout.String())
	m := printed.FindStringSubmatch(s.stdout.String())
	s.ok(m[1], "GET", "/v1/msps", nil)
	require.Eventually(t, func() bool {
		return strings.Contains(s.logs.String(), "  platform token  generated here, printed once on stdout")
	}, 5*time.Second, 10*time.Millisecond, "the banner says where the token is: %s", s.logs.String())
	require.NotContains(t, s.logs.String(), m[1])
	for _, path := range []string{"/healthz", "/readyz"} {
		require.Equal(t, 200, s.status(path), path)
	}
}

// /metrics counts calls by method and code, form saves by outcome, guard
// refusals and SpiceDB calls; `mspauthz health` is the image's health check.
func TestEndToEnd_MetricsAndHealthCommand(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	s.ok(a, "POST", "/v1/msps/acme/customerGroups", j{"customerGroupId": "zoho", "displayName": "Zoho"})
	s.ok(a, "PUT", "/v1/msps/acme/users/olivia/customerGroups", j{"customerGroups": []string{"zoho"}})
	s.fails(400, "ACCOUNT_OWNER", a, "DELETE", "/v1/msps/acme/users/olivia", nil)
	s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "msp:acme", "permission": "users.manage", "subject": "user:olivia"})

	resp, err := http.Get(s.base + "/metrics")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := string(raw)
	for _, line := range []string{
		`mspauthz_requests_seconds_count{code="OK",method="CreateMSP"} 1`,
		`mspauthz_requests_seconds_count{code="FailedPrecondition",method="DeleteUser"} 1`,
		`mspauthz_form_saves_total{form="EditUser",outcome="OK"} 1`,
		`mspauthz_form_saves_total{form="DeleteUser",outcome="FailedPrecondition"} 1`,
		`mspauthz_guard_refusals_total{method="DeleteUser"} 1`,
	} {
		require.Contains(t, m, line+"\n")
	}
	require.NotContains(t, m, `mspauthz_form_saves_total{form="Check"`, "a check saves nothing")
	require.Regexp(t, `mspauthz_spicedb_call_seconds_count\{code="OK",method="WriteRelationships"\} [1-9]`, m)
	require.Regexp(t, `mspauthz_spicedb_call_seconds_count\{code="OK",method="ReadRelationships"\} [1-9]`, m, "streams are timed too")

	out, err := exec.Command(binary, "health", "--url", s.base).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "ready\n", string(out))
	out, err = exec.Command(binary, "health", "--url", s.base+"/nowhere").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "unhealthy: 404")
}

// validate runs validation files for users' CI: exit 0 when they hold, 1 with
// file:line:col messages when one does not.
func TestValidateCommand(t *testing.T) {
	files, err := filepath.Glob("../../schema/*.yaml")
	require.NoError(t, err)
	out, err := exec.Command(binary, append([]string{"validate"}, files...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "tenancy.yaml: ok")

	dir := t.TempDir()
	zed, err := os.ReadFile("../../schema/msp.zed")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "msp.zed"), zed, 0o644))
	wrong := filepath.Join(dir, "wrong.yaml")
	require.NoError(t, os.WriteFile(wrong, []byte("schemaFile: msp.zed\nrelationships: |-\n  customer:acme/zylker#msp@msp:acme\nassertions:\n  assertTrue:\n    - customer:acme/zylker#access@user:acme/alex\n"), 0o644))
	cmd := exec.Command(binary, "validate", wrong)
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Equal(t, 1, cmd.ProcessState.ExitCode())
	require.Contains(t, string(out), "wrong.yaml:6:7: [ASSERTION_FAILED] Expected relation or permission customer:acme/zylker#access@user:acme/alex to exist")
}
