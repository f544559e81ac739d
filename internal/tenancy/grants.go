package tenancy

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// Time-bound grants (as Microsoft's GDAP): the MSP requests a role on one
// customer for the members of one of its security groups, for 1 to 730 days;
// the customer's own administrator approves or declines; the approved grant
// is customer#grant with a SpiceDB expiration, so it ends by itself.
const (
	MinGrantDays = 1
	MaxGrantDays = 730
	// PendingGrantDays is how long a request waits for the customer's answer.
	PendingGrantDays = 90
	// AutoExtendDays is how much an auto-extending grant gains each time.
	AutoExtendDays = 180
	// autoExtendLeadDays: an auto-extending grant is extended once it has
	// less than this left.
	autoExtendLeadDays = 1
)

// GrantStatus is where a grant stands.
type GrantStatus string

// Grant statuses.
const (
	GrantPending  GrantStatus = "PENDING"
	GrantActive   GrantStatus = "ACTIVE"
	GrantDeclined GrantStatus = "DECLINED"
	GrantRevoked  GrantStatus = "REVOKED"
	// GrantExpired: the request went unanswered for PendingGrantDays, or the
	// approved grant reached its expiry.
	GrantExpired GrantStatus = "EXPIRED"
)

// Grant is a time-bound grant and its history.
type Grant struct {
	ID              string
	MSP             string
	CustomerID      string
	SecurityGroupID string
	RoleID          string
	DurationDays    int
	AutoExtend      bool
	Status          GrantStatus
	RequestedBy     string
	RequestedAt     time.Time
	DecidedBy       string
	DecidedAt       time.Time
	// ExpiresAt is when an approved grant ends, or when a pending request lapses.
	ExpiresAt time.Time
	WrittenAt string
	// Permissions are what the grant gives (its role's customer
	// permissions) and Members to whom (its security group's members), as
	// they are now: what the customer decides on. Filled by ListGrants and
	// GetGrant.
	Permissions, Members []string
}

// The attributes of a grant, on its attributes relationship.
const (
	attrState        = "state"
	attrDays         = "durationDays"
	attrAutoExtend   = "autoExtend"
	attrRequestedBy  = "requestedBy"
	attrRequestedAt  = "requestedAt"
	attrDecidedBy    = "decidedBy"
	attrDecidedAt    = "decidedAt"
	attrExpiresAt    = "expiresAt"
	stateRequested   = "requested"
	stateApproved    = "approved"
	stateDeclined    = "declined"
	stateRevoked     = "revoked"
	serviceActorName = "service"
)

// Block reasons of grants.
const (
	// BlockTopRoleNotExtendable: a grant of the top role never auto-extends.
	BlockTopRoleNotExtendable BlockReason = "TOP_ROLE_NOT_EXTENDABLE"
	// BlockGrantNotPending: only a pending request can be approved or declined.
	BlockGrantNotPending BlockReason = "GRANT_NOT_PENDING"
	// BlockGrantNotActive: only an active grant can be revoked.
	BlockGrantNotActive BlockReason = "GRANT_NOT_ACTIVE"
)

func grantObject(msp, id string) graph.Object { return scoped(typeGrant, msp, id) }

// SetGrantDayLength makes a grant's day last d: for tests and demos of
// expiry only (the default is 24 hours).
func (s *Service) SetGrantDayLength(d time.Duration) { s.grantDay = d }

func (s *Service) days(n int) time.Duration { return time.Duration(n) * s.grantDay }

// grantClock is the time of a grant's events, to the microsecond: PostgreSQL
// keeps a relationship's expiration no finer.
func (s *Service) grantClock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// isTopRole reports whether a role holds every permission of the catalog
// (the built-in account owner and super admin, or a custom role equal to them).
func isTopRole(r *Role) bool { return len(r.Permissions) == len(catalog.All) }

