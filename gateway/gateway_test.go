package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mspauthz/mspauthz/gateway"
)

// newGateway is the gateway over a connection to nowhere: every request
// these tests make is answered before it would reach the services.
func newGateway(t *testing.T) http.Handler {
	conn, err := grpc.NewClient("passthrough:///nowhere", grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	others := http.NewServeMux()
	others.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	h, err := gateway.New(context.Background(), conn, slog.New(slog.NewTextHandler(io.Discard, nil)), others)
	require.NoError(t, err)
	return h
}

func TestGateway_RefusesWhatNoCallTakes(t *testing.T) {
	h := newGateway(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		allow, message           string
	}{
		{"a wrong method", "DELETE", "/v1/msps/acme/check", "", 405, "POST", "method DELETE is not allowed on /v1/msps/acme/check: it takes POST"},
		{"a wrong method on a path of several calls", "POST", "/v1/msps/acme/roles/helpdesk", "", 405, "GET, PUT, PATCH, DELETE", "it takes GET, PUT, PATCH, DELETE"},
		{"a verb taken in by a GET's variable", "GET", "/v1/msps/acme/customers/zylker:loginAs", "", 405, "POST", "it takes POST"},
		{"a path of no call", "GET", "/v1/msps/acme/nothing", "", 404, "", "GET /v1/msps/acme/nothing: no such call in this API"},
		{"an empty segment", "GET", "/v1/msps/acme/customers//users", "", 404, "", "no such call"},
		{"a trailing slash", "GET", "/healthz/", "", 404, "", "no such call"},
		{"a dot segment", "GET", "/v1/msps/acme/./customers", "", 404, "", "no such call"},
		{"an unknown query parameter", "GET", "/v1/msps/acme/users/alex/customers?atleastasfresh=x", "", 400, "", `unknown query parameter "atleastasfresh": GET /v1/msps/{msp_id}/users/{user_id}/customers takes atLeastAsFresh`},
		{"a query parameter on a call with a body", "POST", "/v1/msps/acme/check?atLeastAsFresh=x", "{}", 400, "", "takes no query parameters"},
		{"a path field in the query", "GET", "/v1/msps/acme/customers?msp_id=x", "", 400, "", `unknown query parameter "msp_id"`},
		{"a nested name into a scalar", "GET", "/v1/msps/acme/customers?pageSize.x=1", "", 400, "", `unknown query parameter "pageSize.x"`},
		{"data after the body's JSON value", "PUT", "/v1/msps/acme/customerGroups/zoho/customers", `{"customers":["zylker"]}x`, 400, "", "request body: unexpected data after the JSON value, at byte 24"},
		{"a type error", "PUT", "/v1/msps/acme/customerGroups/zoho/customers", `{"customers":"acme"}`, 400, "", `request body: customers: expected a list of strings, got "acme"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			require.Equal(t, tc.allow, w.Header().Get("Allow"))
			require.Empty(t, w.Header().Get("Location"))
			var answer struct{ Message string }
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer), w.Body.String())
			require.Contains(t, answer.Message, tc.message)
		})
	}
}

func TestGateway_ServesOthersAndTheOpenAPIDocument(t *testing.T) {
	h := newGateway(t)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	require.Equal(t, "ok\n", w.Body.String())
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, gateway.OpenAPI, w.Body.Bytes())
}
