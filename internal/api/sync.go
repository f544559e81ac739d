package api

import (
	"context"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type syncServer struct {
	pb.UnimplementedSyncServiceServer
	domain *tenancy.Service
}

func (s *syncServer) RunSync(ctx context.Context, req *pb.RunSyncRequest) (*pb.SyncResult, error) {
	res, err := s.domain.RunSync(ctx, req.GetMspId(), req.GetSystem(), syncSnapshot(req.GetSnapshot()),
		tenancy.SyncOptions{ValidateOnly: req.GetValidateOnly(), AllowMassRemoval: req.GetAllowMassRemoval()})
	if err != nil {
		return nil, err
	}
	report, _ := saveReport(&res.Report, nil)
	out := &pb.SyncResult{
		System: res.System, Users: objectChanges(res.Users), CustomerGroups: objectChanges(res.CustomerGroups),
		AssignmentsAdded: assignments(res.AssignmentsAdded), AssignmentsRemoved: assignments(res.AssignmentsRemoved),
		RoleAssignmentsAdded: roleAssignments(res.RoleAssignmentsAdded), RoleAssignmentsRemoved: roleAssignments(res.RoleAssignmentsRemoved),
		ClientLogins: objectChanges(res.ClientLogins), Customers: objectChanges(res.Customers),
		Report: report, Writes: int32(res.Writes),
	}
	out.Overwrites, out.DeletedHere, out.Detached = driftedObjects(res.Overwrites), objectRefs(res.DeletedHere), objectRefs(res.Detached)
	for _, k := range res.Skipped {
		out.Skipped = append(out.Skipped, &pb.SyncSkip{CustomerGroupId: k.CustomerGroupID, CustomerId: k.CustomerID, Reason: string(k.Reason)})
	}
	return out, nil
}

func (s *syncServer) GetDrift(ctx context.Context, req *pb.GetDriftRequest) (*pb.Drift, error) {
	d, err := s.domain.Drift(ctx, req.GetMspId(), req.GetSystem())
	if err != nil {
		return nil, err
	}
	return &pb.Drift{System: d.System, LastSyncedAt: d.LastSyncedAt, Objects: driftedObjects(d.Objects)}, nil
}

func driftedObjects(objects []tenancy.DriftedObject) []*pb.DriftedObject {
	var out []*pb.DriftedObject
	for _, o := range objects {
		d := &pb.DriftedObject{Kind: string(o.Kind), Id: o.ID, Deleted: o.Deleted, MembersAdded: o.MembersAdded, MembersRemoved: o.MembersRemoved,
			CustomersAdded: o.CustomersAdded, CustomersRemoved: o.CustomersRemoved}
		if o.Renamed != nil {
			d.Renamed = &pb.Renamed{Before: o.Renamed.Before, After: o.Renamed.After}
		}
		out = append(out, d)
	}
	return out
}

func (s *syncServer) RestoreDeletedHere(ctx context.Context, req *pb.RestoreDeletedHereRequest) (*pb.ObjectRef, error) {
	ref := tenancy.ObjectRef{Kind: tenancy.ObjectKind(req.GetKind()), ID: req.GetId()}
	if err := s.domain.RestoreDeletedHere(ctx, req.GetMspId(), req.GetSystem(), ref); err != nil {
		return nil, err
	}
	return &pb.ObjectRef{Kind: req.GetKind(), Id: req.GetId()}, nil
}

func objectRefs(refs []tenancy.ObjectRef) []*pb.ObjectRef {
	var out []*pb.ObjectRef
	for _, o := range refs {
		out = append(out, &pb.ObjectRef{Kind: string(o.Kind), Id: o.ID})
	}
	return out
}

// Detach detaches the one object its route names (customerGroups/{g},
// users/{u} or securityGroups/{s}); a body naming another is refused.
func (s *syncServer) Detach(ctx context.Context, req *pb.DetachRequest) (*pb.Detachment, error) {
	var named []tenancy.ObjectRef
	for kind, id := range map[tenancy.ObjectKind]string{tenancy.KindCustomerGroup: req.GetCustomerGroupId(), tenancy.KindUser: req.GetUserId(), tenancy.KindSecurityGroup: req.GetSecurityGroupId()} {
		if id != "" {
			named = append(named, tenancy.ObjectRef{Kind: kind, ID: id})
		}
	}
	if len(named) != 1 {
		return nil, fault.New(fault.Invalid, "a detach names one object: a customer group, a user or a security group (the body names no other)")
	}
	d, err := s.domain.Detach(ctx, req.GetMspId(), named[0])
	if err != nil {
		return nil, err
	}
	return &pb.Detachment{Kind: string(d.Kind), Id: d.ID, System: d.System, Memberships: objectRefs(d.Memberships)}, nil
}

// syncSnapshot is the domain's snapshot of a request's (absent: empty, which
// names no MSP and is refused).
func syncSnapshot(in *pb.SyncSnapshot) tenancy.SyncSnapshot {
	out := tenancy.SyncSnapshot{MSPID: in.GetMspId()}
	for _, u := range in.GetUsers() {
		out.Users = append(out.Users, tenancy.SyncUser{ID: u.GetUserId(), DisplayName: u.GetDisplayName(), ExternalID: u.GetExternalId(), Roles: u.GetRoles()})
	}
	for _, g := range in.GetCustomerGroups() {
		out.CustomerGroups = append(out.CustomerGroups, tenancy.SyncCustomerGroup{ID: g.GetCustomerGroupId(), DisplayName: g.GetDisplayName(), Customers: g.GetCustomers()})
	}
	for _, a := range in.GetAssignments() {
		out.Assignments = append(out.Assignments, tenancy.Assignment{UserID: a.GetUserId(), CustomerGroupID: a.GetCustomerGroupId()})
	}
	for _, l := range in.GetClientLogins() {
		out.ClientLogins = append(out.ClientLogins, tenancy.SyncClientLogin{ID: l.GetUserId(), DisplayName: l.GetDisplayName(), CustomerID: l.GetCustomerId(), ExternalID: l.GetExternalId()})
	}
	for _, c := range in.GetCustomers() {
		out.Customers = append(out.Customers, tenancy.SyncCustomer{ID: c.GetCustomerId(), DisplayName: c.GetDisplayName()})
	}
	return out
}

func objectChanges(c tenancy.ObjectChanges) *pb.ObjectChanges {
	return &pb.ObjectChanges{Created: c.Created, Updated: c.Updated, Removed: c.Removed}
}

func assignments(as []tenancy.Assignment) []*pb.Assignment {
	out := make([]*pb.Assignment, len(as))
	for i, a := range as {
		out[i] = &pb.Assignment{UserId: a.UserID, CustomerGroupId: a.CustomerGroupID}
	}
	return out
}

func roleAssignments(as []tenancy.RoleAssignment) []*pb.RoleAssignment {
	out := make([]*pb.RoleAssignment, len(as))
	for i, a := range as {
		out[i] = &pb.RoleAssignment{UserId: a.UserID, RoleId: a.RoleID}
	}
	return out
}
