package reach

import (
	"fmt"
	"slices"
	"sort"

	core "github.com/authzed/spicedb/pkg/proto/core/v1"
	"github.com/authzed/spicedb/pkg/schemadsl/compiler"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/schema"
)

// The index evaluates the schema itself: schema/msp.zed, which go generate
// renders from the permission catalog, compiled here as SpiceDB compiles it.
// Every permission of every definition becomes an expression over the
// relations it reads, and the index holds exactly those relations: a
// permission added to the catalog is answered from memory by the same
// expression SpiceDB evaluates, and cannot be answered one way there and
// another here. What the index cannot evaluate the same way (a caveat, a
// subject relation, an all() arrow, self) is marked unsupported, and SpiceDB
// answers it.

// program is a schema compiled for the index.
type program struct {
	types  []*objType
	byName map[string]*objType
	// held are the relations the index holds, one per (resource type,
	// relation, subject type): those any permission reads, and user#msp
	// (which proves a user exists).
	held []*heldRel
	keys map[relKey]*heldRel
	// filters select the held relations: what the index reads at a snapshot
	// and watches from there.
	filters []graph.Filter

	// access is customer#access, which the sets intersect directly (store.go).
	access *expr
	// The types and relations the index's own questions name (store.go).
	user, customer, customerGroup, msp, securityGroup, grant *objType
	direct, grouped, members, staff, customerMSP, userMSP    int
	sgMembers, customerSGs, groupSGs, allSGs, associatedSGs  int
	customerGrants                                           int
}

// objType is one definition of the schema.
type objType struct {
	idx  int
	name string
	// rels are its relations and permissions by name.
	rels map[string]*expr
}

// heldRel is a relation the index holds, towards one subject type.
type heldRel struct {
	idx                int
	resource, subject  *objType
	relation           string
	wildcard, expiring bool
}

type relKey struct {
	resource, relation, subject string
	wildcard                    bool
}

type op uint8

const (
	opNil       op = iota // nothing
	opThis                // the relation's own relationships (held)
	opComputed            // another relation or permission of the same object
	opArrow               // for each subject of a relation, one of its relations or permissions
	opUnion               // any of kids
	opIntersect           // all of kids
	opExclude             // kids[0] but none of the others
)

// expr is a relation or permission as the index evaluates it.
type expr struct {
	op   op
	kids []*expr
	// this: the relation's relationships by subject type.
	this []*heldRel
	// computed: the relation or permission of the same type, by name
	// (target, once linked).
	name   string
	target *expr
	// arrow: through each relationship of tupleset, the computed relation
	// (name) of its subject's type; steps once linked.
	tupleset string
	steps    []arrowStep
	// unsupported says why the index cannot evaluate it as SpiceDB does
	// ("" when it can).
	unsupported string
	// on is the type the expression belongs to.
	on *objType
	// read marks a relation (not a permission) some permission reads.
	read bool
	// relation is a relation's own expression (not a permission's), and
	// the subject types it allows.
	relation bool
	allowed  []*core.AllowedRelation
}

type arrowStep struct {
	via  *heldRel
	then *expr
}

// prog is mspauthz's schema, compiled for the index.
var prog = mustCompile(schema.Text)

func mustCompile(text string) *program {
	p, err := compile(text)
	if err != nil {
		panic(fmt.Sprintf("reach: the schema does not compile for the index: %v", err))
	}
	return p
}

