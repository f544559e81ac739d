package main_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A batch get names up to 1,000 objects in the order asked, in the BASIC
// view, at one revision; whoever may not see one of them learns nothing of
// the others.
func TestBatchGet_NamesObjectsInTheOrderAskedAndRefusesAsAGetWould(t *testing.T) {
	s := startSignIn(t)
	ids := func(field string, values ...string) string {
		q := url.Values{field: values}
		return q.Encode()
	}
	olivia := s.ok(adminToken, "POST", "/v1/msps/acme/users/olivia/tokens", j{})["token"].(string)
	dana := s.ok(adminToken, "POST", "/v1/msps/acme/users/dana/tokens", j{})["token"].(string)

	users := s.ok(olivia, "GET", "/v1/msps/acme/users:batchGet?"+ids("userIds", "carol", "alex", "carol"), nil)["users"].([]any)
	require.Len(t, users, 3)
	require.Equal(t, []any{"carol", "alex", "carol"}, []any{users[0].(j)["userId"], users[1].(j)["userId"], users[2].(j)["userId"]}, "in the order asked, a repeated id twice")
	require.Equal(t, "Alex", users[1].(j)["displayName"])
	require.Empty(t, users[1].(j)["customerGroups"], "the BASIC view: no memberships")

	customers := s.ok(olivia, "GET", "/v1/msps/acme/customers:batchGet?"+ids("customerIds", "zylker", "initech"), nil)["customers"].([]any)
	require.Equal(t, "Zylker Corp", customers[0].(j)["displayName"])
	require.Nil(t, customers[0].(j)["preferences"], "the BASIC view: no preferences")
	groups := s.ok(olivia, "GET", "/v1/msps/acme/customerGroups:batchGet?"+ids("customerGroupIds", "site24x7", "zoho"), nil)["customerGroups"].([]any)
	require.Equal(t, "Site24x7", groups[0].(j)["displayName"])
	require.Equal(t, "Zoho", groups[1].(j)["displayName"])

	// Unknown, malformed, none, too many.
	s.fails(404, `userIds[1]: user "zed" not found`, olivia, "GET", "/v1/msps/acme/users:batchGet?"+ids("userIds", "alex", "zed"), nil)
	s.fails(404, `customer "nowhere" not found`, olivia, "GET", "/v1/msps/acme/customers:batchGet?"+ids("customerIds", "zylker", "nowhere"), nil)
	s.fails(400, "userIds[0]", olivia, "GET", "/v1/msps/acme/users:batchGet?"+ids("userIds", "Bad Id!"), nil)
	s.fails(400, "userIds: 0 ids asked, between 1 and 1000 answered", olivia, "GET", "/v1/msps/acme/users:batchGet", nil)
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("u%d", i)
	}
	s.fails(400, "customerGroupIds: 1001 ids asked, between 1 and 1000 answered", olivia, "GET", "/v1/msps/acme/customerGroups:batchGet?"+ids("customerGroupIds", many...), nil)

	// As a get would: Dana (a technician) sees herself and her customer,
	// not the others; another MSP's caller learns nothing of acme.
	require.Len(t, s.ok(dana, "GET", "/v1/msps/acme/users:batchGet?"+ids("userIds", "dana"), nil)["users"], 1)
	s.fails(403, `user "dana" lacks users.manage`, dana, "GET", "/v1/msps/acme/users:batchGet?"+ids("userIds", "dana", "alex"), nil)
	require.Len(t, s.ok(dana, "GET", "/v1/msps/acme/customers:batchGet?"+ids("customerIds", "initech"), nil)["customers"], 1)
	s.fails(404, `customer "zylker" not found`, dana, "GET", "/v1/msps/acme/customers:batchGet?"+ids("customerIds", "initech", "zylker"), nil)
	s.fails(403, `user "dana" lacks customer_groups.manage`, dana, "GET", "/v1/msps/acme/customerGroups:batchGet?"+ids("customerGroupIds", "zoho"), nil)
	northwind := s.ok(adminToken, "POST", "/v1/msps/northwind/tokens", j{})["token"].(string)
	s.fails(404, `msp "acme" not found`, northwind, "GET", "/v1/msps/acme/customers:batchGet?"+ids("customerIds", "zylker"), nil)
	require.False(t, strings.Contains(fmt.Sprint(s.ok(olivia, "GET", "/v1/msps/acme/users:batchGet?"+ids("userIds", "olivia"), nil)), "northwind"))
}
