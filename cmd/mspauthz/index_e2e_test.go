package main_test

import (
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// The reachability index answers the demo's questions over REST, in shadow
// mode every answer is asked of SpiceDB again, and /metrics shows both and
// what it holds (relationships, bytes; no pairs); --index=false leaves
// every answer to SpiceDB.
func TestEndToEnd_TheIndexAnswersAndShadowModeAgrees(t *testing.T) {
	if !spicedbtest.IndexOn() {
		t.Skip("MSPAUTHZ_TEST_INDEX=off")
	}
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml", "--index-verify-sample", "1")
	a := adminToken
	metric := func(pattern string) bool { return regexp.MustCompile(pattern).MatchString(s.metrics()) }
	require.Eventually(t, func() bool { return metric(`mspauthz_index_state\{state="live"\} 1\n`) }, 30*time.Second, 20*time.Millisecond)

	check := s.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:alex"})
	require.Equal(t, true, check["allowed"])
	require.Equal(t, []any{"customer_group:site24x7", "customer_group:zoho"}, check["via"])
	customers := s.ok(a, "GET", "/v1/msps/acme/users/alex/customers?atLeastAsFresh="+check["checkedAt"].(string), nil)
	require.Len(t, customers["customers"], 3)
	s.ok(a, "GET", "/v1/msps/acme/customers/zylker/users", nil)
	require.True(t, metric(`mspauthz_index_events_total\{event="answered"\} 3\n`))
	// Five answers verified: the check, and each listing's existence check and list.
	require.Eventually(t, func() bool { return metric(`mspauthz_index_events_total\{event="verified"\} 5\n`) }, 10*time.Second, 20*time.Millisecond, "%s", s.metrics())
	require.False(t, metric(`event="mismatch"`))
	// It holds the relationships, as sets: no (user, customer) pairs to count.
	require.True(t, metric(`mspauthz_index_relationships [1-9]`))
	require.True(t, metric(`mspauthz_index_bytes [1-9]`))
	require.False(t, metric(`mspauthz_index_pairs`))

	off := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml", "--index=false")
	check = off.ok(a, "POST", "/v1/msps/acme/check", j{"resource": "customer:zylker", "permission": "access", "subject": "user:alex"})
	require.Equal(t, true, check["allowed"])
	require.NotContains(t, off.metrics(), "mspauthz_index_events_total")
}

// metrics is what GET /metrics answers.
func (s *server) metrics() string {
	s.t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return string(raw)
}
