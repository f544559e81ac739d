package api

import (
	"google.golang.org/grpc"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/audit"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// MaxMessageBytes is the largest gRPC request the server accepts: a sync's
// snapshot of an MSP at scale exceeds gRPC's default of 4 MB.
const MaxMessageBytes = 32 << 20

// Register adds the mspauthz.v1 services to s.
func Register(s grpc.ServiceRegistrar, domain *tenancy.Service, tokens *auth.Tokens, trail *audit.Log) {
	pb.RegisterTenancyServiceServer(s, &tenancyServer{domain: domain, tokens: tokens})
	pb.RegisterAccessServiceServer(s, &accessServer{domain: domain})
	pb.RegisterTokenServiceServer(s, &tokenServer{domain: domain, tokens: tokens})
	pb.RegisterRoleServiceServer(s, &roleServer{domain: domain})
	pb.RegisterEndCustomerServiceServer(s, &endCustomerServer{domain: domain})
	pb.RegisterPartnerServiceServer(s, &partnerServer{domain: domain})
	pb.RegisterGrantServiceServer(s, &grantServer{domain: domain})
	pb.RegisterAuditServiceServer(s, &auditServer{domain: domain, trail: trail})
	pb.RegisterChangeServiceServer(s, &changeServer{domain: domain})
	pb.RegisterSyncServiceServer(s, &syncServer{domain: domain})
}