// RequestGrant records the MSP's request for a role on a customer, for the
// members of a security group. The requester needs grants.manage and must
// hold the role's customer permissions on the customer himself.
func (s *Service) RequestGrant(ctx context.Context, msp string, g Grant) (*Grant, error) {
	if err := firstError(checkID("mspId", msp), checkID("customerId", g.CustomerID), checkID("securityGroupId", g.SecurityGroupID), checkID("roleId", g.RoleID)); err != nil {
		return nil, err
	}
	if g.DurationDays < MinGrantDays || g.DurationDays > MaxGrantDays {
		return nil, fault.New(fault.Invalid, "durationDays: %d is outside %d..%d", g.DurationDays, MinGrantDays, MaxGrantDays)
	}
	g.ID = "g" + newEpochID()[:16]
	g.Status, g.RequestedBy, g.DecidedBy, g.DecidedAt = GrantPending, actorName(ctx), "", time.Time{}
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		if err := sn.requireExisting(ctx,
			existing{"customerId", typeCustomer, []string{g.CustomerID}},
			existing{"securityGroupId", typeSecurityGroup, []string{g.SecurityGroupID}}); err != nil {
			return nil, err
		}
		role, err := sn.readRole(ctx, g.RoleID)
		if err != nil {
			return nil, err
		}
		if g.AutoExtend && isTopRole(role) {
			return nil, fault.New(fault.Blocked, "role %q is the top role: its grants never auto-extend (TOP_ROLE_NOT_EXTENDABLE)", g.RoleID).
				WithDetails([]Block{{CustomerID: g.CustomerID, Reason: BlockTopRoleNotExtendable}})
		}
		scopedPerms := slices.DeleteFunc(slices.Clone(role.Permissions), func(id string) bool { p, _ := catalog.Lookup(id); return !p.Scoped })
		if len(scopedPerms) == 0 {
			return nil, fault.New(fault.Invalid, "roleId: role %q holds no customer permission a grant can give", g.RoleID)
		}
		if err := sn.authorizeGrant(ctx, permGrantsManage, scopedPerms, Scope{Customers: []string{g.CustomerID}}); err != nil {
			return nil, err
		}
		g.RequestedAt = s.grantClock()
		g.ExpiresAt = g.RequestedAt.Add(s.days(PendingGrantDays))
		obj := grantObject(msp, g.ID)
		return creates(
			graph.Rel(obj, relMSP, mspObject(msp)),
			graph.Rel(obj, relCustomer, customerObject(msp, g.CustomerID)),
			graph.Rel(obj, relSecurityGroup, securityGroupObject(msp, g.SecurityGroupID)),
			graph.Rel(obj, relRole, roleObject(msp, g.RoleID)),
			grantAttributes(msp, g, stateRequested),
		), nil
	})
	if err != nil {
		return nil, err
	}
	g.WrittenAt = rep.WrittenAt
	return &g, nil
}

const permGrantsManage = "grants.manage"

// actorName is who the actor is, as recorded on a grant.
func actorName(ctx context.Context) string {
	if a := actorFrom(ctx); a.UserID != "" {
		return a.UserID
	}
	return serviceActorName
}

func grantAttributes(msp string, g Grant, state string) graph.Relationship {
	values := map[string]string{
		attrState:       state,
		attrDays:        strconv.Itoa(g.DurationDays),
		attrAutoExtend:  strconv.FormatBool(g.AutoExtend),
		attrRequestedBy: g.RequestedBy,
		attrRequestedAt: g.RequestedAt.Format(time.RFC3339Nano),
		attrExpiresAt:   g.ExpiresAt.Format(time.RFC3339Nano),
	}
	if g.DecidedBy != "" {
		values[attrDecidedBy] = g.DecidedBy
		values[attrDecidedAt] = g.DecidedAt.Format(time.RFC3339Nano)
	}
	return graph.Rel(grantObject(msp, g.ID), relAttributes, mspObject(msp)).WithAttributes(values)
}

