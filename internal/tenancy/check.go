package tenancy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mspauthz/mspauthz/internal/catalog"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/reach"
)

// Question asks whether a user has a permission on a resource.
type Question struct {
	// ResourceType is customer, msp, maintenance_window, outage_comment or monitor.
	ResourceType string
	// ResourceID is the resource's id: a customer's or the MSP's own, or
	// "<customer>/<id>" for an object that belongs to a customer.
	ResourceID string
	// Permission is "access", an end-customer channel (access_portal,
	// access_web_client, receive_alerts), a permission of the catalog
	// ("tickets.create", or "users.manage" on the MSP), switch_to_own_domain
	// on the MSP, or an object's own (edit, delete on maintenance windows;
	// edit on outage comments; view on monitors).
	Permission string
	UserID     string
}

// CheckResult answers a question, with every path that grants it.
type CheckResult struct {
	Allowed bool
	// Via names each grant: "direct" and "customer_group:<id>" for access;
	// "security_group:<id>", "grant:<id>" (a time-bound grant) and
	// "end_customer_role:<role>" for permissions of the catalog, on
	// customers and on the MSP; "end_customer_role:admin" (in the MSP's own
	// domain) for switch_to_own_domain. Object permissions name no path.
	Via []string
}

// MaxCheckItems is the most questions one Check answers.
const MaxCheckItems = 1000

var channels = []string{"access_portal", "access_web_client", "receive_alerts"}

// mspPermissions are the MSP's own permissions that are not in the catalog.
var mspPermissions = []string{PermissionSwitchToOwnDomain}

var objectPermissions = map[string][]string{
	typeWindow:        {"edit", "delete"},
	typeOutageComment: {"edit"},
	typeMonitor:       {"view"},
}

// resolve validates a question and returns the graph check it asks, and the
// check that proves its resource exists.
func (q Question) resolve(msp string, n, i int) (graph.Check, graph.Check, error) {
	var resource, exists graph.Check
	subject := userObject(msp, q.UserID)
	// The fields of errors are named only once there is one (a bulk check
	// resolves a thousand questions).
	field := func() string { return itemField(n, i) }
	if !ValidID(q.UserID) {
		return resource, exists, InvalidID(field()+"subject", q.UserID)
	}
	bad := func() error {
		return fault.New(fault.Invalid, "%spermission: %q is not a permission of %s (GET /v1/permissions lists them)", field(), q.Permission, q.ResourceType)
	}
	switch q.ResourceType {
	case typeCustomer:
		if !ValidID(q.ResourceID) {
			return resource, exists, InvalidID(field()+"resource", q.ResourceID)
		}
		obj := customerObject(msp, q.ResourceID)
		relation := q.Permission
		if p, ok := catalog.Lookup(q.Permission); ok && p.Level == catalog.Customer {
			relation = RelationOf(p)
		} else if q.Permission != PermissionAccess && !slices.Contains(channels, q.Permission) {
			return resource, exists, bad()
		}
		return graph.Check{Resource: obj, Permission: relation, Subject: subject}, graph.Check{Resource: obj, Permission: relMSP, Subject: mspObject(msp)}, nil
	case typeMSP:
		if q.ResourceID != msp {
			return resource, exists, fault.New(fault.NotFound, "%sresource: msp %q not found", field(), q.ResourceID)
		}
		relation := q.Permission
		if p, ok := catalog.Lookup(q.Permission); ok && p.Level == catalog.MSP {
			relation = p.Relation()
		} else if !slices.Contains(mspPermissions, q.Permission) {
			return resource, exists, bad()
		}
		return graph.Check{Resource: mspObject(msp), Permission: relation, Subject: subject}, graph.Check{}, nil
	case typeWindow, typeOutageComment, typeMonitor:
		customer, id, _ := strings.Cut(q.ResourceID, "/")
		if !ValidID(customer) || !ValidID(id) {
			return resource, exists, fault.New(fault.Invalid, "%sresource: %q is not \"%s:<customer>/<id>\"", field(), q.ResourceType+":"+q.ResourceID, q.ResourceType)
		}
		if !slices.Contains(objectPermissions[q.ResourceType], q.Permission) {
			return resource, exists, bad()
		}
		obj := customerObjectOf(q.ResourceType, msp, customer, id)
		return graph.Check{Resource: obj, Permission: q.Permission, Subject: subject}, graph.Check{Resource: obj, Permission: relCustomer, Subject: customerObject(msp, customer)}, nil
	}
	return resource, exists, fault.New(fault.Invalid, "%sresource: %q is not a type that answers permissions (customer, msp, maintenance_window, outage_comment, monitor)", field(), q.ResourceType)
}

