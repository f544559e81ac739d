package tenancy

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// MonitorGroup is a customer's group of monitors and the spokespersons
// granted it (seed 001).
type MonitorGroup struct {
	CustomerID    string
	ID            string
	Spokespersons []string
	// Editors may edit it now.
	Editors []string
}

// Monitor is one of a customer's monitors, in one monitor group.
type Monitor struct {
	CustomerID     string
	ID             string
	MonitorGroupID string
	// Editors may edit it now.
	Editors []string
}

// customerKind is a kind of object that belongs to one customer (typ:
// <msp>/<customer>/<id>, with a customer relationship), as its reads answer it.
type customerKind struct {
	typ, field, name string
	// rights are the permissions (of the object itself) whose holders a read
	// names; without any, those of customers.edit on the customer, which
	// edits the object.
	rights []string
	// view, when set, is the permission of the object an actor needs to see
	// it; without it, seeing the customer is enough.
	view string
}

var (
	kindWindow        = customerKind{typ: typeWindow, field: "maintenanceWindowId", name: "maintenance window", rights: []string{"edit", "delete"}}
	kindOutageComment = customerKind{typ: typeOutageComment, field: "outageCommentId", name: "outage comment", rights: []string{"edit"}}
	kindMonitorGroup  = customerKind{typ: typeMonitorGroup, field: "monitorGroupId", name: "monitor group"}
	kindMonitor       = customerKind{typ: typeMonitor, field: "monitorId", name: "monitor", view: "view"}
)

// customerThing is one object of a customerKind as read: its id, its
// relationships, and the users who hold each of the kind's rights
// ("edit" for customers.edit on the customer).
type customerThing struct {
	ID      string
	Rels    []graph.Relationship
	Holders map[string][]string
}

// related are the ids (local to msp, the object's own part for objects of
// the customer) of the subjects of rels that relation names, sorted.
func (t customerThing) related(msp, relation string) []string {
	out := []string{}
	for _, r := range t.Rels {
		if r.Relation == relation {
			id := localID(msp, r.Subject.ID)
			out = append(out, id[strings.LastIndex(id, "/")+1:])
		}
	}
	sort.Strings(out)
	return out
}

