package api

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type partnerServer struct {
	pb.UnimplementedPartnerServiceServer
	domain *tenancy.Service
}

func partnerAccessMessage(p *tenancy.PartnerAccess) *pb.PartnerAccess {
	return &pb.PartnerAccess{CustomerId: p.CustomerID, Enabled: p.Enabled, WrittenAt: p.WrittenAt, CheckedAt: p.CheckedAt}
}

func (s *partnerServer) GetPartnerAccess(ctx context.Context, req *pb.GetPartnerAccessRequest) (*pb.PartnerAccess, error) {
	p, err := s.domain.GetPartnerAccess(ctx, req.GetMspId(), req.GetCustomerId(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return partnerAccessMessage(p), nil
}

func (s *partnerServer) SetPartnerAccess(ctx context.Context, req *pb.SetPartnerAccessRequest) (*pb.PartnerAccess, error) {
	p, err := s.domain.SetPartnerAccess(ctx, req.GetMspId(), req.GetCustomerId(), req.GetEnabled())
	if err != nil {
		return nil, err
	}
	return partnerAccessMessage(p), nil
}

func (s *partnerServer) LoginAs(ctx context.Context, req *pb.LoginAsRequest) (*pb.LoginAsGrant, error) {
	g, err := s.domain.LoginAs(ctx, req.GetMspId(), req.GetCustomerId(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.LoginAsGrant{UserId: g.UserID, CustomerId: g.CustomerID, ExpiresAt: timestamppb.New(g.ExpiresAt), CheckedAt: g.CheckedAt}, nil
}

func (s *partnerServer) ListGlobalViewCustomers(ctx context.Context, req *pb.ListGlobalViewCustomersRequest) (*pb.ListGlobalViewCustomersResponse, error) {
	customers, next, checkedAt, err := s.domain.GlobalViewCustomers(ctx, req.GetMspId(), req.GetView(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListGlobalViewCustomersResponse{NextPageToken: next, CheckedAt: checkedAt}
	for _, c := range customers {
		resp.Customers = append(resp.Customers, &pb.Customer{CustomerId: c.ID, DisplayName: c.DisplayName})
	}
	return resp, nil
}

type grantServer struct {
	pb.UnimplementedGrantServiceServer
	domain *tenancy.Service
}

func grantMessage(g *tenancy.Grant) *pb.Grant {
	m := &pb.Grant{
		GrantId: g.ID, CustomerId: g.CustomerID, SecurityGroupId: g.SecurityGroupID, RoleId: g.RoleID,
		DurationDays: int32(g.DurationDays), AutoExtend: g.AutoExtend, Status: string(g.Status),
		RequestedBy: g.RequestedBy, RequestedAt: timestamppb.New(g.RequestedAt), DecidedBy: g.DecidedBy,
		ExpiresAt: timestamppb.New(g.ExpiresAt), WrittenAt: g.WrittenAt,
		Permissions: g.Permissions, Members: g.Members,
	}
	if !g.DecidedAt.IsZero() {
		m.DecidedAt = timestamppb.New(g.DecidedAt)
	}
	return m
}

func (s *grantServer) RequestGrant(ctx context.Context, req *pb.RequestGrantRequest) (*pb.Grant, error) {
	return grantReply(s.domain.RequestGrant(ctx, req.GetMspId(), tenancy.Grant{
		CustomerID: req.GetCustomerId(), SecurityGroupID: req.GetSecurityGroupId(), RoleID: req.GetRoleId(),
		DurationDays: int(req.GetDurationDays()), AutoExtend: req.GetAutoExtend(),
	}))
}

func (s *grantServer) ListGrants(ctx context.Context, req *pb.ListGrantsRequest) (*pb.ListGrantsResponse, error) {
	grants, checkedAt, err := s.domain.ListGrants(ctx, req.GetMspId(), tenancy.GrantQuery{CustomerID: req.GetCustomerId(), ExpiringWithinDays: int(req.GetExpiringWithinDays())}, req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListGrantsResponse{CheckedAt: checkedAt}
	for i := range grants {
		resp.Grants = append(resp.Grants, grantMessage(&grants[i]))
	}
	return resp, nil
}

func (s *grantServer) GetGrant(ctx context.Context, req *pb.GetGrantRequest) (*pb.Grant, error) {
	return grantReply(s.domain.GetGrant(ctx, req.GetMspId(), req.GetGrantId()))
}

func (s *grantServer) ApproveGrant(ctx context.Context, req *pb.DecideGrantRequest) (*pb.Grant, error) {
	return grantReply(s.domain.ApproveGrant(ctx, req.GetMspId(), req.GetGrantId()))
}

func (s *grantServer) DeclineGrant(ctx context.Context, req *pb.DecideGrantRequest) (*pb.Grant, error) {
	return grantReply(s.domain.DeclineGrant(ctx, req.GetMspId(), req.GetGrantId()))
}

func (s *grantServer) RevokeGrant(ctx context.Context, req *pb.DecideGrantRequest) (*pb.Grant, error) {
	return grantReply(s.domain.RevokeGrant(ctx, req.GetMspId(), req.GetGrantId()))
}

func grantReply(g *tenancy.Grant, err error) (*pb.Grant, error) {
	if err != nil {
		return nil, err
	}
	return grantMessage(g), nil
}