// grantOf assembles a grant from its relationships, as it stands at now.
func grantOf(msp, id string, rels []graph.Relationship, now time.Time) (*Grant, string, error) {
	g := &Grant{ID: id, MSP: msp}
	state := ""
	for _, r := range rels {
		switch r.Relation {
		case relCustomer:
			g.CustomerID = localID(msp, r.Subject.ID)
		case relSecurityGroup:
			g.SecurityGroupID = localID(msp, r.Subject.ID)
		case relRole:
			g.RoleID = roleIDOf(msp, r.Subject)
		case relAttributes:
			state = r.Attribute(attrState)
			g.DurationDays, _ = strconv.Atoi(r.Attribute(attrDays))
			g.AutoExtend = r.Attribute(attrAutoExtend) == "true"
			g.RequestedBy, g.DecidedBy = r.Attribute(attrRequestedBy), r.Attribute(attrDecidedBy)
			g.RequestedAt = parseTime(r.Attribute(attrRequestedAt))
			g.DecidedAt = parseTime(r.Attribute(attrDecidedAt))
			g.ExpiresAt = parseTime(r.Attribute(attrExpiresAt))
		}
	}
	if state == "" {
		return nil, "", grantNotFound(id)
	}
	switch state {
	case stateRequested:
		g.Status = GrantPending
	case stateApproved:
		g.Status = GrantActive
	case stateDeclined:
		g.Status = GrantDeclined
	case stateRevoked:
		g.Status = GrantRevoked
	}
	if (g.Status == GrantPending || g.Status == GrantActive) && !now.Before(g.ExpiresAt) {
		g.Status = GrantExpired
	}
	return g, state, nil
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// readGrant reads a grant at the snapshot. A grant of a customer the actor
// may not see does not exist for him.
func (sn *snapshot) readGrant(ctx context.Context, id string) (*Grant, error) {
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeGrant, ResourceID: grantObject(sn.msp, id).ID})
	if err != nil {
		return nil, err
	}
	g, _, err := grantOf(sn.msp, id, rels, sn.s.now())
	if err != nil {
		return nil, err
	}
	if err := sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{g.CustomerID}}); fault.Is(err, fault.NotFound) {
		return nil, grantNotFound(id)
	} else if err != nil {
		return nil, err
	}
	return g, nil
}

func grantNotFound(id string) error {
	return fault.New(fault.NotFound, "grantId: grant %q not found", id)
}

// approved is the relationship by which the customer gives what a grant holds, until expires.
func approved(msp string, g *Grant) graph.Relationship {
	r := graph.Rel(customerObject(msp, g.CustomerID), relGrant, grantObject(msp, g.ID))
	r.Expires = g.ExpiresAt
	return r
}

// decideGrant runs a decision on a grant (an answer, a revocation, an
// extension) as one save; decide authorizes it.
func (s *Service) decideGrant(ctx context.Context, msp, id string, decide func(sn *snapshot, g *Grant) ([]graph.Update, error)) (*Grant, error) {
	if err := firstError(checkID("mspId", msp), checkID("grantId", id)); err != nil {
		return nil, err
	}
	var out *Grant
	rep, err := s.save(ctx, msp, false, func(ctx context.Context, sn *snapshot) ([]graph.Update, error) {
		g, err := sn.readGrant(ctx, id)
		if err != nil {
			return nil, err
		}
		updates, err := decide(sn, g)
		out = g
		return updates, err
	})
	if err != nil {
		return nil, err
	}
	out.WrittenAt = rep.WrittenAt
	return out, nil
}

// requireCustomerAdministrator refuses anyone but the customer's own
// built-in administrators (and trusted services).
func (sn *snapshot) requireCustomerAdministrator(ctx context.Context, customer, what string) error {
	return sn.requirePermission(ctx, customerObject(sn.msp, customer), permissionBuiltinAdministrator, func(string) error {
		return fault.New(fault.PermissionDenied, "only a built-in administrator of customer %q may %s", customer, what)
	})
}