// relatedOne is the one subject of rels that relation names, or "".
func (t customerThing) relatedOne(msp, relation string) string {
	if ids := t.related(msp, relation); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

func (t customerThing) attribute(key string) string {
	for _, r := range t.Rels {
		if r.Relation == relAttributes {
			return r.Attribute(key)
		}
	}
	return ""
}

// customerThings reads the objects of kind of one customer that the actor
// may see, by id, at the snapshot, with the holders of the kind's rights.
func (sn *snapshot) customerThings(ctx context.Context, kind customerKind, customer string, ids []string) ([]customerThing, error) {
	things := make([]customerThing, len(ids))
	err := readEach(ctx, sn, sn.rev, indexes(len(ids)), func(i int) graph.Filter {
		return graph.Filter{ResourceType: kind.typ, ResourceID: customerObjectOf(kind.typ, sn.msp, customer, ids[i]).ID}
	}, func(i int, rels []graph.Relationship) {
		things[i] = customerThing{ID: ids[i], Rels: rels, Holders: map[string][]string{}}
	})
	if err != nil {
		return nil, err
	}
	things = slices.DeleteFunc(things, func(t customerThing) bool {
		return !slices.ContainsFunc(t.Rels, func(r graph.Relationship) bool { return r.Relation == relCustomer })
	})
	if kind.view != "" && actorFrom(ctx).UserID != "" {
		checks := make([]graph.Check, len(things))
		for i, t := range things {
			checks[i] = graph.Check{Resource: customerObjectOf(kind.typ, sn.msp, customer, t.ID), Permission: kind.view, Subject: userObject(sn.msp, actorFrom(ctx).UserID)}
		}
		seen, _, err := sn.s.graph.Check(ctx, checks, graph.At(sn.rev))
		if err != nil {
			return nil, err
		}
		i := 0
		things = slices.DeleteFunc(things, func(customerThing) bool { i++; return !seen[i-1] })
	}
	if len(kind.rights) == 0 {
		editors, err := sn.holders(ctx, customerObject(sn.msp, customer), relationOf(permCustomersEdit))
		for i := range things {
			things[i].Holders["edit"] = editors
		}
		return things, err
	}
	type key struct {
		thing int
		right string
	}
	var keys []key
	for i := range things {
		for _, r := range kind.rights {
			keys = append(keys, key{i, r})
		}
	}
	var mu sync.Mutex
	err = each(ctx, sn.s.readParallelism, keys, func(ctx context.Context, k key) error {
		users, err := sn.holders(ctx, customerObjectOf(kind.typ, sn.msp, customer, things[k.thing].ID), k.right)
		mu.Lock()
		defer mu.Unlock()
		things[k.thing].Holders[k.right] = users
		return err
	})
	return things, err
}

// holders are the users (ids local to the MSP) who hold permission on obj at
// the snapshot, sorted.
func (sn *snapshot) holders(ctx context.Context, obj graph.Object, permission string) ([]string, error) {
	ids, _, err := sn.s.graph.LookupSubjects(ctx, obj, permission, typeUser, graph.At(sn.rev))
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, id := range ids {
		if strings.HasPrefix(id, sn.msp+"/") {
			out = append(out, localID(sn.msp, id))
		}
	}
	sort.Strings(out)
	return out, nil
}

// getCustomerThing reads one object of kind, which the actor must see (else
// it is not found), at least as fresh as atLeastAsFresh.
func (s *Service) getCustomerThing(ctx context.Context, kind customerKind, msp, customer, id, atLeastAsFresh string) (*customerThing, error) {
	if err := checkID(kind.field, id); err != nil {
		return nil, err
	}
	_, sn, err := s.getNamed(ctx, msp, "customerId", typeCustomer, customer, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	things, err := sn.customerThings(ctx, kind, customer, []string{id})
	if err != nil {
		return nil, err
	}
	if len(things) == 0 {
		return nil, fault.New(fault.NotFound, "%s: %s %q of customer %q not found", kind.field, kind.name, id, customer)
	}
	return &things[0], nil
}

// listCustomerThings lists the objects of kind of a customer that the actor
// may see, a page at a time, every page at the first page's revision.
func (s *Service) listCustomerThings(ctx context.Context, kind customerKind, msp, customer string, page Page, atLeastAsFresh string) (*Listing[customerThing], error) {
	_, sn, err := s.getNamed(ctx, msp, "customerId", typeCustomer, customer, atLeastAsFresh)
	if err != nil {
		return nil, err
	}
	rels, next, rev, err := s.readPage(ctx, graph.Filter{ResourceType: kind.typ, ResourceIDPrefix: customerObjectPrefix(msp, customer), Relation: relCustomer}, sn.rev, page)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rels))
	for i, r := range rels {
		_, ids[i] = customerObjectIDs(msp, r.Resource.ID)
	}
	things, err := sn.at(rev).customerThings(ctx, kind, customer, ids)
	if err != nil {
		return nil, err
	}
	return &Listing[customerThing]{Items: things, NextPageToken: next, CheckedAt: string(rev)}, nil
}

// listingOf converts a listing's items.
func listingOf[T, U any](l *Listing[T], err error, convert func(T) U) (*Listing[U], error) {
	if err != nil {
		return nil, err
	}
	out := &Listing[U]{Items: make([]U, len(l.Items)), NextPageToken: l.NextPageToken, CheckedAt: l.CheckedAt}
	for i, it := range l.Items {
		out.Items[i] = convert(it)
	}
	return out, nil
}

// getOf converts a read object.
func getOf[T, U any](t *T, err error, convert func(T) U) (*U, error) {
	if err != nil {
		return nil, err
	}
	u := convert(*t)
	return &u, nil
}

func windowOf(msp, customer string) func(customerThing) MaintenanceWindow {
	return func(t customerThing) MaintenanceWindow {
		return MaintenanceWindow{CustomerID: customer, ID: t.ID, DisplayName: t.attribute(attrDisplayName), CreatorUserID: t.relatedOne(msp, relCreator),
			ModifiedByOther: len(t.related(msp, relModifiedByOther)) > 0, Editors: t.Holders["edit"], Deleters: t.Holders["delete"]}
	}
}

