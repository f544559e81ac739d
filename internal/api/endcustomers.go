package api

import (
	"context"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type endCustomerServer struct {
	pb.UnimplementedEndCustomerServiceServer
	domain      *tenancy.Service
	credentials auth.Credentials
}

func (s *endCustomerServer) GetSettings(ctx context.Context, req *pb.GetSettingsRequest) (*pb.Settings, error) {
	st, err := s.domain.GetSettings(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	return settings(st), nil
}

func (s *endCustomerServer) UpdateSettings(ctx context.Context, req *pb.UpdateSettingsRequest) (*pb.Settings, error) {
	st, err := s.domain.UpdateSettings(ctx, req.GetMspId(), tenancy.Settings{
		EndCustomerRoleSelection: req.GetEndCustomerRoleSelection(), OwnDomainCustomerID: req.GetOwnDomainCustomerId(),
		SyncCreatesCustomers: req.SyncCreatesCustomers == nil || req.GetSyncCreatesCustomers(),
	})
	if err != nil {
		return nil, err
	}
	return settings(st), nil
}

func settings(st *tenancy.Settings) *pb.Settings {
	return &pb.Settings{EndCustomerRoleSelection: st.EndCustomerRoleSelection, OwnDomainCustomerId: st.OwnDomainCustomerID, SyncCreatesCustomers: st.SyncCreatesCustomers}
}

// ListEndCustomerRoles lists the end-customer roles of the catalog.
func (s *endCustomerServer) ListEndCustomerRoles(context.Context, *pb.ListEndCustomerRolesRequest) (*pb.ListEndCustomerRolesResponse, error) {
	resp := &pb.ListEndCustomerRolesResponse{DefaultRole: catalog.DefaultEndCustomerRole}
	for _, r := range catalog.EndCustomerRoles {
		resp.Roles = append(resp.Roles, &pb.EndCustomerRole{Role: r.ID, DisplayName: r.DisplayName, Channel: r.Channel, Permissions: r.Permissions})
	}
	return resp, nil
}

func endCustomerUserMessage(u *tenancy.EndCustomerUser) *pb.EndCustomerUser {
	return &pb.EndCustomerUser{UserId: u.UserID, DisplayName: u.DisplayName, CustomerId: u.CustomerID, Role: u.Role, ExternalId: u.ExternalID}
}

func (s *endCustomerServer) CreateEndCustomerUser(ctx context.Context, req *pb.CreateEndCustomerUserRequest) (*pb.EndCustomerUser, error) {
	u, err := s.domain.CreateEndCustomerUser(ctx, req.GetMspId(), req.GetCustomerId(),
		tenancy.EndCustomerUser{UserID: req.GetUserId(), DisplayName: req.GetDisplayName(), Role: req.GetRole(), ExternalID: req.GetExternalId()})
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

func (s *endCustomerServer) UpdateEndCustomerUser(ctx context.Context, req *pb.UpdateEndCustomerUserRequest) (*pb.EndCustomerUser, error) {
	fields, err := updatedFields(req.GetUpdateMask(), req.GetEndCustomerUser(), "display_name", "external_id")
	if err != nil {
		return nil, err
	}
	u, err := s.domain.UpdateEndCustomerUser(ctx, req.GetMspId(), req.GetCustomerId(), req.GetEndCustomerUser().GetUserId(), userUpdate(fields, req.GetEndCustomerUser()))
	if err != nil {
		return nil, err
	}
	return endCustomerUserMessage(u), nil
}

func (s *endCustomerServer) DeleteEndCustomerUser(ctx context.Context, req *pb.DeleteEndCustomerUserRequest) (*pb.DeleteEndCustomerUserResponse, error) {
	err := s.domain.DeleteEndCustomerUser(ctx, req.GetMspId(), req.GetCustomerId(), req.GetUserId())
	if err == nil {
		s.credentials.Forget(req.GetMspId(), req.GetUserId())
	}
	return &pb.DeleteEndCustomerUserResponse{}, err
}

func windowMessage(w *tenancy.MaintenanceWindow) *pb.MaintenanceWindow {
	return &pb.MaintenanceWindow{CustomerId: w.CustomerID, MaintenanceWindowId: w.ID, DisplayName: w.DisplayName, CreatorUserId: w.CreatorUserID, ModifiedByOther: w.ModifiedByOther,
		Editors: w.Editors, Deleters: w.Deleters}
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
	return &pb.OutageComment{CustomerId: c.CustomerID, OutageCommentId: c.ID, Text: c.Text, CreatorUserId: c.CreatorUserID, Editors: c.Editors}
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

func monitorGroupMessage(g *tenancy.MonitorGroup) *pb.MonitorGroup {
	return &pb.MonitorGroup{CustomerId: g.CustomerID, MonitorGroupId: g.ID, Spokespersons: g.Spokespersons, Editors: g.Editors}
}

func monitorMessage(m *tenancy.Monitor) *pb.Monitor {
	return &pb.Monitor{CustomerId: m.CustomerID, MonitorId: m.ID, MonitorGroupId: m.MonitorGroupID, Editors: m.Editors}
}

func (s *endCustomerServer) SetMonitorGroup(ctx context.Context, req *pb.SetMonitorGroupRequest) (*pb.MonitorGroup, error) {
	v, err := s.domain.SetMonitorGroup(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMonitorGroupId(), req.GetSpokespersons())
	return answer(v, err, monitorGroupMessage)
}

func (s *endCustomerServer) SetMonitor(ctx context.Context, req *pb.SetMonitorRequest) (*pb.Monitor, error) {
	v, err := s.domain.SetMonitor(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMonitorId(), req.GetMonitorGroupId())
	return answer(v, err, monitorMessage)
}

func (s *endCustomerServer) GetMaintenanceWindow(ctx context.Context, req *pb.GetMaintenanceWindowRequest) (*pb.MaintenanceWindow, error) {
	v, err := s.domain.GetMaintenanceWindow(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMaintenanceWindowId(), req.GetAtLeastAsFresh())
	return answer(v, err, windowMessage)
}

func (s *endCustomerServer) ListMaintenanceWindows(ctx context.Context, req *pb.ListMaintenanceWindowsRequest) (*pb.ListMaintenanceWindowsResponse, error) {
	l, err := s.domain.ListMaintenanceWindows(ctx, req.GetMspId(), req.GetCustomerId(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.ListMaintenanceWindowsResponse{MaintenanceWindows: messages(l.Items, windowMessage), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}

func (s *endCustomerServer) GetOutageComment(ctx context.Context, req *pb.GetOutageCommentRequest) (*pb.OutageComment, error) {
	v, err := s.domain.GetOutageComment(ctx, req.GetMspId(), req.GetCustomerId(), req.GetOutageCommentId(), req.GetAtLeastAsFresh())
	return answer(v, err, commentMessage)
}

func (s *endCustomerServer) ListOutageComments(ctx context.Context, req *pb.ListOutageCommentsRequest) (*pb.ListOutageCommentsResponse, error) {
	l, err := s.domain.ListOutageComments(ctx, req.GetMspId(), req.GetCustomerId(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.ListOutageCommentsResponse{OutageComments: messages(l.Items, commentMessage), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}

func (s *endCustomerServer) GetMonitorGroup(ctx context.Context, req *pb.GetMonitorGroupRequest) (*pb.MonitorGroup, error) {
	v, err := s.domain.GetMonitorGroup(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMonitorGroupId(), req.GetAtLeastAsFresh())
	return answer(v, err, monitorGroupMessage)
}

func (s *endCustomerServer) ListMonitorGroups(ctx context.Context, req *pb.ListMonitorGroupsRequest) (*pb.ListMonitorGroupsResponse, error) {
	l, err := s.domain.ListMonitorGroups(ctx, req.GetMspId(), req.GetCustomerId(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.ListMonitorGroupsResponse{MonitorGroups: messages(l.Items, monitorGroupMessage), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}

func (s *endCustomerServer) GetMonitor(ctx context.Context, req *pb.GetMonitorRequest) (*pb.Monitor, error) {
	v, err := s.domain.GetMonitor(ctx, req.GetMspId(), req.GetCustomerId(), req.GetMonitorId(), req.GetAtLeastAsFresh())
	return answer(v, err, monitorMessage)
}

func (s *endCustomerServer) ListMonitors(ctx context.Context, req *pb.ListMonitorsRequest) (*pb.ListMonitorsResponse, error) {
	l, err := s.domain.ListMonitors(ctx, req.GetMspId(), req.GetCustomerId(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.ListMonitorsResponse{Monitors: messages(l.Items, monitorMessage), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}