// authorizeGrantReader lets through the two parties of a customer's grants:
// the MSP's grants.manage holders and the customer's built-in administrators.
func (sn *snapshot) authorizeGrantReader(ctx context.Context, customer, what string) error {
	return sn.authorizeParty(ctx, permGrantsManage, func() error { return sn.requireCustomerAdministrator(ctx, customer, what) })
}

func notPending(g *Grant) error {
	return fault.New(fault.Blocked, "grant %q is %s: only a pending request can be answered (GRANT_NOT_PENDING)", g.ID, g.Status).
		WithDetails([]Block{{CustomerID: g.CustomerID, Reason: BlockGrantNotPending}})
}

// ApproveGrant approves a pending request: from now on the members of its
// security group hold its role's customer permissions on the customer, until
// the grant expires DurationDays later.
func (s *Service) ApproveGrant(ctx context.Context, msp, id string) (*Grant, error) {
	return s.decideGrant(ctx, msp, id, func(sn *snapshot, g *Grant) ([]graph.Update, error) {
		if err := sn.requireConsent(ctx, g.CustomerID, "approving a grant request"); err != nil {
			return nil, err
		}
		if g.Status != GrantPending {
			return nil, notPending(g)
		}
		g.Status, g.DecidedBy, g.DecidedAt = GrantActive, actorName(ctx), s.grantClock()
		g.ExpiresAt = g.DecidedAt.Add(s.days(g.DurationDays))
		return []graph.Update{
			{Op: graph.Touch, Relationship: grantAttributes(msp, *g, stateApproved)},
			{Op: graph.Touch, Relationship: approved(msp, g)},
		}, nil
	})
}

// DeclineGrant declines a pending request.
func (s *Service) DeclineGrant(ctx context.Context, msp, id string) (*Grant, error) {
	return s.decideGrant(ctx, msp, id, func(sn *snapshot, g *Grant) ([]graph.Update, error) {
		if err := sn.requireConsent(ctx, g.CustomerID, "declining a grant request"); err != nil {
			return nil, err
		}
		if g.Status != GrantPending {
			return nil, notPending(g)
		}
		g.Status, g.DecidedBy, g.DecidedAt = GrantDeclined, actorName(ctx), s.grantClock()
		return []graph.Update{{Op: graph.Touch, Relationship: grantAttributes(msp, *g, stateDeclined)}}, nil
	})
}

// RevokeGrant ends an active grant at once: the MSP may (grants.manage), and
// so may the customer, with its consent (see requireConsent).
func (s *Service) RevokeGrant(ctx context.Context, msp, id string) (*Grant, error) {
	return s.decideGrant(ctx, msp, id, func(sn *snapshot, g *Grant) ([]graph.Update, error) {
		if err := sn.authorizeParty(ctx, permGrantsManage, func() error {
			return sn.requireConsent(ctx, g.CustomerID, "revoking a grant from the customer's side")
		}); err != nil {
			return nil, err
		}
		if g.Status != GrantActive {
			return nil, fault.New(fault.Blocked, "grant %q is %s: only an active grant can be revoked (GRANT_NOT_ACTIVE)", g.ID, g.Status).
				WithDetails([]Block{{CustomerID: g.CustomerID, Reason: BlockGrantNotActive}})
		}
		g.Status, g.DecidedBy, g.DecidedAt = GrantRevoked, actorName(ctx), s.grantClock()
		return []graph.Update{
			{Op: graph.Touch, Relationship: grantAttributes(msp, *g, stateRevoked)},
			{Op: graph.Delete, Relationship: approved(msp, g)},
		}, nil
	})
}

// GrantQuery selects grants; empty fields select every grant.
type GrantQuery struct {
	CustomerID string
	// ExpiringWithinDays, when positive, selects active grants that end
	// within that many days.
	ExpiringWithinDays int
}