func commentOf(msp, customer string) func(customerThing) OutageComment {
	return func(t customerThing) OutageComment {
		return OutageComment{CustomerID: customer, ID: t.ID, Text: t.attribute(attrText), CreatorUserID: t.relatedOne(msp, relCreator), Editors: t.Holders["edit"]}
	}
}

func monitorGroupOf(msp, customer string) func(customerThing) MonitorGroup {
	return func(t customerThing) MonitorGroup {
		return MonitorGroup{CustomerID: customer, ID: t.ID, Spokespersons: t.related(msp, relSpokesperson), Editors: t.Holders["edit"]}
	}
}

func monitorOf(msp, customer string) func(customerThing) Monitor {
	return func(t customerThing) Monitor {
		return Monitor{CustomerID: customer, ID: t.ID, MonitorGroupID: t.relatedOne(msp, relMonitorGroup), Editors: t.Holders["edit"]}
	}
}

// GetMaintenanceWindow returns a window with its creator and who may edit
// and delete it now.
func (s *Service) GetMaintenanceWindow(ctx context.Context, msp, customer, id, atLeastAsFresh string) (*MaintenanceWindow, error) {
	t, err := s.getCustomerThing(ctx, kindWindow, msp, customer, id, atLeastAsFresh)
	return getOf(t, err, windowOf(msp, customer))
}

// ListMaintenanceWindows lists a customer's windows, a page at a time.
func (s *Service) ListMaintenanceWindows(ctx context.Context, msp, customer string, page Page, atLeastAsFresh string) (*Listing[MaintenanceWindow], error) {
	l, err := s.listCustomerThings(ctx, kindWindow, msp, customer, page, atLeastAsFresh)
	return listingOf(l, err, windowOf(msp, customer))
}

// GetOutageComment returns a comment with who posted it and who may edit it now.
func (s *Service) GetOutageComment(ctx context.Context, msp, customer, id, atLeastAsFresh string) (*OutageComment, error) {
	t, err := s.getCustomerThing(ctx, kindOutageComment, msp, customer, id, atLeastAsFresh)
	return getOf(t, err, commentOf(msp, customer))
}

// ListOutageComments lists a customer's outage comments, a page at a time.
func (s *Service) ListOutageComments(ctx context.Context, msp, customer string, page Page, atLeastAsFresh string) (*Listing[OutageComment], error) {
	l, err := s.listCustomerThings(ctx, kindOutageComment, msp, customer, page, atLeastAsFresh)
	return listingOf(l, err, commentOf(msp, customer))
}

// GetMonitorGroup returns a monitor group with its spokespersons and who may edit it.
func (s *Service) GetMonitorGroup(ctx context.Context, msp, customer, id, atLeastAsFresh string) (*MonitorGroup, error) {
	t, err := s.getCustomerThing(ctx, kindMonitorGroup, msp, customer, id, atLeastAsFresh)
	return getOf(t, err, monitorGroupOf(msp, customer))
}

// ListMonitorGroups lists a customer's monitor groups, a page at a time.
func (s *Service) ListMonitorGroups(ctx context.Context, msp, customer string, page Page, atLeastAsFresh string) (*Listing[MonitorGroup], error) {
	l, err := s.listCustomerThings(ctx, kindMonitorGroup, msp, customer, page, atLeastAsFresh)
	return listingOf(l, err, monitorGroupOf(msp, customer))
}

// GetMonitor returns a monitor the actor may view, with who may edit it.
func (s *Service) GetMonitor(ctx context.Context, msp, customer, id, atLeastAsFresh string) (*Monitor, error) {
	t, err := s.getCustomerThing(ctx, kindMonitor, msp, customer, id, atLeastAsFresh)
	return getOf(t, err, monitorOf(msp, customer))
}

// ListMonitors lists the monitors of a customer the actor may view (a
// Spokesperson: those of the monitor groups granted him), a page at a time;
// a page may hold fewer than asked.
func (s *Service) ListMonitors(ctx context.Context, msp, customer string, page Page, atLeastAsFresh string) (*Listing[Monitor], error) {
	l, err := s.listCustomerThings(ctx, kindMonitor, msp, customer, page, atLeastAsFresh)
	return listingOf(l, err, monitorOf(msp, customer))
}
