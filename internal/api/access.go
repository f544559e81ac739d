package api

import (
	"context"
	"fmt"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type accessServer struct {
	pb.UnimplementedAccessServiceServer
	domain *tenancy.Service
}

// checkItem is the part of a check request that names one pair.
type checkItem interface {
	GetResource() string
	GetPermission() string
	GetSubject() string
}

// pairOf parses "customer:<id>", "access" and "user:<id>"; field prefixes the
// names of the request's fields in errors.
func pairOf(item checkItem, field string) (tenancy.Pair, error) {
	if p := item.GetPermission(); p != tenancy.PermissionAccess {
		return tenancy.Pair{}, fault.New(fault.Invalid, "%spermission: %q is not a permission of customers (want %q)", field, p, tenancy.PermissionAccess)
	}
	customer, ok := strings.CutPrefix(item.GetResource(), "customer:")
	if !ok {
		return tenancy.Pair{}, fault.New(fault.Invalid, "%sresource: %q is not \"customer:<id>\"", field, item.GetResource())
	}
	user, ok := strings.CutPrefix(item.GetSubject(), "user:")
	if !ok {
		return tenancy.Pair{}, fault.New(fault.Invalid, "%ssubject: %q is not \"user:<id>\"", field, item.GetSubject())
	}
	return tenancy.Pair{UserID: user, CustomerID: customer}, nil
}

func (s *accessServer) Check(ctx context.Context, req *pb.CheckRequest) (*pb.CheckResponse, error) {
	p, err := pairOf(req, "")
	if err != nil {
		return nil, err
	}
	results, checkedAt, err := s.domain.CheckAccess(ctx, req.GetMspId(), []tenancy.Pair{p}, req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.CheckResponse{Allowed: results[0].Allowed, CheckedAt: checkedAt, Via: results[0].Via}, nil
}

func (s *accessServer) CheckBulk(ctx context.Context, req *pb.CheckBulkRequest) (*pb.CheckBulkResponse, error) {
	ps := make([]tenancy.Pair, len(req.GetItems()))
	for i, item := range req.GetItems() {
		p, err := pairOf(item, fmt.Sprintf("items[%d].", i))
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	results, checkedAt, err := s.domain.CheckAccess(ctx, req.GetMspId(), ps, req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.CheckBulkResponse{CheckedAt: checkedAt}
	for _, r := range results {
		resp.Results = append(resp.Results, &pb.CheckBulkResult{Allowed: r.Allowed, Via: r.Via})
	}
	return resp, nil
}

func (s *accessServer) ListUserCustomers(ctx context.Context, req *pb.ListUserCustomersRequest) (*pb.ListUserCustomersResponse, error) {
	reach, err := s.domain.CustomersOfUser(ctx, req.GetMspId(), req.GetUserId(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListUserCustomersResponse{CheckedAt: reach.CheckedAt, Customers: []*pb.CustomerAccess{}}
	for _, a := range reach.Access {
		resp.Customers = append(resp.Customers, &pb.CustomerAccess{CustomerId: a.CustomerID, Via: a.Via})
	}
	return resp, nil
}

func (s *accessServer) ListCustomerUsers(ctx context.Context, req *pb.ListCustomerUsersRequest) (*pb.ListCustomerUsersResponse, error) {
	reach, err := s.domain.UsersOfCustomer(ctx, req.GetMspId(), req.GetCustomerId(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListCustomerUsersResponse{CheckedAt: reach.CheckedAt, Users: []*pb.UserAccess{}}
	for _, a := range reach.Access {
		resp.Users = append(resp.Users, &pb.UserAccess{UserId: a.UserID, Via: a.Via})
	}
	return resp, nil
}
