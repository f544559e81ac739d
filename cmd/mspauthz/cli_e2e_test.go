package main_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// A flag line of a help: the flag, its type if it takes a value, then its
// description. A backquoted word in a description would stand where the type is.
var flagLine = regexp.MustCompile(`^\s+(-\w, )?--[a-z-]+( (string|duration|int|float))?\s{2,}\S`)

// Every help path answers the usage and exits 0; every flag renders with its
// type; completions, the version and the usage errors work as people expect.
func TestCLI_HelpCompletionsVersionAndUsageErrors(t *testing.T) {
	commands := []string{"serve", "migrate", "gen", "bench", "validate", "version", "check", "explain", "reach", "sync", "health"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {}, {"help", "serve"}, {"serve", "--help"}, {"validate", "--help"}, {"help", "check"}} {
		code, stdout, stderr := mspauthz(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		require.Contains(t, stdout, "Usage:", "%v", args)
	}
	code, stdout, _ := mspauthz(t, "--help")
	require.Equal(t, 0, code)
	for _, c := range commands {
		require.Regexp(t, `(?m)^  `+c+` `, stdout, "the root's help lists %s", c)
		code, help, stderr := mspauthz(t, "help", c)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, help, "Each flag is also read from MSPAUTHZ_<FLAG>", c)
		for _, line := range strings.Split(help[strings.Index(help, "Flags:"):], "\n")[1:] {
			if strings.HasPrefix(strings.TrimSpace(line), "-") {
				require.Regexp(t, flagLine, line, "mspauthz help %s", c)
			}
		}
	}
	_, help, _ := mspauthz(t, "serve", "--help")
	require.Regexp(t, `--datastore string\s+PostgreSQL URI`, help)

	code, stdout, _ = mspauthz(t, "completion", "bash")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "__start_mspauthz")
	code, stdout, _ = mspauthz(t, "version")
	require.Equal(t, 0, code)
	require.Regexp(t, `^mspauthz \S+ \(SpiceDB v1\.56\.0\)\n$`, stdout)

	for _, tc := range []struct {
		args []string
		env  []string
		msg  string
	}{
		{[]string{"nope"}, nil, `unknown command "nope"`},
		{[]string{"serve", "--nope"}, nil, "unknown flag: --nope"},
		{[]string{"serve", "extra"}, nil, `unexpected arguments ["extra"]`},
		{[]string{"validate"}, nil, "name at least one validation file"},
		{[]string{"check", "--user", "alex"}, nil, "give --msp and --user"},
		{[]string{"reach", "--msp", "acme"}, nil, "give --msp, and --user or --customer"},
		{[]string{"reach", "--msp", "acme", "--user", "alex", "--customer", "zylker"}, nil, "none of the others can be"},
		{[]string{"check", "--msp", "acme", "--user", "alex"}, []string{"MSPAUTHZ_TIMEOUT=soon"}, `MSPAUTHZ_TIMEOUT="soon": invalid argument "soon" for "--timeout" flag`},
		{[]string{"serve"}, []string{"MSPAUTHZ_INDEX=maybe"}, `MSPAUTHZ_INDEX="maybe"`},
	} {
		code, _, stderr := mspauthzEnv(t, tc.env, tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		require.Contains(t, stderr, tc.msg, "%v", tc.args)
		require.Contains(t, stderr, "--help shows the usage", "%v", tc.args)
	}
}

