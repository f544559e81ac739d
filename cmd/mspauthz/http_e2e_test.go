package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// raw makes one REST call and returns the response with its body read.
func (s *server) raw(req *http.Request) (*http.Response, string) {
	s.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp, string(body)
}

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
	// A variable names a field of the request, or of its resource ({user.userId}).
	variable := regexp.MustCompile(`\{([\w.]+)\}`)
	out := map[string][]string{}
	for template, ops := range doc.Paths {
		path := variable.ReplaceAllStringFunc(template, func(v string) string {
			name := strings.Trim(v, "{}")
			if id, ok := values[name[strings.LastIndex(name, ".")+1:]]; ok {
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

// In the order an Allow header lists them.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// A wrong method on a path of the API is the client's mistake: 405 with an
// Allow header naming the methods the path takes, and the JSON error body;
// never 501, and never another method's call (a form-encoded POST is not
// served by the GET of its path).
func TestEndToEnd_AWrongMethodIs405WithTheMethodsThePathTakes(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	for path, takes := range s.contract() {
		slices.SortFunc(takes, func(a, b string) int { return slices.Index(httpMethods, a) - slices.Index(httpMethods, b) })
		for _, method := range httpMethods {
			if slices.Contains(takes, method) {
				continue
			}
			resp, body := s.raw(s.request(adminToken, method, path, nil))
			require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s: %s", method, path, body)
			require.Equal(t, strings.Join(takes, ", "), resp.Header.Get("Allow"), "%s %s", method, path)
			require.Contains(t, body, `"message":`, "%s %s", method, path)
			require.Contains(t, body, "is not allowed on "+path, "%s %s", method, path)
		}
	}
	form := s.request(adminToken, "POST", "/v1/msps/acme/customers/zylker/users", "atLeastAsFresh=x")
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := s.raw(form)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, body)
	require.Equal(t, "GET", resp.Header.Get("Allow"))
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

// An empty path segment is a JSON 404, never a redirect to another resource:
// /customers//users is not the customer named "users".
func TestEndToEnd_AnEmptyPathSegmentIsNotFoundNeverARedirect(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": "users", "displayName": "A customer named users"})
	for _, path := range []string{"/v1/msps/acme/customers//users", "/v1/msps/acme/customers/", "/v1/msps//customers", "/v1/msps/acme/customers/./users", "/v1/msps/acme/customers/zylker/../users", "//v1/msps", "/healthz/"} {
		resp, body := s.raw(s.request(a, "GET", path, nil))
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s: %s", path, body)
		require.Empty(t, resp.Header.Get("Location"), path)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"), path)
		require.Contains(t, body, "no such call in this API", path)
	}
	before := s.ok(a, "GET", "/v1/msps/acme/customerGroups/zoho", nil)
	resp, body := s.raw(s.request(a, "PUT", "/v1/msps/acme/customerGroups//customers", j{"customers": []string{"users"}}))
	require.Equal(t, http.StatusNotFound, resp.StatusCode, body)
	require.Equal(t, before, s.ok(a, "GET", "/v1/msps/acme/customerGroups/zoho", nil))
	require.Equal(t, 200, s.status("/healthz"))
}

// Unknown query parameters are refused, naming them: a misspelt
// atleastasfresh must not silently drop the freshness a caller asked for.
func TestEndToEnd_UnknownQueryParametersAreRefusedByName(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	users := "/v1/msps/acme/customers/zylker/users"
	s.fails(400, `unknown query parameter "atleastasfresh": GET /v1/msps/{msp_id}/customers/{customer_id}/users takes atLeastAsFresh`, a, "GET", users+"?atleastasfresh=x", nil)
	s.fails(400, `unknown query parameters "page", "size"`, a, "GET", "/v1/msps/acme/customers?page=2&size=3", nil)
	s.fails(400, `unknown query parameter "mspId"`, a, "GET", "/v1/msps/acme/users?mspId=northwind", nil)
	s.fails(400, `unknown query parameter "validateOnly": PUT /v1/msps/{msp_id}/customerGroups/{customer_group_id}/customers takes no query parameters`,
		a, "PUT", "/v1/msps/acme/customerGroups/zoho/customers?validateOnly=true", j{"customers": []string{"zylker"}})
	s.fails(400, `unknown query parameter "force"`, a, "DELETE", "/v1/msps/acme/customers/globex?force=1", nil)
	s.ok(a, "GET", "/v1/msps/acme/customers/globex", nil)

	// The names grpc-gateway takes: a field's JSON name, or its proto name.
	checked := s.ok(a, "GET", users, nil)["checkedAt"].(string)
	s.ok(a, "GET", users+"?atLeastAsFresh="+url.QueryEscape(checked), nil)
	s.ok(a, "GET", users+"?at_least_as_fresh="+url.QueryEscape(checked), nil)
	s.ok(a, "GET", "/v1/msps/acme/customers?pageSize=1&page_token=", nil)
}

// Paging works the same for every caller: a user token and X-On-Behalf-Of
// get customers a page at a time, and every caller's bad page size or page
// token is refused, on GET /v1/msps too.
func TestEndToEnd_EveryCallerPagesTheSameWay(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	s.ok(a, "PUT", "/v1/msps/acme/users/dana/securityGroups", j{"securityGroups": []string{"admin"}})
	dana := s.ok(a, "POST", "/v1/msps/acme/users/dana/tokens", j{})["token"].(string)
	service := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	onBehalfOfDana := func(method, path string) *http.Request {
		req := s.request(service, method, path, nil)
		req.Header.Set("X-On-Behalf-Of", "dana")
		return req
	}
	callers := map[string]func(method, path string) *http.Request{
		"platform":         func(method, path string) *http.Request { return s.request(a, method, path, nil) },
		"dana's token":     func(method, path string) *http.Request { return s.request(dana, method, path, nil) },
		"on behalf of her": onBehalfOfDana,
		"service":          func(method, path string) *http.Request { return s.request(service, method, path, nil) },
	}
	for name, req := range callers {
		var all []string
		path := "/v1/msps/acme/customers?pageSize=2"
		for {
			code, out := s.do(req("GET", path))
			require.Equal(t, http.StatusOK, code, "%s: %v", name, out)
			require.LessOrEqual(t, len(out["customers"].([]any)), 2, name)
			all = append(all, customerIDs(out)...)
			next, _ := out["nextPageToken"].(string)
			if next == "" {
				break
			}
			path = "/v1/msps/acme/customers?pageSize=2&pageToken=" + url.QueryEscape(next)
		}
		slices.Sort(all)
		require.Equal(t, []string{"globex", "initech", "zylker"}, all, name)
		for _, bad := range []string{"/v1/msps/acme/customers?pageSize=-1", "/v1/msps/acme/customers?pageSize=1001", "/v1/msps/acme/customers?pageToken=garbage", "/v1/msps?pageSize=-1", "/v1/msps?pageToken=garbage"} {
			code, out := s.do(req("GET", bad))
			require.Equal(t, http.StatusBadRequest, code, "%s %s: %v", name, bad, out)
			require.Regexp(t, `^page(Size|Token): `, out["message"], "%s %s", name, bad)
		}
	}
	own := s.ok(dana, "GET", "/v1/msps?pageSize=1", nil)
	require.Equal(t, []any{j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"}}, own["msps"])
	require.Equal(t, "", own["nextPageToken"])
}

// Every id is checked before anything reaches SpiceDB, in the path, the
// query and the body alike: an id that breaks the id pattern is 400 naming
// its field, never a SpiceDB refusal or a 404.
func TestEndToEnd_AnIDThatBreaksThePatternIsRefusedNamingItsField(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	for _, c := range []struct{ method, path, field, id string }{
		{"POST", "/v1/msps/acme/users/%C3%A4cme/tokens", "userId", "äcme"},
		{"DELETE", "/v1/msps/acme/tokens/NOT-A-TOKEN", "tokenId", "NOT-A-TOKEN"},
		{"GET", "/v1/msps/acme/grants/G1", "grantId", "G1"},
		{"POST", "/v1/msps/acme/grants/G1:approve", "grantId", "G1"},
		{"GET", "/v1/msps/acme/grants?customerId=Zylker", "customerId", "Zylker"},
		{"GET", "/v1/msps/acme/roles/Tech", "roleId", "Tech"},
		{"GET", "/v1/msps/acme/securityGroups/a%20b", "securityGroupId", "a b"},
		{"GET", "/v1/msps/acme/syncs/RMM/drift", "system", "RMM"},
		{"DELETE", "/v1/msps/acme/customers/zylker/endCustomerUsers/Cara", "userId", "Cara"},
		{"GET", "/v1/msps/acme/customers/" + strings.Repeat("z", 65) + "/partnerAccess", "customerId", strings.Repeat("z", 65)},
	} {
		s.fails(400, c.field+`: "`+c.id+`" is not a valid id`, a, c.method, c.path, j{})
	}
	for _, c := range []struct {
		method, path string
		body         j
		field        string
	}{
		{"PUT", "/v1/msps/acme/customers/zylker/alertGroups/ops", j{"contacts": []string{"alex", "Bob"}}, `contacts[1]: "Bob"`},
		{"PUT", "/v1/msps/acme/customers/zylker/preferences", j{"customerGroups": []string{"zoho"}, "users": []string{"_carol"}}, `users[0]: "_carol"`},
		{"POST", "/v1/msps/acme/users", j{"userId": "zed", "displayName": "Zed", "singleCustomer": j{"customerId": "Zylker", "permissions": []string{"tickets.view"}}}, `singleCustomer.customerId: "Zylker"`},
		{"POST", "/v1/msps/acme/securityGroups", j{"securityGroupId": "sg", "displayName": "SG", "roleId": "technician", "scope": j{"customerGroups": []string{"Zoho"}}}, `scope.customerGroups[0]: "Zoho"`},
		{"POST", "/v1/msps/acme/syncs/rmm:run", j{"snapshot": j{"mspId": "acme", "users": []j{{"userId": "u1", "roles": []string{"Admin"}}}}}, `snapshot.users[0].roles[0]: "Admin"`},
	} {
		s.fails(400, c.field+` is not a valid id`, a, c.method, c.path, c.body)
	}
	s.fails(404, `user "nosuch" not found`, a, "POST", "/v1/msps/acme/users/nosuch/tokens", j{})
}

// X-On-Behalf-Of naming a user who does not exist in the call's MSP is
// refused (401, saying so), never a call with no rights.
func TestEndToEnd_OnBehalfOfAUserWhoDoesNotExistIsRefused(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken}, "--fixtures", "../../fixtures/demo.yaml")
	a := adminToken
	service := s.ok(a, "POST", "/v1/msps/acme/tokens", j{})["token"].(string)
	onBehalfOf := func(token, user, method, path string, body any) (int, map[string]any) {
		req := s.request(token, method, path, body)
		req.Header.Set("X-On-Behalf-Of", user)
		return s.do(req)
	}
	for _, c := range []struct{ token, user, method, path string }{
		{service, "ghost", "GET", "/v1/msps/acme/customers"},
		{service, "ghost", "POST", "/v1/msps/acme/check"},
		{a, "ghost", "GET", "/v1/msps/acme/customers"},
		{a, "gina", "GET", "/v1/msps/acme/customers"}, // northwind's user is not acme's
	} {
		code, out := onBehalfOf(c.token, c.user, c.method, c.path, j{"resource": "customer:zylker", "permission": "access", "subject": "user:alex"})
		require.Equal(t, http.StatusUnauthorized, code, "%v", out)
		require.Contains(t, out["message"], `user "`+c.user+`" does not exist in msp "acme"`)
	}
	code, out := onBehalfOf(a, "alex", "GET", "/v1/msps", nil)
	require.Equal(t, http.StatusUnauthorized, code, "%v", out)
	require.Contains(t, out["message"], "ListMSPs is made in no MSP")

	// A user created a moment ago is found; so is an end-customer user.
	s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": "erin", "displayName": "Erin"})
	code, out = onBehalfOf(service, "erin", "GET", "/v1/msps/acme/customers", nil)
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Empty(t, out["customers"], "Erin reaches no customer yet")
	s.ok(a, "POST", "/v1/msps/acme/customers/zylker/endCustomerUsers", j{"userId": "zoe", "displayName": "Zoe"})
	code, out = onBehalfOf(service, "zoe", "GET", "/v1/permissions", nil)
	require.Equal(t, http.StatusOK, code, "%v", out)
	code, out = onBehalfOf(service, "ghost", "GET", "/v1/permissions", nil)
	require.Equal(t, http.StatusUnauthorized, code, "the token's MSP, for a call that names none: %v", out)
}

// Every call that answers checkedAt takes atLeastAsFresh and honours it:
// after Cara switches Contoso's partner access off, Pat's global views,
// pinned to the switch's writtenAt, leave Contoso out every time; so do the
// trusted service's, the switch reads off and Login As is refused.
func TestEndToEnd_APartnersGlobalViewIsPinnableToTheSwitch(t *testing.T) {
	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=" + adminToken})
	a := adminToken
	s.ok(a, "POST", "/v1/msps", j{"mspId": "acme", "displayName": "Acme IT", "ownerUserId": "olivia"})
	for _, c := range []string{"contoso", "fabrikam"} {
		s.ok(a, "POST", "/v1/msps/acme/customers", j{"customerId": c, "displayName": c})
	}
	s.ok(a, "POST", "/v1/msps/acme/users", j{"userId": "pat", "displayName": "Pat"})
	s.ok(a, "PUT", "/v1/msps/acme/users/pat/securityGroups", j{"securityGroups": []string{"partner"}})
	s.ok(a, "PUT", "/v1/msps/acme/settings", j{"endCustomerRoleSelection": true})
	s.ok(a, "POST", "/v1/msps/acme/customers/contoso/endCustomerUsers", j{"userId": "cara", "displayName": "Cara", "role": "admin"})
	pat := s.ok(a, "POST", "/v1/msps/acme/users/pat/tokens", j{})["token"].(string)
	cara := s.ok(a, "POST", "/v1/msps/acme/users/cara/tokens", j{})["token"].(string)
	fresh := func(path, token string) string { return path + "?atLeastAsFresh=" + url.QueryEscape(token) }

	for round := range 20 {
		off := s.ok(cara, "PUT", "/v1/msps/acme/customers/contoso/partnerAccess", j{"enabled": false})["writtenAt"].(string)
		for _, view := range []string{"email_tracker", "policies", "rules"} {
			for who, token := range map[string]string{"pat": pat, "the service": a} {
				out := s.ok(token, "GET", fresh("/v1/msps/acme/globalViews/"+view+"/customers", off), nil)
				require.Equal(t, []string{"fabrikam"}, customerIDs(out), "round %d, %s's %s", round, who, view)
				require.NotEmpty(t, out["checkedAt"])
			}
		}
		read := s.ok(a, "GET", fresh("/v1/msps/acme/customers/contoso/partnerAccess", off), nil)
		require.Equal(t, false, read["enabled"], "round %d", round)
		require.NotEmpty(t, read["checkedAt"])
		s.fails(403, "PARTNER_ACCESS_DISABLED", pat, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{"atLeastAsFresh": off})

		on := s.ok(cara, "PUT", "/v1/msps/acme/customers/contoso/partnerAccess", j{"enabled": true})["writtenAt"].(string)
		require.Equal(t, []string{"contoso", "fabrikam"}, customerIDs(s.ok(pat, "GET", fresh("/v1/msps/acme/globalViews/rules/customers", on), nil)), "round %d", round)
		require.NotEmpty(t, s.ok(pat, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{"atLeastAsFresh": on})["checkedAt"])
		require.NotEmpty(t, s.ok(a, "GET", fresh("/v1/msps/acme/grants", on), nil)["checkedAt"])
	}

	// The token is read, not dropped: one SpiceDB does not know is refused by name.
	for _, path := range []string{"/v1/msps/acme/globalViews/rules/customers", "/v1/msps/acme/grants", "/v1/msps/acme/customers/contoso/partnerAccess"} {
		s.fails(400, "atLeastAsFresh", a, "GET", fresh(path, "garbage"), nil)
	}
	s.fails(400, "atLeastAsFresh", pat, "POST", "/v1/msps/acme/customers/contoso:loginAs", j{"atLeastAsFresh": "garbage"})
}
