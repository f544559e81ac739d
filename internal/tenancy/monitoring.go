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
}

// OutageComment is a comment on a customer's outage, with who posted it.
type OutageComment struct {
	CustomerID    string
	ID            string
	Text          string
	CreatorUserID string
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
func (s *Service) createOwned(ctx context.Context, msp, customer string, obj graph.Object, field, create string, attrs map[string]string) (string, error) {
	a, err := requireActor(ctx, obj.Type)
	if err != nil {
		return "", err
	}
	c := customerObject(msp, customer)
	_, err = s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
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
	return a.UserID, err
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
	creator, err := s.createOwned(ctx, msp, customer, customerObjectOf(typeWindow, msp, customer, id), "maintenanceWindowId", "maintenance_windows.create",
		map[string]string{attrDisplayName: displayName})
	if err != nil {
		return nil, err
	}
	return &MaintenanceWindow{CustomerID: customer, ID: id, DisplayName: displayName, CreatorUserID: creator}, nil
}

// UpdateMaintenanceWindow modifies a window. When someone other than its
// creator modifies it, an Operator creator's right to it ends (seed 001).
func (s *Service) UpdateMaintenanceWindow(ctx context.Context, msp, customer, id, displayName string) (*MaintenanceWindow, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("maintenanceWindowId", id), checkDisplayName("displayName", displayName)); err != nil {
		return nil, err
	}
	obj := customerObjectOf(typeWindow, msp, customer, id)
	w := &MaintenanceWindow{CustomerID: customer, ID: id, DisplayName: displayName}
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		creator, rels, err := sn.readOwned(ctx, customer, obj, "maintenanceWindowId")
		if err != nil {
			return nil, err
		}
		if err := sn.authorizeOn(ctx, obj, "edit"); err != nil {
			return nil, err
		}
		w.CreatorUserID = creator
		updates := []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(obj, relAttributes, mspObject(msp)).WithAttributes(map[string]string{attrDisplayName: displayName})}}
		for _, r := range rels {
			w.ModifiedByOther = w.ModifiedByOther || r.Relation == relModifiedByOther
		}
		if actorFrom(ctx).UserID != creator {
			w.ModifiedByOther = true
			updates = append(updates, graph.Update{Op: graph.Touch, Relationship: graph.Rel(obj, relModifiedByOther, graph.Object{Type: typeUser, ID: "*"})})
		}
		return updates, nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
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
	creator, err := s.createOwned(ctx, msp, customer, customerObjectOf(typeOutageComment, msp, customer, id), "outageCommentId", "outage_comments.create",
		map[string]string{attrText: text})
	if err != nil {
		return nil, err
	}
	return &OutageComment{CustomerID: customer, ID: id, Text: text, CreatorUserID: creator}, nil
}

// UpdateOutageComment updates a comment.
func (s *Service) UpdateOutageComment(ctx context.Context, msp, customer, id, text string) (*OutageComment, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("outageCommentId", id), checkDisplayName("text", text)); err != nil {
		return nil, err
	}
	obj := customerObjectOf(typeOutageComment, msp, customer, id)
	out := &OutageComment{CustomerID: customer, ID: id, Text: text}
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		creator, _, err := sn.readOwned(ctx, customer, obj, "outageCommentId")
		if err != nil {
			return nil, err
		}
		if err := sn.authorizeOn(ctx, obj, "edit"); err != nil {
			return nil, err
		}
		out.CreatorUserID = creator
		return []graph.Update{{Op: graph.Touch, Relationship: graph.Rel(obj, relAttributes, mspObject(msp)).WithAttributes(map[string]string{attrText: text})}}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetMonitorGroup creates or replaces a monitor group and the spokespersons
// granted it, each an end-customer user of the customer.
func (s *Service) SetMonitorGroup(ctx context.Context, msp, customer, id string, spokespersons []string) error {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("monitorGroupId", id), checkSelection("spokespersons", spokespersons)); err != nil {
		return err
	}
	obj, c := customerObjectOf(typeMonitorGroup, msp, customer, id), customerObject(msp, customer)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
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
	return err
}

// SetMonitor creates or replaces a monitor of a customer in one of its monitor groups.
func (s *Service) SetMonitor(ctx context.Context, msp, customer, id, group string) error {
	if err := firstError(checkID("mspId", msp), checkID("customerId", customer), checkID("monitorId", id), checkID("monitorGroupId", group)); err != nil {
		return err
	}
	obj, c, g := customerObjectOf(typeMonitor, msp, customer, id), customerObject(msp, customer), customerObjectOf(typeMonitorGroup, msp, customer, group)
	_, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
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
	return err
}
