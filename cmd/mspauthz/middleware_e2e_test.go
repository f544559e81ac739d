package main_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mspauthz/mspauthz/client/mw"
)

// The middleware answers as mspauthz does: Olivia (the owner) may create
// Zylker's tickets, with the decision's via in the handler; Bob reaches
// Zylker but holds no role there (403); Dana may not even see Zylker, and
// nosuch does not exist (404); nobody signed in is 401.
func TestMiddleware_AllowsDeniesAndHidesCustomers(t *testing.T) {
	_, c := demo(t)
	guard := mw.New(c, "acme", mw.WithUser(func(r *http.Request) (string, bool) {
		user := r.Header.Get("X-User")
		return user, user != ""
	}))
	mux := http.NewServeMux()
	mux.Handle("POST /customers/{customer}/tickets", guard.Require("tickets.create", mw.CustomerFromPath("customer"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(strings.Join(mw.Decision(r.Context()).GetVia(), ",")))
		})))
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	for _, tc := range []struct {
		user, customer string
		code           int
		via            string
	}{
		{"olivia", "zylker", 200, "security_group:account_owner"},
		{"dana", "initech", 200, "security_group:technician"},
		{"bob", "zylker", 403, ""},
		{"dana", "zylker", 404, ""},
		{"olivia", "nosuch", 404, ""},
		{"", "zylker", 401, ""},
	} {
		req, err := http.NewRequest("POST", app.URL+"/customers/"+tc.customer+"/tickets", nil)
		require.NoError(t, err)
		req.Header.Set("X-User", tc.user)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, tc.code, resp.StatusCode, "%s on %s: %s", tc.user, tc.customer, body)
		if tc.code == 200 {
			require.Contains(t, string(body), tc.via)
		}
	}

	// The gRPC interceptor, on an application's own method.
	intercept := guard.UnaryInterceptor(map[string]mw.Rule{
		"/tickets.v1.Tickets/Create": {Permission: "tickets.create", Customer: func(req any) string { return req.(string) }},
	}, func(ctx context.Context) (string, bool) {
		md, _ := metadata.FromIncomingContext(ctx)
		users := md.Get("x-user")
		return strings.Join(users, ""), len(users) == 1
	})
	handler := func(ctx context.Context, req any) (any, error) { return mw.Decision(ctx).GetVia(), nil }
	as := func(user string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-user", user))
	}
	create := &grpc.UnaryServerInfo{FullMethod: "/tickets.v1.Tickets/Create"}
	via, err := intercept(as("dana"), "initech", create, handler)
	require.NoError(t, err)
	require.Contains(t, via, "security_group:technician")
	_, err = intercept(as("bob"), "zylker", create, handler)
	require.Equal(t, codes.PermissionDenied, status.Code(err))
	_, err = intercept(as("dana"), "zylker", create, handler)
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = intercept(context.Background(), "zylker", create, handler)
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = intercept(as("olivia"), "zylker", &grpc.UnaryServerInfo{FullMethod: "/tickets.v1.Tickets/Delete"}, handler)
	require.Equal(t, codes.PermissionDenied, status.Code(err), "a method without a rule is closed")
}
