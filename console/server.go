package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/auth"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/htmx.min.js static/console.css
var staticFiles embed.FS

// ContentSecurityPolicy is what the console's pages may load: their own
// scripts, styles and images, nothing inline, and no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// fragments are the parts of a page that htmx asks for alone: a form's
// preview and the options a choice finds.
var fragments = []string{"preview", "options"}

// Server is the console: its pages call the API over conn.
type Server struct {
	tenancy pb.TenancyServiceClient
	access  pb.AccessServiceClient
	tokens  pb.TokenServiceClient
	roles   pb.RoleServiceClient
	// endCustomers is the API of customers' own users and the MSP's settings.
	endCustomers pb.EndCustomerServiceClient
	grants       pb.GrantServiceClient
	partner      pb.PartnerServiceClient
	audit        pb.AuditServiceClient
	sync         pb.SyncServiceClient
	log          *slog.Logger
	csrf         *http.CrossOriginProtection
	pages        map[string]*template.Template
	// permissions are the sessions' MSP-level permissions, by the SHA-256
	// of their cookie (knownPermissions).
	permissions sync.Map
}

// New returns the console over a connection to mspauthz's gRPC API.
func New(conn grpc.ClientConnInterface, log *slog.Logger) *Server {
	s := &Server{
		tenancy:      pb.NewTenancyServiceClient(conn),
		access:       pb.NewAccessServiceClient(conn),
		tokens:       pb.NewTokenServiceClient(conn),
		roles:        pb.NewRoleServiceClient(conn),
		endCustomers: pb.NewEndCustomerServiceClient(conn),
		grants:       pb.NewGrantServiceClient(conn),
		partner:      pb.NewPartnerServiceClient(conn),
		audit:        pb.NewAuditServiceClient(conn),
		sync:         pb.NewSyncServiceClient(conn),
		log:          log,
		csrf:         http.NewCrossOriginProtection(),
		pages:        map[string]*template.Template{},
	}
	for _, name := range []string{"customers", "customer", "customerGroups", "customerGroup", "users", "user", "picture", "explain", "problem", "roles", "role", "securityGroups", "securityGroup", "endCustomerUsers", "grants", "own", "audit", "globalView", "sync"} {
		s.pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	for _, fragment := range fragments {
		s.pages[fragment] = template.Must(template.New(fragment).Funcs(funcs).ParseFS(templateFiles, "templates/parts.html"))
	}
	return s
}

// Register adds the console's routes to mux: every page, form and preview
// of the console, and its assets. This is the only place routes are named.
func (s *Server) Register(mux *http.ServeMux) {
	assets, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /assets/", secured(http.StripPrefix("/assets/", http.FileServerFS(assets))))
	routes := map[string]handler{
		"GET /{$}":                                                  s.home,
		"GET /customers":                                            s.customers,
		"GET /customers/{customer}":                                 s.customer,
		"POST /customers/{customer}":                                s.saveCustomer,
		"POST /customers/{customer}/preview":                        s.previewCustomer,
		"POST /customers/{customer}/accountContact":                 s.setAccountContact,
		"POST /customers/{customer}/alertGroups/{alertGroup}":       s.setAlertGroup,
		"GET /customers/{customer}/picture":                         s.customerPicture,
		"GET /customerGroups":                                       s.customerGroups,
		"GET /customerGroups/{group}":                               s.customerGroup,
		"POST /customerGroups/{group}":                              s.saveCustomerGroup,
		"POST /customerGroups/{group}/preview":                      s.previewCustomerGroup,
		"GET /users":                                                s.users,
		"GET /users/{user}":                                         s.user,
		"POST /users/{user}":                                        s.saveUser,
		"POST /users/{user}/preview":                                s.previewUser,
		"GET /users/{user}/picture":                                 s.userPicture,
		"GET /customers/{customer}/options/{field}":                 s.options("customerGroups", "users"),
		"GET /customerGroups/{group}/options/{field}":               s.options("customers"),
		"GET /users/{user}/options/{field}":                         s.options("customerGroups"),
		"GET /securityGroups/{group}/options/{field}":               s.options("users"),
		"GET /explain":                                              s.explain,
		"GET /roles":                                                s.rolesMatrix,
		"POST /roles":                                               s.createRole,
		"GET /roles/{role}":                                         s.role,
		"POST /roles/{role}":                                        s.saveRole,
		"POST /roles/{role}/delete":                                 s.deleteRole,
		"GET /securityGroups":                                       s.securityGroups,
		"POST /securityGroups":                                      s.createSecurityGroup,
		"GET /securityGroups/{group}":                               s.securityGroup,
		"POST /securityGroups/{group}/members":                      s.setSecurityGroupMembers,
		"POST /securityGroups/{group}/delete":                       s.deleteSecurityGroup,
		"POST /users":                                               s.addUser,
		"POST /users/{user}/securityGroups":                         s.assignSecurityGroups,
		"POST /users/{user}/release":                                s.releaseUser,
		"GET /customers/{customer}/endCustomerUsers":                s.endCustomerUsers,
		"POST /customers/{customer}/endCustomerUsers":               s.addEndCustomerUser,
		"POST /customers/{customer}/endCustomerUsers/roleSelection": s.setRoleSelection,
		"GET /grants":                                               s.timeBoundGrants,
		"POST /grants":                                              s.requestGrant,
		"POST /grants/{grant}/revoke":                               s.decideGrant("revoke", mspGrants),
		"GET /customers/{customer}/own":                             s.own,
		"POST /customers/{customer}/own/partnerAccess":              s.setPartnerAccess,
		"POST /customers/{customer}/own/grants/{grant}/approve":     s.decideGrant("approve", customerOwn),
		"POST /customers/{customer}/own/grants/{grant}/decline":     s.decideGrant("decline", customerOwn),
		"POST /customers/{customer}/own/grants/{grant}/revoke":      s.decideGrant("revoke", customerOwn),
		"GET /audit":                                                s.auditTrail,
		"POST /customers/{customer}/loginAs":                        s.loginAs,
		"GET /globalViews/{view}":                                   s.globalView,
		"GET /syncs":                                                s.syncs,
		"GET /syncs/{system}":                                       s.syncSystem,
		"POST /syncs/{system}":                                      s.runSync,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, s.serve(h))
	}
}

