package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// methods are the HTTP methods a google.api.http rule can bind.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// route is one HTTP binding of a call of the contract.
type route struct {
	method, template string
	request          protoreflect.MessageDescriptor
	// query are the request's fields a query parameter may set: those that
	// neither the path nor the body binds.
	query []protoreflect.FieldDescriptor
}

// pathVariable is a variable of a path template: "{msp_id}".
var pathVariable = regexp.MustCompile(`\{([^}=]*)(=[^}]*)?\}`)

// rulesOf reads the HTTP bindings of every call of the contract from its
// google.api.http annotations.
func rulesOf() ([]route, error) {
	var out []route
	var err error
	protoregistry.GlobalFiles.RangeFilesByPackage(pb.File_mspauthz_v1_tenancy_proto.Package(), func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			calls := fd.Services().Get(i).Methods()
			for k := range calls.Len() {
				call := calls.Get(k)
				rule, _ := proto.GetExtension(call.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil {
					continue
				}
				for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
					rt, rerr := routeOf(call.Input(), r)
					if rerr != nil {
						err = fmt.Errorf("%s: %w", call.FullName(), rerr)
						return false
					}
					out = append(out, rt)
				}
			}
		}
		return true
	})
	return out, err
}

// routeOf is the route of one HTTP rule of a call taking request.
func routeOf(request protoreflect.MessageDescriptor, rule *annotations.HttpRule) (route, error) {
	rt := route{request: request}
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		rt.method, rt.template = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		rt.method, rt.template = http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		rt.method, rt.template = http.MethodPut, p.Put
	case *annotations.HttpRule_Patch:
		rt.method, rt.template = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		rt.method, rt.template = http.MethodDelete, p.Delete
	default:
		return route{}, fmt.Errorf("unsupported HTTP rule %v", rule)
	}
	if rule.GetBody() == "*" {
		return rt, nil
	}
	bound := map[string]bool{rule.GetBody(): true}
	for _, v := range pathVariable.FindAllStringSubmatch(rt.template, -1) {
		field, _, _ := strings.Cut(v[1], ".")
		bound[field] = true
	}
	for i := range request.Fields().Len() {
		if fd := request.Fields().Get(i); !bound[string(fd.Name())] {
			rt.query = append(rt.query, fd)
		}
	}
	return rt, nil
}

// example is a path the route serves: its template with every variable set.
func (rt route) example() string { return pathVariable.ReplaceAllString(rt.template, "x") }

// mapKey is grpc-gateway's syntax for a map entry in a query: "labels[key]".
var mapKey = regexp.MustCompile(`^(.*)\[(.*)\]$`)