// Check answers every question at one revision at least as fresh as
// atLeastAsFresh (the newest, when empty), naming the grants of those
// allowed, and returns that revision. An actor may ask about himself; asking
// about other users needs users.manage.
func (s *Service) Check(ctx context.Context, msp string, questions []Question, atLeastAsFresh string) ([]CheckResult, string, error) {
	if err := checkID("mspId", msp); err != nil {
		return nil, "", err
	}
	if len(questions) == 0 || len(questions) > MaxCheckItems {
		return nil, "", fault.New(fault.Invalid, "items: %d checks asked, between 1 and %d answered", len(questions), MaxCheckItems)
	}
	n := len(questions)
	checks := make([]graph.Check, n, 3*n) // the questions, then the proofs, then the visibility of their customers
	proofs := make([]proof, 0, 2*n)
	for i, q := range questions {
		var exists graph.Check
		var err error
		if checks[i], exists, err = q.resolve(msp, n, i); err != nil {
			return nil, "", err
		}
		proofs = q.proofs(proofs, msp, i, exists)
	}
	for _, p := range proofs {
		checks = append(checks, p.check)
	}
	// A user sees a customer he may know of (see knownCheck); a trusted
	// service sees them all.
	a := actorFrom(ctx)
	var customers []string
	for _, p := range proofs {
		if p.customer == "" {
			continue
		}
		touch(ctx, p.customer)
		if a.UserID != "" && !slices.Contains(customers, p.customer) {
			customers = append(customers, p.customer)
			checks = append(checks, knownCheck(msp, a, typeCustomer, p.customer))
		}
	}
	// One call answers the questions, proves their objects exist (a denial
	// about an object that does not exist is NotFound) and that the actor
	// sees their customers: to the index when it can, else to SpiceDB.
	answers, via, rev, err := s.answerChecks(ctx, msp, questions, checks, atLeastAsFresh)
	if err != nil {
		return nil, "", err
	}
	allowed, found, visible := answers[:n], answers[n:n+len(proofs)], answers[n+len(proofs):]
	sn := &snapshot{s: s, msp: msp, rev: rev}
	// The resources first: one of a customer the actor may not see is not
	// found, as one that does not exist; then whether he may ask about the
	// users; then whether they exist.
	unseen := func(customer string) bool {
		i := slices.Index(customers, customer)
		return i >= 0 && !visible[i]
	}
	missing := func(resources bool) error {
		for j, proof := range proofs {
			if (proof.customer != "") == resources && ((resources && unseen(proof.customer)) || (!allowed[proof.question] && !found[j])) {
				if _, err := s.snapshot(ctx, msp); err != nil {
					return err
				}
				return proof.notFound(questions[proof.question], itemField(n, proof.question))
			}
		}
		return nil
	}
	if err := missing(true); err != nil {
		return nil, "", err
	}
	if a.UserID != "" {
		pairs := make([]Pair, n)
		for i, q := range questions {
			pairs[i] = Pair{UserID: q.UserID}
		}
		if err := sn.authorizeAbout(ctx, pairs); err != nil {
			return nil, "", err
		}
	}
	if err := missing(false); err != nil {
		return nil, "", err
	}
	out := make([]CheckResult, len(questions))
	for i := range questions {
		out[i].Allowed = allowed[i]
	}
	if via != nil {
		for i := range out {
			out[i].Via = via[i]
		}
		return out, string(rev), nil
	}
	return out, string(rev), sn.explain(ctx, questions, out)
}