// handler serves one route with a call: the request, in the signed-in
// user's name.
type handler func(c *call) error

// call is one request to the console: the API calls it makes carry the
// session of the browser that made it.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	s   *Server
	// caller is who the API says is signed in (GET /v1/caller).
	caller *pb.Caller
	// permissions answers, once, the caller in the API's FULL view: the
	// MSP-level permissions it says he holds, and his own domain if he may
	// switch to it (asked beside the page's own calls: only the navigation
	// needs them).
	permissions func() *pb.Caller
}

// permissionsOf asks the API, in the background, which MSP-level
// permissions the caller of session holds; the function it returns waits
// for the answer (none if the API fails to give it: the navigation then
// offers only what everyone sees, and the API still decides every page).
// An answer serves the session's pages for permissionsTTL.
func (s *Server) permissionsOf(ctx context.Context, session string) func() *pb.Caller {
	key := sha256.Sum256([]byte(session))
	if v, ok := s.permissions.Load(key); ok && time.Since(v.(knownPermissions).at) < permissionsTTL {
		return func() *pb.Caller { return v.(knownPermissions).full }
	}
	done := make(chan *pb.Caller, 1)
	go func() {
		full, err := s.tokens.GetCaller(ctx, &pb.GetCallerRequest{View: pb.View_FULL})
		if err != nil {
			s.log.Warn("console: the caller's permissions", "error", err.Error())
		} else {
			s.permissions.Store(key, knownPermissions{at: time.Now(), full: full})
			s.permissions.Range(func(k, v any) bool { // forget the sessions gone quiet
				if time.Since(v.(knownPermissions).at) >= permissionsTTL {
					s.permissions.Delete(k)
				}
				return true
			})
		}
		done <- full
	}()
	return sync.OnceValue(func() *pb.Caller { return <-done })
}

// permissionsTTL is how long the console's navigation trusts what the API
// said of a session's MSP-level permissions: a right taken away leaves a
// link for so long, which the API then refuses.
const permissionsTTL = 10 * time.Second

// knownPermissions is what the API said of a session's permissions, when.
type knownPermissions struct {
	at   time.Time
	full *pb.Caller
}

// secured sets the headers every answer of the console carries.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// serve runs h as the browser's signed-in user: without a session it sends
// the browser to sign in (and back); a state-changing request from another
// site is refused before any call (http.CrossOriginProtection).
func (s *Server) serve(h handler) http.Handler {
	return secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c := &call{w: w, r: r, s: s}
		if err := s.csrf.Check(r); err != nil {
			c.problem(http.StatusForbidden, "A "+r.Method+" from another site was refused ("+err.Error()+"); nothing was done.")
			return
		}
		cookie, err := r.Cookie(auth.SessionCookie)
		if err != nil || cookie.Value == "" {
			c.signIn()
			return
		}
		c.ctx = metadata.AppendToOutgoingContext(r.Context(), auth.SessionMetadata, cookie.Value)
		if c.caller, err = s.tokens.GetCaller(c.ctx, &pb.GetCallerRequest{View: pb.View_BASIC}); err == nil {
			c.permissions = s.permissionsOf(c.ctx, cookie.Value)
			err = h(c)
		}
		if err != nil {
			c.fail(err)
		}
	}))
}

