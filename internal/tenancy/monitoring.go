package tenancy

import (
	"context"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// MaintenanceWindow is a customer's scheduled maintenance, with its creator.
type MaintenanceWindow struct {
	CustomerID      string
	ID              string
	DisplayName     string
	CreatorUserID   string
	ModifiedByOther bool
	// Editors and Deleters may edit it, and delete it, now.
	Editors, Deleters []string
}

// OutageComment is a comment on a customer's outage, with who posted it.
type OutageComment struct {
	CustomerID    string
	ID            string
	Text          string
	CreatorUserID string
	// Editors may edit it now.
	Editors []string
}

const attrText = "text"

// requireActor refuses a call that must be made by a user (who becomes the
// creator of what it makes).
func requireActor(ctx context.Context, what string) (Actor, error) {
	a := actorFrom(ctx)
	if a.UserID == "" {
		return a, fault.New(fault.Invalid, "%s records its creator: call with a user token, or a service token with X-On-Behalf-Of", what)
	}
	return a, nil
}

// createOwned creates an object of a customer that records its creator, the
// actor, who needs permission create on the customer.
func (s *Service) createOwned(ctx context.Context, msp, customer string, obj graph.Object, field, create string, attrs map[string]string) (*Report, error) {
	a, err := requireActor(ctx, obj.Type)
	if err != nil {
		return nil, err
	}
	c := customerObject(msp, customer)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, create, c); err != nil {
			return nil, err
		}
		existing, err := sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 {
			return nil, fault.New(fault.AlreadyExists, "%s: %q already exists", field, localID(msp, obj.ID))
		}
		return creates(
			graph.Rel(obj, relCustomer, c),
			graph.Rel(obj, relCreator, userObject(msp, a.UserID)),
			graph.Rel(obj, relAttributes, mspObject(msp)).WithAttributes(attrs),
		), nil
	})
	return rep, err
}

// readBack reads, at the revision a save wrote, what the save made or
// changed; a read-back that fails says that the save landed.
// trusted is ctx read as a trusted service: whoever made or changed one of a
// customer's objects sees it as it now is, whatever his rights to read it.
func trusted(ctx context.Context) context.Context { return WithActor(ctx, Actor{}) }

func readBack[T any](ctx context.Context, rep *Report, err error, get func(ctx context.Context, atLeastAsFresh string) (*T, error)) (*T, error) {
	if err != nil {
		return nil, err
	}
	v, err := get(ctx, rep.WrittenAt)
	if err != nil {
		return nil, landedError(graph.Revision(rep.WrittenAt), "what it wrote could not be read back", err)
	}
	return v, nil
}

// readOwned reads an object of a customer that records its creator;
// NotFound names the customer, or field.
func (sn *snapshot) readOwned(ctx context.Context, customer string, obj graph.Object, field string) (creator string, rels []graph.Relationship, err error) {
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
		return "", nil, err
	}
	rels, err = sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID})
	if err != nil {
		return "", nil, err
	}
	for _, r := range rels {
		if r.Relation == relCreator {
			creator = localID(sn.msp, r.Subject.ID)
		}
	}
	if len(rels) == 0 {
		return "", nil, fault.New(fault.NotFound, "%s: %q not found", field, obj.ID[strings.LastIndex(obj.ID, "/")+1:])
	}
	return creator, rels, nil
}

// authorizeOn refuses an actor without permission on obj (an object
// permission of the schema, such as maintenance_window#edit).
func (sn *snapshot) authorizeOn(ctx context.Context, obj graph.Object, permission string) error {
	return sn.requirePermission(ctx, obj, permission, func(user string) error {
		return fault.New(fault.PermissionDenied, "user %q may not %s %s", user, permission, obj)
	})
}

// CreateMaintenanceWindow schedules a window; the actor is its creator.
func (s *Service) CreateMaintenanceWindow(ctx context.Context, msp, customer, id, displayName string) (*MaintenanceWindow, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("maintenanceWindowId", id), checkDisplayName("displayName", displayName)); err != nil {
		return nil, err
	}
	rep, err := s.createOwned(ctx, msp, customer, customerObjectOf(typeWindow, msp, customer, id), "maintenanceWindowId", "maintenance_windows.create",
		map[string]string{attrDisplayName: displayName})
	return readBack(trusted(ctx), rep, err, func(ctx context.Context, rev string) (*MaintenanceWindow, error) {
		return s.GetMaintenanceWindow(ctx, msp, customer, id, rev)
	})
}

// UpdateMaintenanceWindow modifies a window. When someone other than its
// creator modifies it, an Operator creator's right to it ends (seed 001).
func (s *Service) UpdateMaintenanceWindow(ctx context.Context, msp, customer, id, displayName string) (*MaintenanceWindow, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("maintenanceWindowId", id), checkDisplayName("displayName", displayName)); err != nil {
		return nil, err
	}
	obj := customerObjectOf(typeWindow, msp, customer, id)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		creator, _, err := sn.readOwned(ctx, customer, obj, "maintenanceWindowId")
		if err != nil {
			return nil, err
		}
		if err := sn.authorizeOn(ctx, obj, "edit"); err != nil {
			return nil, err
		}
		updates := []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(obj, relAttributes, mspObject(msp)).WithAttributes(map[string]string{attrDisplayName: displayName})}}
		if actorFrom(ctx).UserID != creator {
			updates = append(updates, graph.Update{Op: graph.Touch, Relationship: graph.Rel(obj, relModifiedByOther, graph.Object{Type: typeUser, ID: "*"})})
		}
		return updates, nil
	})
	return readBack(trusted(ctx), rep, err, func(ctx context.Context, rev string) (*MaintenanceWindow, error) {
		return s.GetMaintenanceWindow(ctx, msp, customer, id, rev)
	})
}