// answerChecks answers checks at one revision at least as fresh as asked:
// from the index, with the grants of each allowed question (via), when it
// can answer every check; else from SpiceDB, naming no grants (via is nil).
func (s *Service) answerChecks(ctx context.Context, msp string, questions []Question, checks []graph.Check, atLeastAsFresh string) ([]bool, [][]string, graph.Revision, error) {
	var answers []bool
	var via [][]string
	indexed := false
	rev, ok := s.readIndex(ctx, atLeastAsFresh, func(v reach.View) {
		if answers, indexed = v.Check(checks); !indexed {
			return
		}
		label := groupLabel(msp)
		via = make([][]string, len(questions))
		for i, q := range questions {
			if !answers[i] {
				continue
			}
			switch q.via() {
			case viaPaths:
				via[i] = appendVia(nil, v.Paths(checks[i].Subject.ID, checks[i].Resource.ID), label)
			case viaOwnDomain:
				via[i] = ownDomainVia()
			case viaGrants:
				p, _ := catalog.Lookup(q.Permission)
				customer := ""
				if q.ResourceType == typeCustomer {
					customer = checks[i].Resource.ID
				}
				via[i] = grantsVia(msp, v.Grants(mspObject(msp).ID, checks[i].Subject.ID, customer, p))
			}
		}
	})
	if ok && indexed {
		return answers, via, rev, nil
	}
	answers, rev, err := s.graph.Check(ctx, checks, consistency(atLeastAsFresh))
	if err != nil {
		return nil, nil, "", tokenError(err, atLeastAsFresh)
	}
	return answers, nil, rev, nil
}

// viaKind is what names the grants of an allowed question.
type viaKind int

const (
	viaNone      viaKind = iota // the channels, the objects' permissions
	viaPaths                    // access: direct, and each customer group
	viaOwnDomain                // switch_to_own_domain: his role in the own domain
	viaGrants                   // the catalog's: security groups, grants, end-customer roles
)

func (q Question) via() viaKind {
	_, catalogued := catalog.Lookup(q.Permission)
	switch {
	case q.ResourceType != typeCustomer && q.ResourceType != typeMSP:
		return viaNone
	case q.ResourceType == typeCustomer && q.Permission == PermissionAccess:
		return viaPaths
	case q.Permission == PermissionSwitchToOwnDomain:
		return viaOwnDomain
	case catalogued:
		return viaGrants
	}
	return viaNone
}

func ownDomainVia() []string { return []string{endCustomerRoleVia + builtinAdministratorRole} }

// grantsVia names grants as via does: the security groups, then the
// time-bound grants, then the end-customer roles.
func grantsVia(msp string, g reach.Grants) []string {
	var via []string
	for _, id := range g.SecurityGroups {
		via = append(via, typeSecurityGroup+":"+localID(msp, id))
	}
	for _, id := range g.Grants {
		via = append(via, typeGrant+":"+localID(msp, id))
	}
	for _, role := range g.EndCustomerRoles {
		via = append(via, endCustomerRoleVia+role)
	}
	return via
}

// proof is a check that one of a question's objects exists.
type proof struct {
	question int
	check    graph.Check
	// resource: the proof of the question's resource, else of its user.
	resource bool
	// customer is, for the proof of a resource, the customer it is or
	// belongs to, which the actor must see; "" for the proof of a user.
	customer string
}

// notFound is the error that names the object p proves, when it does not exist.
func (p proof) notFound(q Question, field string) error {
	if p.resource {
		return fault.New(fault.NotFound, "%sresource: %s %q not found", field, strings.ReplaceAll(q.ResourceType, "_", " "), q.ResourceID)
	}
	return fault.New(fault.NotFound, "%ssubject: user %q not found", field, q.UserID)
}

// itemField prefixes the fields of item i of n questions in errors ("" for
// one question).
func itemField(n, i int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("items[%d].", i)
}

// proofs appends the checks that the resource of question i (exists, when
// the question names one) and its user exist: an allowed question proves
// them, a denied one needs them.
func (q Question) proofs(out []proof, msp string, i int, exists graph.Check) []proof {
	if exists.Resource.Type != "" {
		customer, _ := customerOf(msp, exists.Resource)
		out = append(out, proof{i, exists, true, customer})
	}
	user := graph.Check{Resource: userObject(msp, q.UserID), Permission: relMSP, Subject: mspObject(msp)} // staff or end-customer user
	return append(out, proof{i, user, false, ""})
}

// explain fills in the grants of the allowed answers: the paths of access,
// the security groups and end-customer roles behind catalog permissions (of
// a customer or of the MSP), and the role in the MSP's own domain behind
// switching to it.
func (sn *snapshot) explain(ctx context.Context, questions []Question, results []CheckResult) error {
	var accessPairs []Pair
	var grants []int
	for i, q := range questions {
		if !results[i].Allowed {
			continue
		}
		switch q.via() {
		case viaPaths:
			accessPairs = append(accessPairs, Pair{q.UserID, q.ResourceID})
		case viaOwnDomain:
			results[i].Via = ownDomainVia()
		case viaGrants:
			grants = append(grants, i)
		}
	}
	if len(accessPairs) > 0 {
		x, err := sn.loadPairs(ctx, sn.rev, accessPairs)
		if err != nil {
			return err
		}
		for i, q := range questions {
			if results[i].Allowed && q.ResourceType == typeCustomer && q.Permission == PermissionAccess {
				results[i].Via = x.paths(q.UserID, q.ResourceID, nil)
			}
		}
	}
	for _, i := range grants {
		via, err := sn.grantsOf(ctx, questions[i])
		if err != nil {
			return err
		}
		results[i].Via = via
	}
	return nil
}

