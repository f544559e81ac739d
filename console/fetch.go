package console

import (
	"slices"
	"strings"
	"sync"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// The console reads whole lists a page of the API at a time, up to these.
const (
	apiPageSize = 1000
	// maxListed is the most items a list page shows.
	maxListed = 1000
	// maxOffered is the most options a form's choice lists besides its
	// selection; past it, the choice finds the others by id or name.
	maxOffered = 50
	// maxFound is the most options one search of a choice returns.
	maxFound = 20
)

// parallelism bounds the API calls a page makes at once.
const parallelism = 8

// each runs f for every item, parallelism at a time, and returns the first error.
func each[T any](items []T, f func(T) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelism)
	var mu sync.Mutex
	var first error
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(it); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// all runs fs at once and returns the first error.
func all(fs ...func() error) error {
	return each(fs, func(f func() error) error { return f() })
}

// collect gathers up to want items of a listing, from its page token on,
// at most size a page (a search's pages may hold fewer than asked), and
// answers the token that goes on past them ("" at the end).
func collect[T any](token string, want, size int, list func(size int32, token string) ([]T, string, error)) ([]T, string, error) {
	var out []T
	for range 100 {
		items, next, err := list(int32(min(size, want-len(out))), token)
		if err != nil {
			return nil, "", err
		}
		out = append(out, items...)
		if token = next; token == "" || len(out) >= want {
			break
		}
	}
	return out, token, nil
}

// customerGroups and users list the MSP's customer groups and users (one
// page, in view, found by search); customers its customers.
func (c *call) customerGroups(view pb.View, search string) func(int32, string) ([]*pb.CustomerGroup, string, error) {
	return func(size int32, token string) ([]*pb.CustomerGroup, string, error) {
		page, err := c.s.tenancy.ListCustomerGroups(c.ctx, &pb.ListCustomerGroupsRequest{MspId: c.msp(), PageSize: size, PageToken: token, View: view, Search: search})
		return page.GetCustomerGroups(), page.GetNextPageToken(), err
	}
}

func (c *call) users(view pb.View, search string) func(int32, string) ([]*pb.User, string, error) {
	return func(size int32, token string) ([]*pb.User, string, error) {
		page, err := c.s.tenancy.ListUsers(c.ctx, &pb.ListUsersRequest{MspId: c.msp(), PageSize: size, PageToken: token, View: view, Search: search})
		return page.GetUsers(), page.GetNextPageToken(), err
	}
}

func (c *call) customers(search string) func(int32, string) ([]*pb.Customer, string, error) {
	return func(size int32, token string) ([]*pb.Customer, string, error) {
		page, err := c.s.tenancy.ListCustomers(c.ctx, &pb.ListCustomersRequest{MspId: c.msp(), PageSize: size, PageToken: token, Search: search})
		return page.GetCustomers(), page.GetNextPageToken(), err
	}
}

// allCustomerGroups are the MSP's customer groups, at most maxListed, in
// view (BASIC when a page needs only their names).
func (c *call) allCustomerGroups(view pb.View) ([]*pb.CustomerGroup, error) {
	out, _, err := collect("", maxListed, apiPageSize, c.customerGroups(view, ""))
	return out, err
}

// allUsers are the MSP's users, at most maxListed, in view (BASIC when a
// page needs only their names).
func (c *call) allUsers(view pb.View) ([]*pb.User, error) {
	out, _, err := collect("", maxListed, apiPageSize, c.users(view, ""))
	return out, err
}

// offeredGroups and offeredUsers are the first customer groups and users a
// choice offers (their names), and whether the list goes on past them.
func (c *call) offeredGroups(search string, want int) ([]*pb.CustomerGroup, bool, error) {
	out, next, err := collect("", want, want, c.customerGroups(pb.View_BASIC, search))
	return out, next != "", err
}

func (c *call) offeredUsers(search string, want int) ([]*pb.User, bool, error) {
	out, next, err := collect("", want, want, c.users(pb.View_BASIC, search))
	return out, next != "", err
}

// searchCustomers are the customers found by search, want of them from
// token on, and the token past them.
func (c *call) searchCustomers(search, token string, want int) ([]*pb.Customer, string, error) {
	return collect(token, want, want, c.customers(search))
}

func (c *call) msp() string { return c.caller.GetMspId() }

// nameUsers fills in the names of the users of ids that n lacks: a batch
// get of up to 1,000 at a time.
func (c *call) nameUsers(n *names, ids []string) error {
	return nameAll(n.missing(n.users, ids), func(chunk []string) error {
		r, err := c.s.tenancy.BatchGetUsers(c.ctx, &pb.BatchGetUsersRequest{MspId: c.msp(), UserIds: chunk})
		n.addUsers(r.GetUsers())
		return err
	}, func(id string) error {
		u, err := c.s.tenancy.GetUser(c.ctx, &pb.GetUserRequest{MspId: c.msp(), UserId: id, View: pb.View_BASIC})
		if err == nil {
			n.addUsers([]*pb.User{u})
		}
		return err
	})
}

// nameCustomers fills in the names of the customers of ids that n lacks.
func (c *call) nameCustomers(n *names, ids []string) error {
	return nameAll(n.missing(n.customers, ids), func(chunk []string) error {
		r, err := c.s.tenancy.BatchGetCustomers(c.ctx, &pb.BatchGetCustomersRequest{MspId: c.msp(), CustomerIds: chunk})
		n.addCustomers(r.GetCustomers())
		return err
	}, func(id string) error {
		cu, err := c.s.tenancy.GetCustomer(c.ctx, &pb.GetCustomerRequest{MspId: c.msp(), CustomerId: id, View: pb.View_BASIC})
		if err == nil {
			n.addCustomers([]*pb.Customer{cu})
		}
		return err
	})
}

// nameGroups fills in the names of the customer groups of ids that n lacks.
func (c *call) nameGroups(n *names, ids []string) error {
	return nameAll(n.missing(n.groups, ids), func(chunk []string) error {
		r, err := c.s.tenancy.BatchGetCustomerGroups(c.ctx, &pb.BatchGetCustomerGroupsRequest{MspId: c.msp(), CustomerGroupIds: chunk})
		n.addGroups(r.GetCustomerGroups())
		return err
	}, func(id string) error {
		g, err := c.s.tenancy.GetCustomerGroup(c.ctx, &pb.GetCustomerGroupRequest{MspId: c.msp(), CustomerGroupId: id, View: pb.View_BASIC})
		if err == nil {
			n.addGroups([]*pb.CustomerGroup{g})
		}
		return err
	})
}

// batchSize is the most ids of one batch get (the API's bound).
const batchSize = 1000

// nameAll names ids a batch at a time; a batch the API refuses because one
// of its objects is hidden from the caller (or gone) is named one by one,
// those left unnamed.
func nameAll(ids []string, batch func([]string) error, one func(string) error) error {
	for chunk := range slices.Chunk(ids, batchSize) {
		err := batch(chunk)
		if ignoreHidden(err) != nil {
			return err
		}
		if err == nil {
			continue
		}
		if err := each(chunk, func(id string) error { return ignoreHidden(one(id)) }); err != nil {
			return err
		}
	}
	return nil
}

// fullGroups are the customer groups of ids with their members and
// customers, by id, a get each (those hidden from the caller left out).
func (c *call) fullGroups(ids []string) (map[string]*pb.CustomerGroup, error) {
	var mu sync.Mutex
	out := map[string]*pb.CustomerGroup{}
	err := each(dedupe(ids), func(id string) error {
		g, err := c.s.tenancy.GetCustomerGroup(c.ctx, &pb.GetCustomerGroupRequest{MspId: c.msp(), CustomerGroupId: id})
		if err != nil {
			return ignoreHidden(err)
		}
		mu.Lock()
		out[id] = g
		mu.Unlock()
		return nil
	})
	return out, err
}

// groupOf is the customer group of a "customer_group:<id>" path, or "".
func groupOf(via string) string {
	id, _ := strings.CutPrefix(via, "customer_group:")
	if id == via {
		return ""
	}
	return id
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
