package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// auditPage is the audit trail: the MSP's, or one customer's own, filtered
// by actor, target, action and time, a page at a time, oldest first.
type auditPage struct {
	frame
	Filter auditFilter
	Events []eventView
	// Next is the link to the next page; Export the trail's JSON Lines
	// (the API's own call, which the session authenticates).
	Next, Export string
}

// auditFilter is what the trail's form asks, as the person typed it.
type auditFilter struct {
	Customer, Actor, Target, Action, Since, Until string
}

// auditPageSize is how many events a page of the trail shows.
const auditPageSize = 50

// datetimeLocal is how an <input type="datetime-local"> writes a time (UTC
// here, as the page says).
const datetimeLocal = "2006-01-02T15:04"

func (s *Server) auditTrail(c *call) error {
	q := c.r.URL.Query()
	f := auditFilter{Customer: strings.TrimSpace(q.Get("customer")), Actor: strings.TrimSpace(q.Get("actor")), Target: strings.TrimSpace(q.Get("target")),
		Action: strings.TrimSpace(q.Get("action")), Since: q.Get("since"), Until: q.Get("until")}
	req := &pb.ListAuditEventsRequest{MspId: c.msp(), CustomerId: f.Customer, Actor: f.Actor, Target: f.Target, Action: f.Action, PageSize: auditPageSize, PageToken: q.Get("page")}
	api := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "target": f.Target, "action": f.Action} {
		if v != "" {
			api.Set(k, v)
		}
	}
	for _, t := range []struct {
		field string
		value string
		set   func(*timestamppb.Timestamp)
	}{
		{"since", f.Since, func(ts *timestamppb.Timestamp) { req.Since = ts }},
		{"until", f.Until, func(ts *timestamppb.Timestamp) { req.Until = ts }},
	} {
		if t.value == "" {
			continue
		}
		at, err := time.Parse(datetimeLocal, t.value)
		if err != nil {
			c.problem(http.StatusBadRequest, t.field+": "+t.value+" is no date and time (YYYY-MM-DDTHH:MM, UTC)")
			return nil
		}
		t.set(timestamppb.New(at))
		api.Set(t.field, at.UTC().Format(time.RFC3339))
	}
	list, err := s.audit.ListAuditEvents(c.ctx, req)
	if err != nil {
		return err
	}
	page := auditPage{frame: c.frame("Audit trail", "audit"), Filter: f, Events: eventViews(list.GetEvents())}
	if next := list.GetNextPageToken(); next != "" {
		page.Next = "/audit?" + query("customer", f.Customer, "actor", f.Actor, "target", f.Target, "action", f.Action, "since", f.Since, "until", f.Until, "page", next)
	}
	trail := "/v1/msps/" + url.PathEscape(c.msp())
	if f.Customer != "" {
		trail += customerPath(f.Customer)
	}
	page.Export = trail + "/auditEvents:export"
	if len(api) > 0 {
		page.Export += "?" + api.Encode()
	}
	c.render(http.StatusOK, "audit", page)
	return nil
}
