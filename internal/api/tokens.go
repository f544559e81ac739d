package api

import (
	"context"
	"slices"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type tokenServer struct {
	pb.UnimplementedTokenServiceServer
	domain *tenancy.Service
	tokens *auth.Tokens
}

func (s *tokenServer) CreateToken(ctx context.Context, req *pb.CreateTokenRequest) (*pb.CreateTokenResponse, error) {
	if _, err := s.domain.GetMSP(ctx, req.GetMspId()); err != nil {
		return nil, err
	}
	id, token, err := s.tokens.Issue(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	return &pb.CreateTokenResponse{TokenId: id, MspId: req.GetMspId(), Token: token}, nil
}

func (s *tokenServer) CreateUserToken(ctx context.Context, req *pb.CreateUserTokenRequest) (*pb.CreateTokenResponse, error) {
	if _, err := s.domain.GetMSP(ctx, req.GetMspId()); err != nil {
		return nil, err
	}
	id, token, err := s.tokens.IssueForUser(ctx, req.GetMspId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &pb.CreateTokenResponse{TokenId: id, MspId: req.GetMspId(), UserId: req.GetUserId(), Token: token}, nil
}

func (s *tokenServer) ListTokens(ctx context.Context, req *pb.ListTokensRequest) (*pb.ListTokensResponse, error) {
	if _, err := s.domain.GetMSP(ctx, req.GetMspId()); err != nil {
		return nil, err
	}
	ids, err := s.tokens.List(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	return &pb.ListTokensResponse{TokenIds: ids}, nil
}

func (s *tokenServer) DeleteToken(ctx context.Context, req *pb.DeleteTokenRequest) (*pb.DeleteTokenResponse, error) {
	if _, err := s.domain.GetMSP(ctx, req.GetMspId()); err != nil {
		return nil, err
	}
	return &pb.DeleteTokenResponse{}, s.tokens.Revoke(ctx, req.GetMspId(), req.GetTokenId())
}

func (s *tokenServer) GetCaller(ctx context.Context, req *pb.GetCallerRequest) (*pb.Caller, error) {
	c, _ := auth.CallerFrom(ctx)
	out := &pb.Caller{Platform: c.Platform, MspId: c.MSP, UserId: c.ActingUser(), Name: callerName(c)}
	if c.MSP == "" || out.UserId == "" || req.GetView() == pb.View_BASIC {
		return out, nil
	}
	ids := append(catalog.IDs(func(p catalog.Permission) bool { return p.Level == catalog.MSP }), tenancy.PermissionSwitchToOwnDomain)
	questions := make([]tenancy.Question, len(ids))
	for i, id := range ids {
		questions[i] = tenancy.Question{ResourceType: "msp", ResourceID: c.MSP, Permission: id, UserID: out.UserId}
	}
	answers, _, err := s.domain.Check(ctx, c.MSP, questions, "")
	if err != nil {
		return nil, err
	}
	for i, a := range answers {
		if a.Allowed {
			out.MspPermissions = append(out.MspPermissions, ids[i])
		}
	}
	if slices.Contains(out.MspPermissions, tenancy.PermissionSwitchToOwnDomain) {
		// He administers the own domain: he may know which customer it is.
		settings, err := s.domain.GetSettings(ctx, c.MSP)
		if err != nil {
			return nil, err
		}
		out.OwnDomainCustomerId = settings.OwnDomainCustomerID
	}
	return out, nil
}
