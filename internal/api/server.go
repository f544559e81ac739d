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
func Register(s grpc.ServiceRegistrar, domain *tenancy.Service, credentials auth.Credentials, trail *audit.Log) {
	pb.RegisterTenancyServiceServer(s, &tenancyServer{domain: domain, credentials: credentials})
	pb.RegisterAccessServiceServer(s, &accessServer{domain: domain})
	pb.RegisterTokenServiceServer(s, &tokenServer{domain: domain, tokens: credentials.Tokens})
	pb.RegisterRoleServiceServer(s, &roleServer{domain: domain})
	pb.RegisterEndCustomerServiceServer(s, &endCustomerServer{domain: domain, credentials: credentials})
	pb.RegisterIdentityProviderServiceServer(s, &identityProviderServer{domain: domain})
	pb.RegisterPartnerServiceServer(s, &partnerServer{domain: domain})
	pb.RegisterGrantServiceServer(s, &grantServer{domain: domain})
	pb.RegisterAuditServiceServer(s, &auditServer{domain: domain, trail: trail})
	pb.RegisterChangeServiceServer(s, &changeServer{domain: domain})
	pb.RegisterSyncServiceServer(s, &syncServer{domain: domain})
}

// answer maps a domain answer to its message, or passes its error on.
func answer[T any, M any](v *T, err error, message func(*T) M) (M, error) {
	if err != nil {
		var zero M
		return zero, err
	}
	return message(v), nil
}

// messages maps the items of a domain list to their messages.
func messages[T any, M any](items []T, message func(*T) M) []M {
	out := make([]M, len(items))
	for i := range items {
		out[i] = message(&items[i])
	}
	return out
}
