package api

import (
	"context"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type identityProviderServer struct {
	pb.UnimplementedIdentityProviderServiceServer
	domain *tenancy.Service
}

// identityProviderMessage maps a provider; its client secret never leaves.
func identityProviderMessage(p *tenancy.IdentityProvider) *pb.IdentityProvider {
	return &pb.IdentityProvider{MspId: p.MSP, CustomerId: p.CustomerID, Issuer: p.Issuer, ClientId: p.ClientID,
		ClientSecretSet: p.HasClientSecret, Claim: p.Claim, AllowedDomains: p.AllowedDomains}
}

func (s *identityProviderServer) SetIdentityProvider(ctx context.Context, req *pb.SetIdentityProviderRequest) (*pb.IdentityProvider, error) {
	p, err := s.domain.SetIdentityProvider(ctx, req.GetMspId(), req.GetCustomerId(), tenancy.IdentityProvider{
		Issuer: req.GetIssuer(), ClientID: req.GetClientId(), ClientSecret: req.GetClientSecret(), Claim: req.GetClaim(), AllowedDomains: req.GetAllowedDomains(),
	})
	return answer(p, err, identityProviderMessage)
}

func (s *identityProviderServer) GetIdentityProvider(ctx context.Context, req *pb.GetIdentityProviderRequest) (*pb.IdentityProvider, error) {
	p, err := s.domain.GetIdentityProvider(ctx, req.GetMspId(), req.GetCustomerId())
	return answer(p, err, identityProviderMessage)
}

func (s *identityProviderServer) DeleteIdentityProvider(ctx context.Context, req *pb.DeleteIdentityProviderRequest) (*pb.DeleteIdentityProviderResponse, error) {
	return &pb.DeleteIdentityProviderResponse{}, s.domain.DeleteIdentityProvider(ctx, req.GetMspId(), req.GetCustomerId())
}