// check, explain and reach against a started service, as seed 000's cast
// stands in the demo data: Alex reaches Zylker through Zoho and Site24x7,
// Carol directly, Dana (only on Initech) not at all.
func TestCLI_CheckExplainAndReachAskARunningService(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	env := []string{"MSPAUTHZ_URL=" + s.base, "MSPAUTHZ_TOKEN=" + adminToken, "MSPAUTHZ_MSP=acme"}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return mspauthzEnv(t, env, args...)
	}

	code, stdout, stderr := cli("check", "--user", "alex", "--customer", "zylker")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^allowed: user:alex has access on customer:zylker \(msp acme\), checked at \S+\n  via customer_group:site24x7, customer_group:zoho\n$`, stdout)
	code, stdout, _ = cli("check", "--user", "dana", "--customer", "zylker")
	require.Equal(t, 1, code, "a denial exits 1")
	require.Contains(t, stdout, "denied: user:dana has no access on customer:zylker (msp acme)")
	require.Contains(t, stdout, "mspauthz explain --msp acme --user dana --customer zylker says what is missing")

	// --json prints the API's answer.
	code, stdout, _ = cli("check", "--user", "carol", "--customer", "zylker", "--json")
	require.Equal(t, 0, code)
	var answer j
	require.NoError(t, json.Unmarshal([]byte(stdout), &answer))
	api := s.ok(adminToken, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:carol"})
	require.NotEmpty(t, answer["checkedAt"])
	delete(answer, "checkedAt") // the revision each was answered at: the newest of its moment
	delete(api, "checkedAt")
	require.Equal(t, api, answer)

	code, stdout, _ = cli("explain", "--user", "alex", "--customer", "zylker")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, strings.Join([]string{
		"user:alex",
		"├── customer_group:site24x7 (member; holds customer:zylker)",
		"│   └── customer:zylker",
		"└── customer_group:zoho (member; holds customer:zylker)",
		"    └── customer:zylker",
	}, "\n"))
	code, stdout, _ = cli("explain", "--user", "carol", "--customer", "zylker")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "user:carol\n└── customer:zylker (associated directly, by Edit Customer Preferences)\n")

	code, stdout, _ = cli("explain", "--user", "dana", "--customer", "zylker")
	require.Equal(t, 1, code)
	require.Contains(t, stdout, strings.Join([]string{
		"missing, any one of:",
		"└── NO_PATH: user:dana reaches customer:zylker through no customer group and no direct association (user:dana's customer groups: none; customer:zylker's: site24x7, zoho)",
		"    ├── user:dana in customer_group:site24x7: Edit User (PUT /v1/msps/acme/users/dana/customerGroups)",
		"    ├── user:dana in customer_group:zoho: Edit User (PUT /v1/msps/acme/users/dana/customerGroups)",
		"    └── user:dana associated directly with customer:zylker: Edit Customer Preferences (PUT /v1/msps/acme/customers/zylker/preferences)",
	}, "\n"))
	code, stdout, _ = cli("explain", "--user", "bob", "--customer", "initech")
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "(user:bob's customer groups: zoho; customer:initech's: site24x7)\n")
	require.Contains(t, stdout, "├── customer:initech in customer_group:zoho: Edit Customer Group (PUT /v1/msps/acme/customerGroups/zoho/customers)\n")

	// A security group's path shows its role and scope; a user without one
	// is told that none of his groups' roles holds the permission.
	s.ok(adminToken, "POST", "/v1/msps/acme/roles", j{"roleId": "helpdesk", "displayName": "Helpdesk", "permissions": []string{"tickets.create"}})
	s.ok(adminToken, "POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "support", "displayName": "Support", "roleId": "helpdesk", "scope": j{"customerGroups": []string{"zoho"}}, "members": []string{"dana"}})
	code, stdout, stderr = cli("explain", "--user", "dana", "--customer", "zylker", "--permission", "tickets.create")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "user:dana\n└── security_group:support (member; role helpdesk; scope: customer groups zoho)\n    └── customer:zylker\n")
	code, stdout, _ = cli("explain", "--user", "bob", "--customer", "zylker", "--permission", "tickets.create")
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "missing, any one of:\n└── NO_ROLE: user:bob is in no security group whose role holds tickets.create (in none at all)\n"+
		"    └── user:bob in a security group whose role holds tickets.create and whose scope covers customer:zylker: Set the user's security groups (PUT /v1/msps/acme/users/bob/securityGroups)\n")

	code, stdout, _ = cli("reach", "--user", "alex")
	require.Equal(t, 0, code)
	require.Regexp(t, `^user:alex reaches 3 customers \(msp acme\), checked at \S+\n`+
		`  customer:globex   customer_group:zoho\n`+
		`  customer:initech  customer_group:site24x7\n`+
		`  customer:zylker   customer_group:site24x7, customer_group:zoho\n$`, stdout)
	code, stdout, _ = cli("reach", "--customer", "zylker", "--json")
	require.Equal(t, 0, code)
	var users j
	require.NoError(t, json.Unmarshal([]byte(stdout), &users))
	listed := s.ok(adminToken, "GET", "/v1/msps/acme/customers/zylker/users", nil)
	require.Equal(t, listed["users"], users["users"])
	require.NotEmpty(t, users["checkedAt"])

	// Every failure but a denial exits 2, with the service's reason.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"check", "--user", "nosuch", "--customer", "zylker"}, `404 Not Found: subject: user "nosuch" not found`},
		{[]string{"explain", "--user", "alex", "--customer", "zylker", "--token", "not-a-token"}, "401 Unauthorized: unknown or revoked token"},
		{[]string{"reach", "--msp", "northwind", "--user", "gina", "--url", "http://127.0.0.1:1"}, "connection refused"},
	} {
		code, _, stderr := cli(tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		require.Contains(t, stderr, tc.msg, "%v", tc.args)
	}
}

// The banner tells a person where to point a client, what serves and what
// was loaded, besides the JSON log (whose "serving" line start reads), and
// never the token it was given.
func TestEndToEnd_TheBannerSaysWhereToPointAClient(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	datastore := map[string]string{
		spicedbtest.Memory:   "embedded SpiceDB v1.56.0 in memory",
		spicedbtest.Postgres: "embedded SpiceDB v1.56.0 on PostgreSQL postgres://",
		spicedbtest.Remote:   "a SpiceDB cluster at 127.0.0.1:",
	}[spicedbtest.Backend()]
	lines := []string{
		"console         " + s.base + "/  (open it in a browser",
		"REST API        " + s.base + "/v1/",
		"OpenAPI         " + s.base + "/openapi.json",
		"gRPC API        " + s.grpcAddr + "  (mspauthz.v1, plaintext)",
		"metrics         " + s.base + "/metrics",
		"datastore       " + datastore,
		"loaded          ../../fixtures/demo.yaml: 2 MSPs (acme, northwind) with 7 users, 4 customers, 3 customer groups",
		"platform token  MSPAUTHZ_ADMIN_TOKEN",
		"sign in         " + s.base + "/signin  (identity providers: PUT /v1/msps/{msp}/identityProvider, callback " + s.base + "/signin/callback; sessions end 30m unused, 12h after sign-in; demo sign-in on)",
		"server key      generated here",
		"try             MSPAUTHZ_TOKEN=<token> mspauthz reach --url " + s.base,
	}
	if spicedbtest.IndexOn() {
		lines = append(lines, "index           live: ")
	}
	require.Eventually(t, func() bool {
		logs := s.logs.String()
		for _, l := range lines {
			if !strings.Contains(logs, "  "+l) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "stderr:\n%s", s.logs.String())
	require.NotContains(t, s.logs.String(), adminToken)
}