// endCustomerRoleVia prefixes the role that grants a permission in via.
const endCustomerRoleVia = "end_customer_role:"

// grantsOf names what grants a user a catalog permission on a customer or on
// the MSP: each of his security groups whose role grants it and whose scope
// holds the customer (every customer, for the MSP's permissions), and his
// end-customer role there.
func (sn *snapshot) grantsOf(ctx context.Context, q Question) ([]string, error) {
	msp, user := sn.msp, userObject(sn.msp, q.UserID)
	p, _ := catalog.Lookup(q.Permission)
	filters := []graph.Filter{{ResourceType: typeSecurityGroup, Relation: relMember, SubjectType: typeUser, SubjectID: user.ID}}
	onCustomer := q.ResourceType == typeCustomer
	if onCustomer {
		filters = append(filters, graph.Filter{ResourceType: typeCustomer, ResourceID: customerObject(msp, q.ResourceID).ID})
	}
	rels, err := sn.readAll(ctx, filters...)
	if err != nil {
		return nil, err
	}
	var groups []string
	var customerGroups, grants []string
	var ecRoles []string
	scoped := map[string]bool{}
	for _, r := range rels {
		switch {
		case r.Resource.Type == typeSecurityGroup:
			groups = append(groups, localID(msp, r.Resource.ID))
		case r.Relation == relCustomerGroup:
			customerGroups = append(customerGroups, localID(msp, r.Subject.ID))
		case r.Relation == relSecurityGroup:
			scoped[localID(msp, r.Subject.ID)] = true
		case r.Relation == relGrant && p.Scoped:
			grants = append(grants, localID(msp, r.Subject.ID))
		case strings.HasPrefix(r.Relation, endCustomerRelPrefix) && r.Subject == user:
			role := strings.TrimPrefix(r.Relation, endCustomerRelPrefix)
			if ecr, ok := catalog.LookupEndCustomerRole(role); ok && slices.Contains(ecr.Permissions, q.Permission) {
				ecRoles = append(ecRoles, role)
			}
		}
	}
	slices.Sort(groups)
	slices.Sort(grants)
	checks := make([]graph.Check, 0, len(groups)+len(grants))
	for _, id := range groups {
		checks = append(checks, graph.Check{Resource: securityGroupObject(msp, id), Permission: p.Relation(), Subject: user})
	}
	for _, id := range grants {
		checks = append(checks, graph.Check{Resource: grantObject(msp, id), Permission: p.Relation(), Subject: user})
	}
	granting := make([]bool, len(checks))
	if len(checks) > 0 {
		if granting, _, err = sn.s.graph.Check(ctx, checks, graph.At(sn.rev)); err != nil {
			return nil, err
		}
	}
	var found reach.Grants
	for i, id := range grants {
		if granting[len(groups)+i] {
			found.Grants = append(found.Grants, grantObject(msp, id).ID)
		}
	}
	for i, id := range groups {
		if !granting[i] {
			continue
		}
		g, err := sn.readSecurityGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		covers := g.Scope.AllCustomers || scoped[id] || slices.ContainsFunc(g.Scope.CustomerGroups, func(cg string) bool { return slices.Contains(customerGroups, cg) })
		if !covers && g.Scope.Associated && onCustomer {
			access, _, err := sn.s.graph.Check(ctx, []graph.Check{{Resource: customerObject(msp, q.ResourceID), Permission: PermissionAccess, Subject: user}}, graph.At(sn.rev))
			if err != nil {
				return nil, err
			}
			covers = access[0]
		}
		if covers {
			found.SecurityGroups = append(found.SecurityGroups, securityGroupObject(msp, id).ID)
		}
	}
	slices.Sort(ecRoles)
	found.EndCustomerRoles = ecRoles
	return grantsVia(msp, found), nil
}