// signIn sends the browser to the sign-in page, to come back here; an htmx
// request (a preview) is told to reload there.
func (c *call) signIn() {
	target := "/signin?return=" + url.QueryEscape(c.back())
	if c.r.Header.Get("HX-Request") != "" {
		c.w.Header().Set("HX-Redirect", target)
		c.w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(c.w, c.r, target, http.StatusSeeOther)
}

// back is the page to come back to after signing in: this one, or for a
// post that acts on a page (its last segment one of actions), that page.
func (c *call) back() string {
	path := c.r.URL.Path
	if c.r.Method != http.MethodGet {
		if i := strings.Index(path, "/alertGroups/"); i > 0 {
			return path[:i]
		}
		for _, a := range actions {
			if page, ok := strings.CutSuffix(path, a); ok && page != "" {
				return page
			}
		}
		return path
	}
	if c.r.URL.RawQuery != "" {
		path += "?" + c.r.URL.RawQuery
	}
	return path
}

// actions are the last segments of the posts that act on the page before
// them: a form's preview, a contact, a delete, members, security groups.
var actions = []string{"/preview", "/accountContact", "/delete", "/members", "/securityGroups", "/release", "/roleSelection"}

// fail shows the API's refusal: an ended session signs in again.
func (c *call) fail(err error) {
	st := status.Convert(err)
	if st.Code() == codes.Unauthenticated {
		c.signIn()
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	code := httpStatus(st.Code())
	msg := st.Message()
	if code == http.StatusInternalServerError {
		c.s.log.Error("console page failed", "path", c.r.URL.Path, "error", err.Error())
		msg = "internal error"
	}
	c.problem(code, msg)
}

// httpStatus is the status of a page the API refused with code.
func httpStatus(code codes.Code) int {
	switch code {
	case codes.NotFound:
		return http.StatusNotFound
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.InvalidArgument, codes.FailedPrecondition:
		return http.StatusBadRequest
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// frame is what every page shows around its content.
type frame struct {
	Title  string
	Nav    string
	Caller *pb.Caller
	// permissions are the caller's MSP-level permissions and own domain
	// (call.permissions), asked when the page began and awaited when it is
	// drawn.
	permissions func() *pb.Caller
	// OnOwnDomain says the page is of the MSP's own domain (the switch shows
	// it as the current side).
	OnOwnDomain bool
}

// problemPage is the page of a refusal.
type problemPage struct {
	frame
	Status  int
	Message string
}

func (c *call) problem(code int, msg string) {
	c.render(code, "problem", problemPage{frame: frame{Title: http.StatusText(code), Caller: c.caller, permissions: c.permissions}, Status: code, Message: msg})
}

// May says whether the caller holds an MSP-level permission, as the API
// answered for this page: the navigation offers only the pages he may use
// (the API still refuses the others, should he type their address).
func (f frame) May(permission string) bool {
	return f.Caller.GetPlatform() || f.permissions != nil && slices.Contains(f.permissions().GetMspPermissions(), permission)
}

// OwnDomain is the MSP's own domain when the caller may switch between the
// partner view and it (seed 003), else "".
func (f frame) OwnDomain() string {
	if f.permissions == nil {
		return ""
	}
	return f.permissions().GetOwnDomainCustomerId()
}

func (c *call) frame(title, nav string) frame {
	return frame{Title: title, Nav: nav, Caller: c.caller, permissions: c.permissions}
}

// render writes page name filled with data.
func (c *call) render(code int, name string, data any) {
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.w.WriteHeader(code)
	t := c.s.pages[name]
	entry := "layout"
	if slices.Contains(fragments, name) {
		entry = name
	}
	if err := t.ExecuteTemplate(c.w, entry, data); err != nil {
		c.s.log.Error("render a console page", "page", name, "error", err.Error())
	}
}

// home is the console's first page: the customers.
func (s *Server) home(c *call) error {
	http.Redirect(c.w, c.r, "/customers", http.StatusSeeOther)
	return nil
}