// ListGrants lists the MSP's grants, newest request first, at least as fresh
// as atLeastAsFresh (the newest, when empty). The MSP's grants.manage holders
// see all of them; a customer's built-in administrator sees his customer's
// (he must name it).
func (s *Service) ListGrants(ctx context.Context, msp string, q GrantQuery, atLeastAsFresh string) ([]Grant, string, error) {
	if q.CustomerID != "" {
		if err := checkID("customerId", q.CustomerID); err != nil {
			return nil, "", err
		}
	}
	if q.ExpiringWithinDays < 0 || q.ExpiringWithinDays > MaxGrantDays {
		return nil, "", fault.New(fault.Invalid, "expiringWithinDays: %d is outside 0..%d", q.ExpiringWithinDays, MaxGrantDays)
	}
	sn, err := s.snapshotAtLeast(ctx, msp, atLeastAsFresh)
	if err != nil {
		return nil, "", err
	}
	if q.CustomerID == "" {
		err = sn.authorize(ctx, permGrantsManage, mspObject(msp))
	} else {
		err = firstError(sn.requireExisting(ctx, existing{"customerId", typeCustomer, []string{q.CustomerID}}), sn.authorizeGrantReader(ctx, q.CustomerID, "list its grants"))
	}
	if err != nil {
		return nil, "", err
	}
	rels, err := sn.read(ctx, graph.Filter{ResourceType: typeGrant, ResourceIDPrefix: msp + "/"})
	if err != nil {
		return nil, "", err
	}
	byGrant := map[string][]graph.Relationship{}
	for _, r := range rels {
		byGrant[r.Resource.ID] = append(byGrant[r.Resource.ID], r)
	}
	now := s.now()
	var out []Grant
	for obj, rels := range byGrant {
		g, _, err := grantOf(msp, localID(msp, obj), rels, now)
		if err != nil {
			continue // a grant being deleted
		}
		if q.CustomerID != "" && g.CustomerID != q.CustomerID {
			continue
		}
		if q.ExpiringWithinDays > 0 && (g.Status != GrantActive || g.ExpiresAt.After(now.Add(s.days(q.ExpiringWithinDays)))) {
			continue
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RequestedAt.Equal(out[j].RequestedAt) {
			return out[i].RequestedAt.After(out[j].RequestedAt)
		}
		return out[i].ID < out[j].ID
	})
	if err := sn.fillGrantDetails(ctx, out); err != nil {
		return nil, "", err
	}
	return out, string(sn.rev), nil
}

