package api

import (
	"context"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type roleServer struct {
	pb.UnimplementedRoleServiceServer
	domain *tenancy.Service
}

func (s *roleServer) ListPermissions(context.Context, *pb.ListPermissionsRequest) (*pb.ListPermissionsResponse, error) {
	resp := &pb.ListPermissionsResponse{}
	for _, p := range catalog.All {
		resp.Permissions = append(resp.Permissions, &pb.CatalogPermission{
			Permission: p.ID, Module: p.Module(), Action: p.Action(), Description: p.Description, Level: string(p.Level), Scoped: p.Scoped,
		})
	}
	return resp, nil
}

func roleMessage(r *tenancy.Role) *pb.Role {
	return &pb.Role{RoleId: r.ID, DisplayName: r.DisplayName, BuiltIn: r.BuiltIn, Permissions: r.Permissions}
}

func (s *roleServer) ListRoles(ctx context.Context, req *pb.ListRolesRequest) (*pb.ListRolesResponse, error) {
	roles, err := s.domain.ListRoles(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListRolesResponse{}
	for i := range roles {
		resp.Roles = append(resp.Roles, roleMessage(&roles[i]))
	}
	return resp, nil
}

func (s *roleServer) GetRole(ctx context.Context, req *pb.GetRoleRequest) (*pb.Role, error) {
	r, err := s.domain.GetRole(ctx, req.GetMspId(), req.GetRoleId())
	if err != nil {
		return nil, err
	}
	return roleMessage(r), nil
}

func (s *roleServer) CreateRole(ctx context.Context, req *pb.CreateRoleRequest) (*pb.Role, error) {
	r, err := s.domain.CreateRole(ctx, req.GetMspId(), tenancy.Role{ID: req.GetRoleId(), DisplayName: req.GetDisplayName(), Permissions: req.GetPermissions()})
	if err != nil {
		return nil, err
	}
	return roleMessage(r), nil
}

func (s *roleServer) ReplaceRole(ctx context.Context, req *pb.ReplaceRoleRequest) (*pb.Role, error) {
	r, err := s.domain.UpdateRole(ctx, req.GetMspId(), tenancy.Role{ID: req.GetRoleId(), DisplayName: req.GetDisplayName(), Permissions: req.GetPermissions()},
		tenancy.RoleFields{DisplayName: true, Permissions: true})
	if err != nil {
		return nil, err
	}
	return roleMessage(r), nil
}

func (s *roleServer) UpdateRole(ctx context.Context, req *pb.UpdateRoleRequest) (*pb.Role, error) {
	fields, err := updatedFields(req.GetUpdateMask(), req.GetRole(), "display_name", "permissions")
	if err != nil {
		return nil, err
	}
	role := req.GetRole()
	r, err := s.domain.UpdateRole(ctx, req.GetMspId(), tenancy.Role{ID: role.GetRoleId(), DisplayName: role.GetDisplayName(), Permissions: role.GetPermissions()},
		tenancy.RoleFields{DisplayName: fields["display_name"], Permissions: fields["permissions"]})
	if err != nil {
		return nil, err
	}
	return roleMessage(r), nil
}

func (s *roleServer) DeleteRole(ctx context.Context, req *pb.DeleteRoleRequest) (*pb.DeleteRoleResponse, error) {
	return &pb.DeleteRoleResponse{}, s.domain.DeleteRole(ctx, req.GetMspId(), req.GetRoleId())
}

func securityGroupMessage(g *tenancy.SecurityGroup) *pb.SecurityGroup {
	return &pb.SecurityGroup{
		SecurityGroupId: g.ID, DisplayName: g.DisplayName, RoleId: g.RoleID, Members: g.Members, BuiltIn: g.BuiltIn,
		SingleCustomerUserId: g.SingleCustomerUser, Origin: g.Origin,
		Scope: &pb.Scope{AllCustomers: g.Scope.AllCustomers, AssociatedCustomers: g.Scope.Associated,
			Customers: g.Scope.Customers, CustomerGroups: g.Scope.CustomerGroups},
	}
}

func (s *roleServer) ListSecurityGroups(ctx context.Context, req *pb.ListSecurityGroupsRequest) (*pb.ListSecurityGroupsResponse, error) {
	groups, err := s.domain.ListSecurityGroups(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListSecurityGroupsResponse{}
	for i := range groups {
		resp.SecurityGroups = append(resp.SecurityGroups, securityGroupMessage(&groups[i]))
	}
	return resp, nil
}

func (s *roleServer) GetSecurityGroup(ctx context.Context, req *pb.GetSecurityGroupRequest) (*pb.SecurityGroup, error) {
	g, err := s.domain.GetSecurityGroup(ctx, req.GetMspId(), req.GetSecurityGroupId())
	if err != nil {
		return nil, err
	}
	return securityGroupMessage(g), nil
}

func (s *roleServer) CreateSecurityGroup(ctx context.Context, req *pb.CreateSecurityGroupRequest) (*pb.SecurityGroup, error) {
	sc := req.GetScope()
	g, err := s.domain.CreateSecurityGroup(ctx, req.GetMspId(), tenancy.SecurityGroup{
		ID: req.GetSecurityGroupId(), DisplayName: req.GetDisplayName(), RoleID: req.GetRoleId(), Members: req.GetMembers(),
		Scope: tenancy.Scope{AllCustomers: sc.GetAllCustomers(), Associated: sc.GetAssociatedCustomers(), Customers: sc.GetCustomers(), CustomerGroups: sc.GetCustomerGroups()},
	})
	if err != nil {
		return nil, err
	}
	return securityGroupMessage(g), nil
}

func (s *roleServer) UpdateSecurityGroup(ctx context.Context, req *pb.UpdateSecurityGroupRequest) (*pb.SecurityGroup, error) {
	if _, err := updatedFields(req.GetUpdateMask(), req.GetSecurityGroup(), "display_name"); err != nil {
		return nil, err
	}
	g, err := s.domain.RenameSecurityGroup(ctx, req.GetMspId(), req.GetSecurityGroup().GetSecurityGroupId(), req.GetSecurityGroup().GetDisplayName())
	if err != nil {
		return nil, err
	}
	return securityGroupMessage(g), nil
}

func (s *roleServer) SetSecurityGroupMembers(ctx context.Context, req *pb.SetSecurityGroupMembersRequest) (*pb.SecurityGroup, error) {
	g, err := s.domain.SetSecurityGroupMembers(ctx, req.GetMspId(), req.GetSecurityGroupId(), req.GetMembers(), tenancy.SaveOptions{AllowEmpty: req.GetAllowEmpty()})
	if err != nil {
		return nil, err
	}
	return securityGroupMessage(g), nil
}

func (s *roleServer) DeleteSecurityGroup(ctx context.Context, req *pb.DeleteSecurityGroupRequest) (*pb.DeleteSecurityGroupResponse, error) {
	return &pb.DeleteSecurityGroupResponse{}, s.domain.DeleteSecurityGroup(ctx, req.GetMspId(), req.GetSecurityGroupId())
}

func (s *roleServer) SetUserSecurityGroups(ctx context.Context, req *pb.SetUserSecurityGroupsRequest) (*pb.SetUserSecurityGroupsResponse, error) {
	err := s.domain.SetUserSecurityGroups(ctx, req.GetMspId(), req.GetUserId(), req.GetSecurityGroups(), tenancy.SaveOptions{AllowEmpty: req.GetAllowEmpty()})
	if err != nil {
		return nil, err
	}
	return &pb.SetUserSecurityGroupsResponse{UserId: req.GetUserId(), SecurityGroups: req.GetSecurityGroups()}, nil
}
