package api

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type accessServer struct {
	pb.UnimplementedAccessServiceServer
	domain *tenancy.Service
}

// checkItem is the part of a check request that asks one question.
type checkItem interface {
	GetResource() string
	GetPermission() string
	GetSubject() string
}

// questionOf parses "<type>:<id>", the permission and "user:<id>"; field
// prefixes the names of the request's fields in errors.
func questionOf(item checkItem, field string) (tenancy.Question, error) {
	typ, id, ok := strings.Cut(item.GetResource(), ":")
	if !ok {
		return tenancy.Question{}, fault.New(fault.Invalid, "%sresource: %q is not \"<type>:<id>\" (e.g. \"customer:zylker\")", field, item.GetResource())
	}
	user, ok := strings.CutPrefix(item.GetSubject(), "user:")
	if !ok {
		return tenancy.Question{}, fault.New(fault.Invalid, "%ssubject: %q is not \"user:<id>\"", field, item.GetSubject())
	}
	return tenancy.Question{ResourceType: typ, ResourceID: id, Permission: item.GetPermission(), UserID: user}, nil
}

func (s *accessServer) Check(ctx context.Context, req *pb.CheckRequest) (*pb.CheckResponse, error) {
	q, err := questionOf(req, "")
	if err != nil {
		return nil, err
	}
	results, checkedAt, err := s.domain.Check(ctx, req.GetMspId(), []tenancy.Question{q}, req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.CheckResponse{Allowed: results[0].Allowed, CheckedAt: checkedAt, Via: results[0].Via}, nil
}

func (s *accessServer) CheckBulk(ctx context.Context, req *pb.CheckBulkRequest) (*pb.CheckBulkResponse, error) {
	qs := make([]tenancy.Question, len(req.GetItems()))
	for i, item := range req.GetItems() {
		q, err := questionOf(item, fmt.Sprintf("items[%d].", i))
		if err != nil {
			return nil, err
		}
		qs[i] = q
	}
	results, checkedAt, err := s.domain.Check(ctx, req.GetMspId(), qs, req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.CheckBulkResponse{CheckedAt: checkedAt}
	for _, r := range results {
		resp.Results = append(resp.Results, &pb.CheckBulkResult{Allowed: r.Allowed, Via: r.Via})
	}
	return resp, nil
}

func (s *accessServer) Explain(ctx context.Context, req *pb.ExplainRequest) (*pb.Explanation, error) {
	q, err := questionOf(req, "")
	if err != nil {
		return nil, err
	}
	e, err := s.domain.Explain(ctx, req.GetMspId(), q, req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.Explanation{Allowed: e.Allowed, CheckedAt: e.CheckedAt, Paths: []*pb.GrantingPath{}, Missing: []*pb.Missing{}}
	for _, p := range e.Paths {
		path := &pb.GrantingPath{Via: p.Via}
		for _, st := range p.Steps {
			path.Steps = append(path.Steps, &pb.PathStep{Object: st.Object, Note: st.Note})
		}
		resp.Paths = append(resp.Paths, path)
	}
	for _, m := range e.Missing {
		missing := &pb.Missing{Reason: string(m.Reason), Message: m.Message, Object: m.Object}
		if !m.At.IsZero() {
			missing.At = timestamppb.New(m.At)
		}
		for _, r := range m.Remedies {
			missing.Remedies = append(missing.Remedies, &pb.Remedy{Change: r.Change, Call: r.Call, Path: r.Path})
		}
		resp.Missing = append(resp.Missing, missing)
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
