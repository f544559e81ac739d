package api

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

type changeServer struct {
	pb.UnimplementedChangeServiceServer
	domain *tenancy.Service
}

// WatchChanges streams the MSP's change feed. Its first message, with no
// relationships, names the revision the feed starts after: it goes out as
// soon as the feed is open (a REST client has its 200 before the first
// change), and a consumer that hangs up before any change resumes from it.
func (s *changeServer) WatchChanges(req *pb.WatchChangesRequest, stream pb.ChangeService_WatchChangesServer) error {
	feed, err := s.domain.WatchChanges(stream.Context(), req.GetMspId(), req.GetSince())
	if err != nil {
		return err
	}
	c := &tenancy.Change{ChangedAt: feed.Since()}
	for {
		if err := stream.Send(changeMessage(c)); err != nil {
			return err
		}
		if c, err = feed.Next(); err != nil {
			return err
		}
	}
}

var operationOf = map[tenancy.ChangeOperation]pb.RelationshipChange_Operation{
	tenancy.ChangeTouch:  pb.RelationshipChange_OPERATION_TOUCH,
	tenancy.ChangeDelete: pb.RelationshipChange_OPERATION_DELETE,
}

func changeMessage(c *tenancy.Change) *pb.Change {
	m := &pb.Change{ChangedAt: c.ChangedAt, Origin: c.Origin, Relationships: []*pb.RelationshipChange{}, Events: []*pb.ChangeEvent{}}
	for _, r := range c.Relationships {
		rc := &pb.RelationshipChange{Operation: operationOf[r.Operation], Resource: r.Resource, Relation: r.Relation, Subject: r.Subject, DisplayName: r.DisplayName}
		if !r.ExpiresAt.IsZero() {
			rc.ExpiresAt = timestamppb.New(r.ExpiresAt)
		}
		m.Relationships = append(m.Relationships, rc)
	}
	for _, e := range c.Events {
		m.Events = append(m.Events, eventMessage(e))
	}
	return m
}

func eventMessage(e tenancy.ChangeEvent) *pb.ChangeEvent {
	switch e.Kind {
	case tenancy.UserCreated:
		return &pb.ChangeEvent{Event: &pb.ChangeEvent_UserCreated{UserCreated: &pb.UserCreated{UserId: e.UserID, DisplayName: e.DisplayName}}}
	case tenancy.UserRenamed:
		return &pb.ChangeEvent{Event: &pb.ChangeEvent_UserRenamed{UserRenamed: &pb.UserRenamed{UserId: e.UserID, DisplayName: e.DisplayName}}}
	case tenancy.UserRolesChanged:
		roles := make([]*pb.UserRole, len(e.Roles))
		for i, r := range e.Roles {
			roles[i] = &pb.UserRole{SecurityGroupId: r.SecurityGroupID, RoleId: r.RoleID}
		}
		return &pb.ChangeEvent{Event: &pb.ChangeEvent_UserRolesChanged{UserRolesChanged: &pb.UserRolesChanged{UserId: e.UserID, Roles: roles}}}
	default: // tenancy.UserDeleted
		return &pb.ChangeEvent{Event: &pb.ChangeEvent_UserDeleted{UserDeleted: &pb.UserDeleted{UserId: e.UserID}}}
	}
}
