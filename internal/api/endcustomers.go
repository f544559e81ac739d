package api

import (
	"context"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type endCustomerServer struct {
	pb.UnimplementedEndCustomerServiceServer
	domain *tenancy.Service
}

func (s *endCustomerServer) GetSettings(ctx context.Context, req *pb.GetSettingsRequest) (*pb.Settings, error) {
	st, err := s.domain.GetSettings(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	return &pb.Settings{EndCustomerRoleSelection: st.EndCustomerRoleSelection, OwnDomainCustomerId: st.OwnDomainCustomerID}, nil
}

func (s *endCustomerServer) UpdateSettings(ctx context.Context, req *pb.UpdateSettingsRequest) (*pb.Settings, error) {
	st, err := s.domain.UpdateSettings(ctx, req.GetMspId(), tenancy.Settings{EndCustomerRoleSelection: req.GetEndCustomerRoleSelection(), OwnDomainCustomerID: req.GetOwnDomainCustomerId()})
	if err != nil {
		return nil, err
	}
	return &pb.Settings{EndCustomerRoleSelection: st.EndCustomerRoleSelection, OwnDomainCustomerId: st.OwnDomainCustomerID}, nil
}

func endCustomerUserMessage(u *tenancy.EndCustomerUser) *pb.EndCustomerUser {
	return &pb.EndCustomerUser{UserId: u.UserID, DisplayName: u.DisplayName, CustomerId: u.CustomerID, Role: u.Role}
}

func (s *endCustomerServer) CreateEndCustomerUser(ctx context.Context, req *pb.CreateEndCustomerUserRequest) (*pb.EndCustomerUser, error) {
	u, err := s.domain.CreateEndCustomerUser(ctx, req.GetMspId(), req.GetCustomerId(),
		tenancy.EndCustomerUser{UserID: req.GetUserId(), DisplayName: req.GetDisplayName(), Role: req.GetRole()})
	if err != nil {
		return nil, err
	}
	return endCustomerUserMessage(u), nil
}

func (s *endCustomerServer) ListEndCustomerUsers(ctx context.Context, req *pb.ListEndCustomerUsersRequest) (*pb.ListEndCustomerUsersResponse, error) {
	users, err := s.domain.ListEndCustomerUsers(ctx, req.GetMspId(), req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListEndCustomerUsersResponse{}
	for i := range users {
		resp.EndCustomerUsers = append(resp.EndCustomerUsers, endCustomerUserMessage(&users[i]))
	}
	return resp, nil
}

func (s *endCustomerServer) SetEndCustomerRole(ctx context.Context, req *pb.SetEndCustomerRoleRequest) (*pb.EndCustomerUser, error) {
	u, err := s.domain.SetEndCustomerRole(ctx, req.GetMspId(), req.GetCustomerId(), req.GetUserId(), req.GetRole())
	if err != nil {
		return nil, err
	}
	return endCustomerUserMessage(u), nil
}

func (s *endCustomerServer) DeleteEndCustomerUser(ctx context.Context, req *pb.DeleteEndCustomerUserRequest) (*pb.DeleteEndCustomerUserResponse, error) {
	return &pb.DeleteEndCustomerUserResponse{}, s.domain.DeleteEndCustomerUser(ctx, req.GetMspId(), req.GetCustomerId(), req.GetUserId())
}

func windowMessage(w *tenancy.MaintenanceWindow) *pb.MaintenanceWindow {
	return &pb.MaintenanceWindow{CustomerId: w.CustomerID, MaintenanceWindowId: w.ID, DisplayName: w.DisplayName, CreatorUserId: w.CreatorUserID, ModifiedByOther: w.ModifiedByOther}
}

func (s *endCustomerServer) CreateMaintenanceWindow(ctx context.Context, req *pb.CreateMaintenanceWindowRequest) (*pb.MaintenanceWindow, error) {
	w, err := s.domain.CreateMaintenanceWindow(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMaintenanceWindowId(), req.GetDisplayName())
	if err != nil {
		return nil, err
	}
	return windowMessage(w), nil
}

func (s *endCustomerServer) UpdateMaintenanceWindow(ctx context.Context, req *pb.UpdateMaintenanceWindowRequest) (*pb.MaintenanceWindow, error) {
	w, err := s.domain.UpdateMaintenanceWindow(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMaintenanceWindowId(), req.GetDisplayName())
	if err != nil {
		return nil, err
	}
	return windowMessage(w), nil
}

func (s *endCustomerServer) DeleteMaintenanceWindow(ctx context.Context, req *pb.DeleteMaintenanceWindowRequest) (*pb.DeleteMaintenanceWindowResponse, error) {
	return &pb.DeleteMaintenanceWindowResponse{}, s.domain.DeleteMaintenanceWindow(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMaintenanceWindowId())
}

func commentMessage(c *tenancy.OutageComment) *pb.OutageComment {
	return &pb.OutageComment{CustomerId: c.CustomerID, OutageCommentId: c.ID, Text: c.Text, CreatorUserId: c.CreatorUserID}
}

func (s *endCustomerServer) CreateOutageComment(ctx context.Context, req *pb.CreateOutageCommentRequest) (*pb.OutageComment, error) {
	c, err := s.domain.CreateOutageComment(ctx, req.GetMspId(), req.GetCustomerId(), req.GetOutageCommentId(), req.GetText())
	if err != nil {
		return nil, err
	}
	return commentMessage(c), nil
}

func (s *endCustomerServer) UpdateOutageComment(ctx context.Context, req *pb.UpdateOutageCommentRequest) (*pb.OutageComment, error) {
	c, err := s.domain.UpdateOutageComment(ctx, req.GetMspId(), req.GetCustomerId(), req.GetOutageCommentId(), req.GetText())
	if err != nil {
		return nil, err
	}
	return commentMessage(c), nil
}

func (s *endCustomerServer) SetMonitorGroup(ctx context.Context, req *pb.SetMonitorGroupRequest) (*pb.MonitorGroup, error) {
	if err := s.domain.SetMonitorGroup(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMonitorGroupId(), req.GetSpokespersons()); err != nil {
		return nil, err
	}
	return &pb.MonitorGroup{CustomerId: req.GetCustomerId(), MonitorGroupId: req.GetMonitorGroupId(), Spokespersons: req.GetSpokespersons()}, nil
}

func (s *endCustomerServer) SetMonitor(ctx context.Context, req *pb.SetMonitorRequest) (*pb.Monitor, error) {
	if err := s.domain.SetMonitor(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMonitorId(), req.GetMonitorGroupId()); err != nil {
		return nil, err
	}
	return &pb.Monitor{CustomerId: req.GetCustomerId(), MonitorId: req.GetMonitorId(), MonitorGroupId: req.GetMonitorGroupId()}, nil
}