// checkQuery refuses query parameters that set no field the route takes
// from the query, by the names grpc-gateway accepts: a field's proto or
// JSON name, dotted into singular messages.
func (rt route) checkQuery(query url.Values) error {
	var unknown []string
	for key := range query {
		name := key
		if m := mapKey.FindStringSubmatch(key); m != nil {
			name = m[1]
		}
		if !rt.takes(strings.Split(name, ".")) {
			unknown = append(unknown, fmt.Sprintf("%q", key))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	takes := "no query parameters"
	if len(rt.query) > 0 {
		names := make([]string, len(rt.query))
		for i, fd := range rt.query {
			names[i] = fd.JSONName()
		}
		takes = strings.Join(names, ", ")
	}
	what := "unknown query parameter"
	if len(unknown) > 1 {
		what += "s"
	}
	return status.Errorf(codes.InvalidArgument, "%s %s: %s %s takes %s", what, strings.Join(unknown, ", "), rt.method, rt.template, takes)
}

// takes reports whether a query parameter names a field the route takes
// from the query (path is the parameter's name split at its dots).
func (rt route) takes(path []string) bool {
	fields := rt.query
	for i, name := range path {
		var fd protoreflect.FieldDescriptor
		for _, f := range fields {
			if string(f.Name()) == name || f.JSONName() == name {
				fd = f
				break
			}
		}
		switch {
		case fd == nil:
			return false
		case i == len(path)-1:
			return true
		case fd.Message() == nil || fd.IsList() || fd.IsMap():
			return false
		}
		fields = fieldsOf(fd.Message())
	}
	return false
}

func fieldsOf(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	out := make([]protoreflect.FieldDescriptor, md.Fields().Len())
	for i := range out {
		out[i] = md.Fields().Get(i)
	}
	return out
}

// probeKey marks a request that only asks the mux where it would route it.
type probeKey struct{}

// probe records the pattern of the handler a probed request reached.
type probe struct {
	pattern string
	reached bool
}

// patternOf returns the pattern of the handler the mux routes a request of
// method to r's path to, without serving it.
func (g *gateway) patternOf(r *http.Request, method string) (string, bool) {
	p := &probe{}
	pr := r.Clone(context.WithValue(r.Context(), probeKey{}, p))
	pr.Method, pr.Body, pr.ContentLength = method, http.NoBody, 0
	g.mux.ServeHTTP(discard{}, pr)
	return p.pattern, p.reached
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// learnRoutes finds, for every rule of the contract, the pattern the mux
// serves it under, so that a request's pattern names its route.
func (g *gateway) learnRoutes(rules []route) error {
	g.routes = make(map[string]route, len(rules))
	for _, rt := range rules {
		r, err := http.NewRequest(rt.method, rt.example(), http.NoBody)
		if err != nil {
			return err
		}
		pattern, ok := g.patternOf(r, rt.method)
		if !ok {
			return fmt.Errorf("%s %s: the gateway does not serve it", rt.method, rt.template)
		}
		key := rt.method + " " + pattern
		if other, taken := g.routes[key]; taken {
			return fmt.Errorf("%s %s: the gateway serves it as %s", rt.method, rt.template, other.template)
		}
		g.routes[key] = rt
	}
	return nil
}

// checkRoute is the mux's middleware: it answers a probe with the pattern
// the request reached, and refuses a request whose query parameters the
// call does not take. A path variable that holds a ':' took in a custom verb
// (GET .../customers/zylker:loginAs): no id of the API has one, so the path
// is another call's, or none.
func (g *gateway) checkRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		pattern, _ := runtime.HTTPPattern(r.Context())
		verb := false
		for _, v := range params {
			verb = verb || strings.Contains(v, ":")
		}
		if p, ok := r.Context().Value(probeKey{}).(*probe); ok {
			p.pattern, p.reached = pattern.String(), !verb
			return
		}
		if verb {
			g.routingError(r.Context(), g.mux, nil, w, r, http.StatusMethodNotAllowed)
			return
		}
		rt, ok := g.routes[r.Method+" "+pattern.String()]
		if !ok {
			g.fail(w, r, status.Errorf(codes.Internal, "no route for %s %s", r.Method, pattern))
			return
		}
		if err := rt.checkQuery(r.URL.Query()); err != nil {
			g.fail(w, r, err)
			return
		}
		next(w, r, params)
	}
}

// routingError answers a request the mux does not route: a path of no call
// is 404; a path of calls that take other methods is 405, with Allow
// listing them.
func (g *gateway) routingError(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if _, ok := ctx.Value(probeKey{}).(*probe); ok {
		return
	}
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		var allow []string
		for _, m := range methods {
			if _, ok := g.patternOf(r, m); ok && m != r.Method {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			g.notFound(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		g.fail(w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus,
			Err: status.Errorf(codes.Unimplemented, "method %s is not allowed on %s: it takes %s", r.Method, r.URL.Path, strings.Join(allow, ", "))})
	case http.StatusBadRequest:
		g.fail(w, r, status.Errorf(codes.InvalidArgument, "path %q: not a path of this API", r.URL.Path))
	default:
		g.notFound(w, r)
	}
}

// notFound answers a path that is no call of the API.
func (g *gateway) notFound(w http.ResponseWriter, r *http.Request) {
	g.fail(w, r, status.Errorf(codes.NotFound, "%s %s: no such call in this API", r.Method, r.URL.EscapedPath()))
}

// fail answers err with grpc-gateway's JSON error body.
func (g *gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	_, out := runtime.MarshalerForRequest(g.mux, r)
	runtime.HTTPError(r.Context(), g.mux, out, w, r, err)
}