// compile compiles a schema for the index.
func compile(text string) (*program, error) {
	compiled, err := compiler.Compile(compiler.InputSchema{Source: "schema", SchemaString: text}, compiler.AllowUnprefixedObjectType())
	if err != nil {
		return nil, err
	}
	p := &program{byName: map[string]*objType{}, keys: map[relKey]*heldRel{}}
	defs := compiled.ObjectDefinitions
	for i, d := range defs {
		t := &objType{idx: i, name: d.GetName(), rels: map[string]*expr{}}
		p.types = append(p.types, t)
		p.byName[t.name] = t
	}
	// Each relation's and permission's expression.
	for i, d := range defs {
		t := p.types[i]
		for _, r := range d.GetRelation() {
			if rw := r.GetUsersetRewrite(); rw != nil {
				t.rels[r.GetName()] = p.rewrite(t, r.GetName(), rw)
			} else {
				t.rels[r.GetName()] = &expr{op: opThis, on: t, name: r.GetName(), relation: true, allowed: r.GetTypeInformation().GetAllowedDirectRelations()}
			}
		}
	}
	// Link every name, and mark what permissions read.
	for _, t := range p.types {
		for _, e := range t.rels {
			if !e.relation {
				p.link(e)
			}
		}
	}
	user := p.byName["user"]
	if user == nil || user.rels["msp"] == nil {
		return nil, fmt.Errorf("no user#msp")
	}
	user.rels["msp"].read = true
	// The held relations: those read, towards each subject type allowed.
	for _, d := range defs {
		t := p.byName[d.GetName()]
		for _, r := range d.GetRelation() {
			e := t.rels[r.GetName()]
			if !e.relation {
				continue
			}
			if !e.read {
				e.unsupported = fmt.Sprintf("%s#%s is not held: no permission reads it", t.name, e.name)
				continue
			}
			for _, a := range e.allowed {
				sub := p.byName[a.GetNamespace()]
				switch {
				case sub == nil:
					return nil, fmt.Errorf("%s#%s: unknown subject type %s", t.name, e.name, a.GetNamespace())
				case a.GetRequiredCaveat() != nil:
					e.unsupported = fmt.Sprintf("%s#%s has a caveat", t.name, e.name)
					continue
				case a.GetPublicWildcard() == nil && a.GetRelation() != "...":
					e.unsupported = fmt.Sprintf("%s#%s allows the subject relation %s#%s", t.name, e.name, sub.name, a.GetRelation())
					continue
				}
				h := &heldRel{idx: len(p.held), resource: t, subject: sub, relation: e.name, wildcard: a.GetPublicWildcard() != nil, expiring: a.GetRequiredExpiration() != nil}
				p.held = append(p.held, h)
				p.keys[relKey{t.name, e.name, sub.name, h.wildcard}] = h
				e.this = append(e.this, h)
			}
		}
	}
	for _, t := range p.types {
		for _, e := range t.rels {
			p.resolve(e)
		}
	}
	for _, t := range p.types {
		for _, e := range t.rels {
			spread(e, map[*expr]bool{})
		}
	}
	p.filters = filtersOf(p.held)
	if err := p.names(); err != nil {
		return nil, err
	}
	return p, nil
}

// rewrite compiles a permission's userset rewrite.
func (p *program) rewrite(t *objType, name string, rw *core.UsersetRewrite) *expr {
	var set *core.SetOperation
	var o op
	switch {
	case rw.GetUnion() != nil:
		set, o = rw.GetUnion(), opUnion
	case rw.GetIntersection() != nil:
		set, o = rw.GetIntersection(), opIntersect
	case rw.GetExclusion() != nil:
		set, o = rw.GetExclusion(), opExclude
	default:
		return &expr{op: opNil, on: t, unsupported: name + ": an unknown rewrite"}
	}
	e := &expr{op: o, on: t, name: name}
	for _, c := range set.GetChild() {
		e.kids = append(e.kids, p.child(t, name, c))
	}
	return e
}

func (p *program) child(t *objType, name string, c *core.SetOperation_Child) *expr {
	switch {
	case c.GetComputedUserset() != nil:
		return &expr{op: opComputed, on: t, name: c.GetComputedUserset().GetRelation()}
	case c.GetTupleToUserset() != nil:
		a := c.GetTupleToUserset()
		return &expr{op: opArrow, on: t, tupleset: a.GetTupleset().GetRelation(), name: a.GetComputedUserset().GetRelation()}
	case c.GetFunctionedTupleToUserset() != nil:
		a := c.GetFunctionedTupleToUserset()
		e := &expr{op: opArrow, on: t, tupleset: a.GetTupleset().GetRelation(), name: a.GetComputedUserset().GetRelation()}
		if a.GetFunction() != core.FunctionedTupleToUserset_FUNCTION_ANY {
			e.unsupported = name + ": an all() arrow"
		}
		return e
	case c.GetUsersetRewrite() != nil:
		return p.rewrite(t, name, c.GetUsersetRewrite())
	case c.GetXNil() != nil:
		return &expr{op: opNil, on: t}
	case c.GetXThis() != nil:
		return &expr{op: opNil, on: t, unsupported: name + ": _this in a permission"}
	}
	return &expr{op: opNil, on: t, unsupported: name + ": self, or an unknown operation"}
}

// link marks the relations a permission's expression reads.
func (p *program) link(e *expr) {
	switch e.op {
	case opComputed:
		if r := e.on.rels[e.name]; r != nil && r.relation {
			r.read = true
		}
	case opArrow:
		ts := e.on.rels[e.tupleset]
		if ts == nil {
			break
		}
		ts.read = true
		for _, a := range ts.allowed {
			if sub := p.byName[a.GetNamespace()]; sub != nil {
				if r := sub.rels[e.name]; r != nil && r.relation {
					r.read = true
				}
			}
		}
	}
	for _, k := range e.kids {
		p.link(k)
	}
}

