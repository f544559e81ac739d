package main_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// contract lists the paths of the OpenAPI document with the methods each
// takes, its variables set to ids of the demo data.
func (s *server) contract() map[string][]string {
	s.t.Helper()
	resp, err := http.Get(s.base + "/openapi.json")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&doc))
	values := map[string]string{"mspId": "acme", "customerId": "zylker", "customerGroupId": "zoho", "userId": "alex", "view": "rules", "system": "rmm"}
	variable := regexp.MustCompile(`\{(\w+)\}`)
	out := map[string][]string{}
	for template, ops := range doc.Paths {
		path := variable.ReplaceAllStringFunc(template, func(v string) string {
			if id, ok := values[strings.Trim(v, "{}")]; ok {
				return id
			}
			return "x1"
		})
		for method := range ops {
			out[path] = append(out[path], strings.ToUpper(method))
		}
	}
	require.NotEmpty(s.t, out)
	return out
}

// A body with anything after its JSON value is refused by every call that
// takes one, and writes nothing; a value of the wrong type names its field.
func TestEndToEnd_ABodyWithDataAfterItsJSONIsRefusedAndWritesNothing(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	for path, takes := range s.contract() {
		for _, method := range takes {
			if method == "POST" || method == "PUT" {
				s.fails(400, "request body: unexpected data after the JSON value, at byte 18", a, method, path, `{"customerId":"x"}garbage`)
			}
		}
	}
	zylker := s.ok(a, "GET", "/v1/msps/acme/customers/zylker/users", nil)["users"]
	s.fails(400, "unexpected data after the JSON value", a, "PUT", "/v1/msps/acme/customers/zylker/preferences", `{"customerGroups":["zoho"],"users":[]} {"validateOnly":true}`)
	s.fails(400, "unexpected data after the JSON value", a, "POST", "/v1/msps/acme/customers", `{"customerId":"hooli","displayName":"Hooli"}garbage`)
	require.Equal(t, zylker, s.ok(a, "GET", "/v1/msps/acme/customers/zylker/users", nil)["users"], "Zylker's associations are as they were")
	s.fails(404, `customer "hooli" not found`, a, "GET", "/v1/msps/acme/customers/hooli", nil)

	s.fails(400, `request body: customers: expected a list of strings, got "acme"`, a, "PUT", "/v1/msps/acme/customerGroups/zoho/customers", `{"customers":"acme"}`)
	s.fails(400, `request body: customers[1]: expected a string, got 2`, a, "PUT", "/v1/msps/acme/customerGroups/zoho/customers", `{"customers":["zylker",2]}`)
	s.fails(400, `request body: items[0].subject: expected a string, got true`, a, "POST", "/v1/msps/acme/check:bulk", `{"items":[{"resource":"customer:zylker","permission":"access","subject":true}]}`)
	s.fails(400, `request body: validateOnly: expected true or false, got "no"`, a, "PUT", "/v1/msps/acme/users/alex/customerGroups", `{"customerGroups":["zoho"],"validateOnly":"no"}`)
}
