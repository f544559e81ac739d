package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/mspauthz/mspauthz/internal/app"
)

const token = "fuzz-platform-token-0123456789"

// routes are the REST calls that take a body.
var routes = []struct{ method, path string }{
	{"PUT", "/v1/msps/acme/customers/zylker/preferences"},
	{"PUT", "/v1/msps/acme/customerGroups/zoho/customers"},
	{"PUT", "/v1/msps/acme/users/alex/customerGroups"},
	{"POST", "/v1/msps/acme/check"},
	{"POST", "/v1/msps/acme/check:bulk"},
	{"POST", "/v1/msps/acme/users"},
	{"POST", "/v1/msps"},
	{"PUT", "/v1/msps/acme/customers/zylker/accountContact"},
	{"PUT", "/v1/msps/acme/customers/zylker/alertGroups/ops"},
}

// FuzzRESTDecoding sends arbitrary bodies to every REST call that decodes
// one: the service must answer each with a JSON body and a 2xx or 4xx status
// (never a crash, a 5xx or a non-JSON answer), and an error must carry a message.
func FuzzRESTDecoding(f *testing.F) {
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Config{
		HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Fixtures: "../fixtures/demo.yaml", AdminToken: token,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard,
	}.Complete(ctx)
	if err != nil {
		f.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	f.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.Error(err)
		}
	})
	base := "http://" + a.HTTPAddr()

	for i, body := range []string{
		`{"customerGroups":["zoho"],"users":["carol"],"validateOnly":true}`,
		`{"customers":["zylker","globex"]}`,
		`{"customerGroups":["zoho","site24x7"]}`,
		`{"resource":"customer:zylker","permission":"access","subject":"user:alex","atLeastAsFresh":""}`,
		`{"items":[{"resource":"customer:zylker","permission":"access","subject":"user:alex"}]}`,
		`{"userId":"zed","displayName":"Zed"}`,
		`{"mspId":"m","displayName":"M","ownerUserId":"o"}`,
		`{"userId":"alex"}`,
		`{"contacts":["alex","carol"]}`,
		`{"customers":[1,{"a":null}],"validateOnly":"yes"}`,
		`{"customerGroups":["` + "\u00e9" + `"], "allowEmpty": true}`,
		`[]`, `null`, ``, `{`, `{"a":1}`, "\x00\xff",
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		req, err := http.NewRequest(r.method, base+r.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var answer map[string]any
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatalf("%s %s %q: answer %d is not a JSON object: %q", r.method, r.path, body, resp.StatusCode, raw)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			if msg, _ := answer["message"].(string); msg == "" {
				t.Fatalf("%s %s %q: %d without a message: %s", r.method, r.path, body, resp.StatusCode, raw)
			}
		default:
			t.Fatalf("%s %s %q: status %d: %s", r.method, r.path, body, resp.StatusCode, raw)
		}
	})
}