// resolve links computed names and arrow steps to their expressions, once
// the held relations are known. An arrow's computed name exists on some of
// its subject types only: SpiceDB skips the others, and so do the steps.
func (p *program) resolve(e *expr) {
	switch e.op {
	case opComputed:
		if e.target = e.on.rels[e.name]; e.target == nil {
			e.unsupported = fmt.Sprintf("%s: no %s", e.on.name, e.name)
		}
	case opArrow:
		ts := e.on.rels[e.tupleset]
		if ts == nil || !ts.relation {
			e.unsupported = fmt.Sprintf("%s: %s is not a relation", e.on.name, e.tupleset)
			break
		}
		for _, h := range ts.this {
			if then := h.subject.rels[e.name]; then != nil {
				e.steps = append(e.steps, arrowStep{via: h, then: then})
			}
		}
		if ts.unsupported != "" {
			e.unsupported = ts.unsupported
		}
	}
	for _, k := range e.kids {
		p.resolve(k)
	}
}

// spread marks unsupported every expression that reads one that is.
func spread(e *expr, seen map[*expr]bool) string {
	if seen[e] {
		return e.unsupported
	}
	seen[e] = true
	for _, k := range e.kids {
		if why := spread(k, seen); why != "" && e.unsupported == "" {
			e.unsupported = why
		}
	}
	if e.target != nil {
		if why := spread(e.target, seen); why != "" && e.unsupported == "" {
			e.unsupported = why
		}
	}
	for _, s := range e.steps {
		if why := spread(s.then, seen); why != "" && e.unsupported == "" {
			e.unsupported = why
		}
	}
	return e.unsupported
}

// wideFilter is how many relations of a type the index may hold before it
// reads and watches the type whole (a role holds one per permission).
const wideFilter = 16

// filtersOf selects the held relations: one filter per relation, or one per
// type for a type of many.
func filtersOf(held []*heldRel) []graph.Filter {
	byType := map[string][]string{}
	for _, h := range held {
		if !slices.Contains(byType[h.resource.name], h.relation) {
			byType[h.resource.name] = append(byType[h.resource.name], h.relation)
		}
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	var out []graph.Filter
	for _, t := range types {
		rels := byType[t]
		if len(rels) >= wideFilter {
			out = append(out, graph.Filter{ResourceType: t})
			continue
		}
		sort.Strings(rels)
		for _, r := range rels {
			out = append(out, graph.Filter{ResourceType: t, Relation: r})
		}
	}
	return out
}

// names finds the types and relations the index's own questions name: the
// paths of access and the grants of catalog permissions.
func (p *program) names() error {
	var missing []string
	typ := func(name string) *objType {
		t := p.byName[name]
		if t == nil {
			missing = append(missing, name)
			return &objType{}
		}
		return t
	}
	p.user, p.customer, p.customerGroup, p.msp = typ(typeUser), typ(typeCustomer), typ(typeCustomerGroup), typ(typeMSP)
	p.securityGroup, p.grant = typ(typeSecurityGroup), typ(typeGrant)
	if p.access = p.customer.rels[PermissionAccess]; p.access == nil {
		missing = append(missing, "customer#"+PermissionAccess)
	}
	rel := func(resource *objType, relation string, subject *objType) int {
		h := p.keys[relKey{resource.name, relation, subject.name, false}]
		if h == nil {
			missing = append(missing, resource.name+"#"+relation+"@"+subject.name)
			return 0
		}
		return h.idx
	}
	p.direct = rel(p.customer, relDirect, p.user)
	p.grouped = rel(p.customer, relCustomerGroup, p.customerGroup)
	p.members = rel(p.customerGroup, relMember, p.user)
	p.staff = rel(p.msp, relMember, p.user)
	p.customerMSP = rel(p.customer, relMSP, p.msp)
	p.userMSP = rel(p.user, relMSP, p.msp)
	p.sgMembers = rel(p.securityGroup, relMember, p.user)
	p.customerSGs = rel(p.customer, relSecurityGroup, p.securityGroup)
	p.groupSGs = rel(p.customerGroup, relSecurityGroup, p.securityGroup)
	p.allSGs = rel(p.msp, relAllSecurityGroups, p.securityGroup)
	p.associatedSGs = rel(p.msp, relAssociatedSecurityGroups, p.securityGroup)
	p.customerGrants = rel(p.customer, relGrant, p.grant)
	if len(missing) > 0 {
		return fmt.Errorf("the schema lacks what the index names: %v", missing)
	}
	return nil
}

// Permissions are the permissions of objectType the index answers, sorted.
func Permissions(objectType string) []string {
	t := prog.byName[objectType]
	if t == nil {
		return nil
	}
	var out []string
	for name, e := range t.rels {
		if !e.relation && e.unsupported == "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