// fillGrantDetails fills what each grant gives and to whom: its role's
// customer permissions and its security group's members, one read per role
// and group. A role or group deleted since leaves its part empty.
func (sn *snapshot) fillGrantDetails(ctx context.Context, grants []Grant) error {
	type part struct{ typ, id string }
	var parts []part
	for _, g := range grants {
		parts = append(parts, part{typeRole, g.RoleID}, part{typeSecurityGroup, g.SecurityGroupID})
	}
	slices.SortFunc(parts, func(a, b part) int { return cmp.Or(strings.Compare(a.typ, b.typ), strings.Compare(a.id, b.id)) })
	parts = slices.Compact(parts)
	found := map[part][]string{}
	var mu sync.Mutex
	err := each(ctx, sn.s.readParallelism, parts, func(ctx context.Context, p part) error {
		var ids []string
		if p.typ == typeRole {
			role, err := sn.readRole(ctx, p.id)
			if fault.Is(err, fault.NotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			ids = slices.DeleteFunc(role.Permissions, func(id string) bool { c, _ := catalog.Lookup(id); return !c.Scoped })
		} else {
			rels, _, err := sn.s.graph.Read(ctx, graph.Filter{ResourceType: typeSecurityGroup, ResourceID: securityGroupObject(sn.msp, p.id).ID, Relation: relMember}, graph.At(sn.rev))
			if err != nil {
				return err
			}
			for _, r := range rels {
				ids = append(ids, localID(sn.msp, r.Subject.ID))
			}
		}
		mu.Lock()
		defer mu.Unlock()
		found[p] = ids
		return nil
	})
	if err != nil {
		return err
	}
	for i, g := range grants {
		grants[i].Permissions, grants[i].Members = found[part{typeRole, g.RoleID}], found[part{typeSecurityGroup, g.SecurityGroupID}]
	}
	return nil
}

// GetGrant returns one grant, to whoever may list it.
func (s *Service) GetGrant(ctx context.Context, msp, id string) (*Grant, error) {
	if err := checkID("grantId", id); err != nil {
		return nil, err
	}
	sn, err := s.snapshot(ctx, msp)
	if err != nil {
		return nil, err
	}
	g, err := sn.readGrant(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := sn.authorizeGrantReader(ctx, g.CustomerID, "read its grants"); err != nil {
		return nil, err
	}
	g.WrittenAt = string(sn.rev)
	grants := []Grant{*g}
	if err := sn.fillGrantDetails(ctx, grants); err != nil {
		return nil, err
	}
	return &grants[0], nil
}

// ExtendDueGrants extends, by AutoExtendDays, every active auto-extending
// grant of every MSP that ends within a day, unless its role has become the
// top role. It returns the grants it extended. The server runs it
// periodically; each extension is its own save.
func (s *Service) ExtendDueGrants(ctx context.Context) ([]Grant, error) {
	rels, _, err := s.graph.Read(ctx, graph.Filter{ResourceType: typeGrant, Relation: relAttributes}, graph.Full())
	if err != nil {
		return nil, err
	}
	now := s.now()
	var extended []Grant
	for _, r := range rels {
		msp := r.Subject.ID
		g, _, err := grantOf(msp, localID(msp, r.Resource.ID), []graph.Relationship{r}, now)
		if err != nil || !s.dueForExtension(g, now) {
			continue
		}
		due := false
		out, err := s.decideGrant(ctx, msp, g.ID, func(sn *snapshot, g *Grant) ([]graph.Update, error) {
			due = s.dueForExtension(g, now)
			if !due {
				return nil, nil
			}
			role, err := sn.readRole(ctx, g.RoleID)
			if err != nil {
				return nil, err
			}
			if isTopRole(role) {
				return nil, fault.New(fault.Blocked, "grant %q carries the top role %q: not extended (TOP_ROLE_NOT_EXTENDABLE)", g.ID, g.RoleID)
			}
			g.ExpiresAt = g.ExpiresAt.Add(s.days(AutoExtendDays))
			return []graph.Update{
				{Op: graph.Touch, Relationship: grantAttributes(msp, *g, stateApproved)},
				{Op: graph.Touch, Relationship: approved(msp, g)},
			}, nil
		})
		if err != nil {
			slog.WarnContext(ctx, "grant not extended", "msp", msp, "grant", g.ID, "error", err.Error())
			continue
		}
		if due {
			extended = append(extended, *out)
		}
	}
	return extended, nil
}

// dueForExtension reports whether an active auto-extending grant has less
// than autoExtendLeadDays left at now.
func (s *Service) dueForExtension(g *Grant, now time.Time) bool {
	return g.Status == GrantActive && g.AutoExtend && !g.ExpiresAt.After(now.Add(s.days(autoExtendLeadDays)))
}

// grantsPointingAt reads every relationship of the grants that name obj
// (their customer, security group or role), and each approval of them: a
// deleted object takes its grants with it, so that an object re-created
// under the same id inherits none.
func (sn *snapshot) grantsPointingAt(ctx context.Context, relation string, obj graph.Object) ([]graph.Relationship, error) {
	refs, err := sn.read(ctx, graph.Filter{ResourceType: typeGrant, ResourceIDPrefix: sn.msp + "/", Relation: relation, SubjectType: obj.Type, SubjectID: obj.ID})
	if err != nil {
		return nil, err
	}
	var out []graph.Relationship
	for _, ref := range refs {
		rels, err := sn.readAll(ctx,
			graph.Filter{ResourceType: typeGrant, ResourceID: ref.Resource.ID},
			graph.Filter{ResourceType: typeCustomer, Relation: relGrant, SubjectType: typeGrant, SubjectID: ref.Resource.ID})
		if err != nil {
			return nil, err
		}
		out = append(out, rels...)
	}
	return out, nil
}
