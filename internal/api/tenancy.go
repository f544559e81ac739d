package api

import (
	"context"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type tenancyServer struct {
	pb.UnimplementedTenancyServiceServer
	domain      *tenancy.Service
	credentials auth.Credentials
}

func mspMessage(m *tenancy.MSP) *pb.MSP {
	return &pb.MSP{MspId: m.ID, DisplayName: m.DisplayName, OwnerUserId: m.OwnerUserID}
}

func (s *tenancyServer) CreateMSP(ctx context.Context, req *pb.CreateMSPRequest) (*pb.MSP, error) {
	m, err := s.domain.CreateMSP(ctx, tenancy.MSP{ID: req.GetMspId(), DisplayName: req.GetDisplayName(), OwnerUserID: req.GetOwnerUserId()})
	if err != nil {
		return nil, err
	}
	return mspMessage(m), nil
}

func (s *tenancyServer) GetMSP(ctx context.Context, req *pb.GetMSPRequest) (*pb.MSP, error) {
	m, err := s.domain.GetMSP(ctx, req.GetMspId())
	if err != nil {
		return nil, err
	}
	return mspMessage(m), nil
}

// ListMSPs lists every MSP to the platform, and its own MSP to an MSP token.
func (s *tenancyServer) ListMSPs(ctx context.Context, req *pb.ListMSPsRequest) (*pb.ListMSPsResponse, error) {
	only := ""
	if caller, _ := auth.CallerFrom(ctx); !caller.Platform {
		only = caller.MSP
	}
	msps, next, err := s.domain.ListMSPs(ctx, only, page(req))
	if err != nil {
		return nil, err
	}
	resp := &pb.ListMSPsResponse{NextPageToken: next}
	for i := range msps {
		resp.Msps = append(resp.Msps, mspMessage(&msps[i]))
	}
	return resp, nil
}

func (s *tenancyServer) DeleteMSP(ctx context.Context, req *pb.DeleteMSPRequest) (*pb.DeleteMSPResponse, error) {
	err := s.domain.DeleteMSP(ctx, req.GetMspId())
	s.credentials.Forget(req.GetMspId(), "")
	return &pb.DeleteMSPResponse{}, err
}

type pageRequest interface {
	GetPageSize() int32
	GetPageToken() string
}

func page(req pageRequest) tenancy.Page {
	return tenancy.Page{Size: int(req.GetPageSize()), Token: req.GetPageToken()}
}

// viewOf is the domain's view of a request's.
func viewOf(v pb.View) tenancy.View {
	switch v {
	case pb.View_BASIC:
		return tenancy.ViewBasic
	case pb.View_FULL:
		return tenancy.ViewFull
	}
	return tenancy.ViewDefault
}

func userMessage(u *tenancy.User) *pb.User {
	out := &pb.User{UserId: u.ID, DisplayName: u.DisplayName, SingleCustomerId: u.SingleCustomerID, Origin: u.Origin, ExternalId: u.ExternalID}
	for _, m := range u.CustomerGroups {
		out.CustomerGroups = append(out.CustomerGroups, &pb.CustomerGroupMembership{CustomerGroupId: m.ID, Origin: m.Origin})
	}
	for _, m := range u.SecurityGroups {
		out.SecurityGroups = append(out.SecurityGroups, &pb.SecurityGroupMembership{SecurityGroupId: m.ID, Origin: m.Origin})
	}
	return out
}

func customerGroupMessage(g *tenancy.CustomerGroup) *pb.CustomerGroup {
	out := &pb.CustomerGroup{CustomerGroupId: g.ID, DisplayName: g.DisplayName, Origin: g.Origin, Customers: g.Customers}
	for _, m := range g.Members {
		out.Members = append(out.Members, &pb.Member{UserId: m.ID, Origin: m.Origin})
	}
	return out
}

func customerMessage(c *tenancy.Customer) *pb.Customer {
	out := &pb.Customer{CustomerId: c.ID, DisplayName: c.DisplayName}
	if p := c.Preferences; p != nil {
		out.Preferences = &pb.CustomerPreferences{CustomerGroups: p.CustomerGroups, Users: p.Users, AccountContact: p.AccountContact, PartnerAccessEnabled: p.PartnerAccessEnabled}
		for i := range p.AlertGroups {
			out.Preferences.AlertGroups = append(out.Preferences.AlertGroups, alertGroupMessage(&p.AlertGroups[i], ""))
		}
	}
	return out
}

func alertGroupMessage(g *tenancy.AlertGroup, writtenAt string) *pb.AlertGroup {
	return &pb.AlertGroup{CustomerId: g.CustomerID, AlertGroupId: g.AlertGroupID, Contacts: g.Contacts, WrittenAt: writtenAt}
}

func (s *tenancyServer) CreateUser(ctx context.Context, req *pb.CreateUserRequest) (*pb.User, error) {
	user := tenancy.User{ID: req.GetUserId(), DisplayName: req.GetDisplayName(), ExternalID: req.GetExternalId()}
	var u *tenancy.User
	var err error
	if sc := req.GetSingleCustomer(); sc != nil {
		u, err = s.domain.CreateSingleCustomerUser(ctx, req.GetMspId(), user, sc.GetCustomerId(), sc.GetPermissions())
	} else {
		u, err = s.domain.CreateUser(ctx, req.GetMspId(), user)
	}
	if err != nil {
		return nil, err
	}
	return userMessage(u), nil
}

func (s *tenancyServer) GetUser(ctx context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	u, err := s.domain.GetUser(ctx, req.GetMspId(), req.GetUserId(), req.GetAtLeastAsFresh(), viewOf(req.GetView()))
	if err != nil {
		return nil, err
	}
	return userMessage(u), nil
}

func (s *tenancyServer) BatchGetUsers(ctx context.Context, req *pb.BatchGetUsersRequest) (*pb.BatchGetUsersResponse, error) {
	users, err := s.domain.BatchGetUsers(ctx, req.GetMspId(), req.GetUserIds(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.BatchGetUsersResponse{Users: messages(users, userMessage)}, nil
}

func (s *tenancyServer) ListUsers(ctx context.Context, req *pb.ListUsersRequest) (*pb.ListUsersResponse, error) {
	users, next, err := s.domain.ListUsers(ctx, req.GetMspId(), page(req), viewOf(req.GetView()), req.GetSearch())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListUsersResponse{NextPageToken: next}
	for i := range users {
		resp.Users = append(resp.Users, userMessage(&users[i]))
	}
	return resp, nil
}

func (s *tenancyServer) UpdateUser(ctx context.Context, req *pb.UpdateUserRequest) (*pb.User, error) {
	fields, err := updatedFields(req.GetUpdateMask(), req.GetUser(), "display_name", "external_id")
	if err != nil {
		return nil, err
	}
	u, err := s.domain.UpdateUser(ctx, req.GetMspId(), req.GetUser().GetUserId(), userUpdate(fields, req.GetUser()))
	if err != nil {
		return nil, err
	}
	return userMessage(u), nil
}

func (s *tenancyServer) DeleteUser(ctx context.Context, req *pb.DeleteUserRequest) (*pb.SaveReport, error) {
	rep, err := s.domain.DeleteUser(ctx, req.GetMspId(), req.GetUserId())
	if err == nil {
		s.credentials.Forget(req.GetMspId(), req.GetUserId())
	}
	return saveReport(rep, err)
}

func (s *tenancyServer) CreateCustomer(ctx context.Context, req *pb.CreateCustomerRequest) (*pb.Customer, error) {
	c, err := s.domain.CreateCustomer(ctx, req.GetMspId(), tenancy.Customer{ID: req.GetCustomerId(), DisplayName: req.GetDisplayName()})
	if err != nil {
		return nil, err
	}
	return customerMessage(c), nil
}

func (s *tenancyServer) GetCustomer(ctx context.Context, req *pb.GetCustomerRequest) (*pb.Customer, error) {
	c, err := s.domain.GetCustomer(ctx, req.GetMspId(), req.GetCustomerId(), req.GetAtLeastAsFresh(), viewOf(req.GetView()))
	if err != nil {
		return nil, err
	}
	return customerMessage(c), nil
}

func (s *tenancyServer) BatchGetCustomers(ctx context.Context, req *pb.BatchGetCustomersRequest) (*pb.BatchGetCustomersResponse, error) {
	customers, err := s.domain.BatchGetCustomers(ctx, req.GetMspId(), req.GetCustomerIds(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.BatchGetCustomersResponse{Customers: messages(customers, customerMessage)}, nil
}

func (s *tenancyServer) ListCustomers(ctx context.Context, req *pb.ListCustomersRequest) (*pb.ListCustomersResponse, error) {
	customers, next, err := s.domain.ListCustomers(ctx, req.GetMspId(), page(req), viewOf(req.GetView()), req.GetSearch())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListCustomersResponse{NextPageToken: next}
	for i := range customers {
		resp.Customers = append(resp.Customers, customerMessage(&customers[i]))
	}
	return resp, nil
}

func (s *tenancyServer) UpdateCustomer(ctx context.Context, req *pb.UpdateCustomerRequest) (*pb.Customer, error) {
	if _, err := updatedFields(req.GetUpdateMask(), req.GetCustomer(), "display_name"); err != nil {
		return nil, err
	}
	c, err := s.domain.RenameCustomer(ctx, req.GetMspId(), req.GetCustomer().GetCustomerId(), req.GetCustomer().GetDisplayName())
	if err != nil {
		return nil, err
	}
	return customerMessage(c), nil
}

func (s *tenancyServer) ListCustomerCustomerGroups(ctx context.Context, req *pb.ListCustomerCustomerGroupsRequest) (*pb.ListCustomerCustomerGroupsResponse, error) {
	l, err := s.domain.ListCustomerCustomerGroups(ctx, req.GetMspId(), req.GetCustomerId(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.ListCustomerCustomerGroupsResponse{CustomerGroups: messages(l.Items, customerGroupMessage), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}

func (s *tenancyServer) ListAlertGroups(ctx context.Context, req *pb.ListAlertGroupsRequest) (*pb.ListAlertGroupsResponse, error) {
	l, err := s.domain.ListAlertGroups(ctx, req.GetMspId(), req.GetCustomerId(), page(req), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.ListAlertGroupsResponse{AlertGroups: messages(l.Items, func(g *tenancy.AlertGroup) *pb.AlertGroup { return alertGroupMessage(g, "") }), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}

func (s *tenancyServer) GetAlertGroup(ctx context.Context, req *pb.GetAlertGroupRequest) (*pb.AlertGroup, error) {
	g, err := s.domain.GetAlertGroup(ctx, req.GetMspId(), req.GetCustomerId(), req.GetAlertGroupId(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return alertGroupMessage(g, ""), nil
}

func (s *tenancyServer) DeleteCustomer(ctx context.Context, req *pb.DeleteCustomerRequest) (*pb.SaveReport, error) {
	return saveReport(s.domain.DeleteCustomer(ctx, req.GetMspId(), req.GetCustomerId()))
}

func (s *tenancyServer) CreateCustomerGroup(ctx context.Context, req *pb.CreateCustomerGroupRequest) (*pb.CustomerGroup, error) {
	g, err := s.domain.CreateCustomerGroup(ctx, req.GetMspId(), tenancy.CustomerGroup{ID: req.GetCustomerGroupId(), DisplayName: req.GetDisplayName()})
	if err != nil {
		return nil, err
	}
	return customerGroupMessage(g), nil
}

func (s *tenancyServer) GetCustomerGroup(ctx context.Context, req *pb.GetCustomerGroupRequest) (*pb.CustomerGroup, error) {
	g, err := s.domain.GetCustomerGroup(ctx, req.GetMspId(), req.GetCustomerGroupId(), req.GetAtLeastAsFresh(), viewOf(req.GetView()))
	if err != nil {
		return nil, err
	}
	return customerGroupMessage(g), nil
}

func (s *tenancyServer) BatchGetCustomerGroups(ctx context.Context, req *pb.BatchGetCustomerGroupsRequest) (*pb.BatchGetCustomerGroupsResponse, error) {
	groups, err := s.domain.BatchGetCustomerGroups(ctx, req.GetMspId(), req.GetCustomerGroupIds(), req.GetAtLeastAsFresh())
	if err != nil {
		return nil, err
	}
	return &pb.BatchGetCustomerGroupsResponse{CustomerGroups: messages(groups, customerGroupMessage)}, nil
}

func (s *tenancyServer) ListCustomerGroups(ctx context.Context, req *pb.ListCustomerGroupsRequest) (*pb.ListCustomerGroupsResponse, error) {
	groups, next, err := s.domain.ListCustomerGroups(ctx, req.GetMspId(), page(req), viewOf(req.GetView()), req.GetSearch())
	if err != nil {
		return nil, err
	}
	resp := &pb.ListCustomerGroupsResponse{NextPageToken: next}
	for i := range groups {
		resp.CustomerGroups = append(resp.CustomerGroups, customerGroupMessage(&groups[i]))
	}
	return resp, nil
}

func (s *tenancyServer) UpdateCustomerGroup(ctx context.Context, req *pb.UpdateCustomerGroupRequest) (*pb.CustomerGroup, error) {
	if _, err := updatedFields(req.GetUpdateMask(), req.GetCustomerGroup(), "display_name"); err != nil {
		return nil, err
	}
	g, err := s.domain.RenameCustomerGroup(ctx, req.GetMspId(), req.GetCustomerGroup().GetCustomerGroupId(), req.GetCustomerGroup().GetDisplayName())
	if err != nil {
		return nil, err
	}
	return customerGroupMessage(g), nil
}

func (s *tenancyServer) ListCustomerGroupCustomers(ctx context.Context, req *pb.ListCustomerGroupCustomersRequest) (*pb.ListCustomerGroupCustomersResponse, error) {
	l, err := s.domain.ListCustomerGroupCustomers(ctx, req.GetMspId(), req.GetCustomerGroupId(), page(req), req.GetAtLeastAsFresh(), viewOf(req.GetView()))
	if err != nil {
		return nil, err
	}
	return &pb.ListCustomerGroupCustomersResponse{Customers: messages(l.Items, customerMessage), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}, nil
}

func (s *tenancyServer) DeleteCustomerGroup(ctx context.Context, req *pb.DeleteCustomerGroupRequest) (*pb.SaveReport, error) {
	return saveReport(s.domain.DeleteCustomerGroup(ctx, req.GetMspId(), req.GetCustomerGroupId()))
}

func (s *tenancyServer) SetAccountContact(ctx context.Context, req *pb.SetAccountContactRequest) (*pb.AccountContact, error) {
	written, err := s.domain.SetAccountContact(ctx, req.GetMspId(), req.GetCustomerId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &pb.AccountContact{CustomerId: req.GetCustomerId(), UserId: req.GetUserId(), WrittenAt: written}, nil
}

func (s *tenancyServer) SetAlertGroup(ctx context.Context, req *pb.SetAlertGroupRequest) (*pb.AlertGroup, error) {
	written, err := s.domain.SetAlertGroupContacts(ctx, req.GetMspId(), req.GetCustomerId(), req.GetAlertGroupId(), req.GetContacts())
	if err != nil {
		return nil, err
	}
	return alertGroupMessage(&tenancy.AlertGroup{CustomerID: req.GetCustomerId(), AlertGroupID: req.GetAlertGroupId(), Contacts: req.GetContacts()}, written), nil
}

func (s *tenancyServer) EditCustomerPreferences(ctx context.Context, req *pb.EditCustomerPreferencesRequest) (*pb.SaveReport, error) {
	return saveReport(s.domain.EditCustomerPreferences(ctx, req.GetMspId(), req.GetCustomerId(), req.GetCustomerGroups(), req.GetUsers(),
		tenancy.SaveOptions{ValidateOnly: req.GetValidateOnly(), AllowEmpty: req.GetAllowEmpty()}))
}

func (s *tenancyServer) EditCustomerGroup(ctx context.Context, req *pb.EditCustomerGroupRequest) (*pb.SaveReport, error) {
	return saveReport(s.domain.EditCustomerGroup(ctx, req.GetMspId(), req.GetCustomerGroupId(), req.GetCustomers(),
		tenancy.SaveOptions{ValidateOnly: req.GetValidateOnly(), AllowEmpty: req.GetAllowEmpty()}))
}

func (s *tenancyServer) EditUser(ctx context.Context, req *pb.EditUserRequest) (*pb.SaveReport, error) {
	return saveReport(s.domain.EditUser(ctx, req.GetMspId(), req.GetUserId(), req.GetCustomerGroups(),
		tenancy.SaveOptions{ValidateOnly: req.GetValidateOnly(), AllowEmpty: req.GetAllowEmpty()}))
}

func pairs(ps []tenancy.Pair) []*pb.Pair {
	out := make([]*pb.Pair, len(ps))
	for i, p := range ps {
		out[i] = &pb.Pair{UserId: p.UserID, CustomerId: p.CustomerID}
	}
	return out
}

func saveReport(rep *tenancy.Report, err error) (*pb.SaveReport, error) {
	if err != nil {
		return nil, err
	}
	out := &pb.SaveReport{WrittenAt: rep.WrittenAt, Associated: pairs(rep.Associated), Dissociated: pairs(rep.Dissociated)}
	for _, r := range rep.Retained {
		out.Retained = append(out.Retained, &pb.RetainedPair{UserId: r.UserID, CustomerId: r.CustomerID, Via: r.Via})
	}
	for _, r := range rep.AlertContactsRemoved {
		out.AlertContactsRemoved = append(out.AlertContactsRemoved, &pb.AlertContactRemoval{UserId: r.UserID, CustomerId: r.CustomerID, AlertGroupId: r.AlertGroupID})
	}
	return out, nil
}

// userUpdate is the domain's update of the fields a user's update names.
func userUpdate(fields map[string]bool, u interface {
	GetDisplayName() string
	GetExternalId() string
}) tenancy.UserUpdate {
	var up tenancy.UserUpdate
	if fields["display_name"] {
		name := u.GetDisplayName()
		up.DisplayName = &name
	}
	if fields["external_id"] {
		id := u.GetExternalId()
		up.ExternalID = &id
	}
	return up
}
