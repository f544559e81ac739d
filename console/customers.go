package console

import (
	"net/http"
	"slices"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// customersPageSize is how many customers a page of the list shows.
const customersPageSize = 25

// customersPage is the list of the customers the caller sees, searched by
// id or name, a page at a time, each with how many users reach it.
type customersPage struct {
	frame
	Search string
	Rows   []customerRow
	// Next is the link to the next page, when there is one.
	Next string
}

// Reaches says whether the API told the reach of any row: the column is
// left out for a caller it tells none (a technician may not list users).
func (p customersPage) Reaches() bool {
	return slices.ContainsFunc(p.Rows, func(r customerRow) bool { return r.Reachs })
}

type customerRow struct {
	ID, Name string
	// Reach counts the users who reach it; Reachs says the API told.
	Reach  int
	Reachs bool
}

func (s *Server) customers(c *call) error {
	q := c.r.URL.Query()
	search := strings.TrimSpace(q.Get("search"))
	found, next, err := c.searchCustomers(search, q.Get("page"), customersPageSize)
	if err != nil {
		return err
	}
	page := customersPage{frame: c.frame("Customers", "customers"), Search: search, Rows: make([]customerRow, len(found))}
	for i, cu := range found {
		page.Rows[i] = customerRow{ID: cu.GetCustomerId(), Name: cu.GetDisplayName()}
	}
	err = each(indexes(len(found)), func(i int) error {
		reach, err := s.access.ListCustomerUsers(c.ctx, &pb.ListCustomerUsersRequest{MspId: c.msp(), CustomerId: found[i].GetCustomerId()})
		if err != nil {
			return ignoreHidden(err)
		}
		page.Rows[i].Reach, page.Rows[i].Reachs = len(reach.GetUsers()), true
		return nil
	})
	if err != nil {
		return err
	}
	if next != "" {
		page.Next = "/customers?" + query("search", search, "page", next)
	}
	c.render(http.StatusOK, "customers", page)
	return nil
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