// DeleteMaintenanceWindow deletes a window.
func (s *Service) DeleteMaintenanceWindow(ctx context.Context, msp, customer, id string) error {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("maintenanceWindowId", id)); err != nil {
		return err
	}
	obj := customerObjectOf(typeWindow, msp, customer, id)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		_, rels, err := sn.readOwned(ctx, customer, obj, "maintenanceWindowId")
		if err != nil {
			return nil, err
		}
		if err := sn.authorizeOn(ctx, obj, "delete"); err != nil {
			return nil, err
		}
		return deletes(rels), nil
	})
	return err
}

// CreateOutageComment posts a comment; the actor is its creator.
func (s *Service) CreateOutageComment(ctx context.Context, msp, customer, id, text string) (*OutageComment, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("outageCommentId", id), checkDisplayName("text", text)); err != nil {
		return nil, err
	}
	rep, err := s.createOwned(ctx, msp, customer, customerObjectOf(typeOutageComment, msp, customer, id), "outageCommentId", "outage_comments.create",
		map[string]string{attrText: text})
	return readBack(trusted(ctx), rep, err, func(ctx context.Context, rev string) (*OutageComment, error) {
		return s.GetOutageComment(ctx, msp, customer, id, rev)
	})
}

// UpdateOutageComment updates a comment.
func (s *Service) UpdateOutageComment(ctx context.Context, msp, customer, id, text string) (*OutageComment, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("outageCommentId", id), checkDisplayName("text", text)); err != nil {
		return nil, err
	}
	obj := customerObjectOf(typeOutageComment, msp, customer, id)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if _, _, err := sn.readOwned(ctx, customer, obj, "outageCommentId"); err != nil {
			return nil, err
		}
		if err := sn.authorizeOn(ctx, obj, "edit"); err != nil {
			return nil, err
		}
		return []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(obj, relAttributes, mspObject(msp)).WithAttributes(map[string]string{attrText: text})}}, nil
	})
	return readBack(trusted(ctx), rep, err, func(ctx context.Context, rev string) (*OutageComment, error) {
		return s.GetOutageComment(ctx, msp, customer, id, rev)
	})
}

// SetMonitorGroup creates or replaces a monitor group and the spokespersons
// granted it, each an end-customer user of the customer.
func (s *Service) SetMonitorGroup(ctx context.Context, msp, customer, id string, spokespersons []string) (*MonitorGroup, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("monitorGroupId", id), checkSelection("spokespersons", spokespersons)); err != nil {
		return nil, err
	}
	obj, c := customerObjectOf(typeMonitorGroup, msp, customer, id), customerObject(msp, customer)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}, existing{"spokespersons", typeEndCustomerUser, spokespersons}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, c); err != nil {
			return nil, err
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		updates := selectionUpdates(current, relCustomer, []string{customer}, func(string) graph.Relationship { return graph.Rel(obj, relCustomer, c) })
		return append(updates, selectionUpdates(current, relSpokesperson, spokespersons, func(u string) graph.Relationship {
			return graph.Rel(obj, relSpokesperson, userObject(msp, u))
		})...), nil
	})
	return readBack(trusted(ctx), rep, err, func(ctx context.Context, rev string) (*MonitorGroup, error) {
		return s.GetMonitorGroup(ctx, msp, customer, id, rev)
	})
}

// SetMonitor creates or replaces a monitor of a customer in one of its monitor groups.
func (s *Service) SetMonitor(ctx context.Context, msp, customer, id, group string) (*Monitor, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("monitorId", id), checkID("monitorGroupId", group)); err != nil {
		return nil, err
	}
	obj, c, g := customerObjectOf(typeMonitor, msp, customer, id), customerObject(msp, customer), customerObjectOf(typeMonitorGroup, msp, customer, group)
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{customer}}); err != nil {
			return nil, err
		}
		if err := sn.authorize(ctx, permCustomersEdit, c); err != nil {
			return nil, err
		}
		groups, err := sn.read(ctx, graph.Filter{ResourceType: g.Type, ResourceID: g.ID, Relation: relCustomer})
		if err != nil {
			return nil, err
		}
		if len(groups) == 0 {
			return nil, fault.New(fault.NotFound, "monitorGroupId: monitor group %q not found", group)
		}
		current, err := sn.read(ctx, graph.Filter{ResourceType: obj.Type, ResourceID: obj.ID})
		if err != nil {
			return nil, err
		}
		updates := selectionUpdates(current, relCustomer, []string{customer}, func(string) graph.Relationship { return graph.Rel(obj, relCustomer, c) })
		return append(updates, selectionUpdates(current, relMonitorGroup, []string{group}, func(string) graph.Relationship {
			return graph.Rel(obj, relMonitorGroup, g)
		})...), nil
	})
	return readBack(trusted(ctx), rep, err, func(ctx context.Context, rev string) (*Monitor, error) {
		return s.GetMonitor(ctx, msp, customer, id, rev)
	})
}
