package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// rolesPage is the permission catalog as a matrix of permissions (rows,
// grouped by module) × roles (columns), and the form that creates a custom
// role from another's permissions.
type rolesPage struct {
	frame
	Roles   []*pb.Role
	Modules []module
	// Create is the new role's form as posted, and the API's refusal of it.
	Create          roleDraft
	Notice, Refusal string
}

// roleDraft is what the New role form holds.
type roleDraft struct {
	ID, Name, From string
}

// module is one module of the catalog at one level (the customer's or the
// MSP's): its permissions, each with the roles that hold it.
type module struct {
	Name, Level string
	// First says it is the first module of its level.
	First       bool
	Permissions []permissionRow
}

// Title is the module's name for people: "rmm alerts".
func (m module) Title() string { return strings.ReplaceAll(m.Name, "_", " ") }

// permissionRow is one permission of the catalog: which of the page's roles
// hold it (in their order), or, in a role's editor, whether it is ticked.
type permissionRow struct {
	*pb.CatalogPermission
	Held    []bool
	Checked bool
}

// modulesOf groups the catalog by level, the customer's first, then by
// module, each in the catalog's order; Held says which of roles hold a
// permission, Checked whether checked lists it.
func modulesOf(catalog []*pb.CatalogPermission, roles []*pb.Role, checked []string) []module {
	var out []module
	index := map[[2]string]int{}
	for _, level := range []string{"customer", "msp"} {
		for _, p := range catalog {
			if p.GetLevel() != level {
				continue
			}
			key := [2]string{level, p.GetModule()}
			i, ok := index[key]
			if !ok {
				i, index[key] = len(out), len(out)
				out = append(out, module{Name: p.GetModule(), Level: level, First: len(out) == 0 || out[len(out)-1].Level != level})
			}
			r := permissionRow{CatalogPermission: p, Checked: slices.Contains(checked, p.GetPermission())}
			for _, role := range roles {
				r.Held = append(r.Held, slices.Contains(role.GetPermissions(), p.GetPermission()))
			}
			out[i].Permissions = append(out[i].Permissions, r)
		}
	}
	return out
}

// catalogAndRoles asks the API for the permission catalog and the roles at once.
func (c *call) catalogAndRoles() ([]*pb.CatalogPermission, []*pb.Role, error) {
	var catalog *pb.ListPermissionsResponse
	var roles *pb.ListRolesResponse
	err := all(func() (err error) {
		catalog, err = c.s.roles.ListPermissions(c.ctx, &pb.ListPermissionsRequest{})
		return err
	}, func() (err error) {
		roles, err = c.s.roles.ListRoles(c.ctx, &pb.ListRolesRequest{MspId: c.msp()})
		return err
	})
	return catalog.GetPermissions(), roles.GetRoles(), err
}

func (s *Server) rolesMatrix(c *call) error {
	return c.rolesPage(http.StatusOK, roleDraft{}, "")
}

func (c *call) rolesPage(code int, draft roleDraft, refusal string) error {
	catalog, roles, err := c.catalogAndRoles()
	if err != nil {
		return err
	}
	page := rolesPage{frame: c.frame("Roles", "roles"), Roles: roles, Modules: modulesOf(catalog, roles, nil), Create: draft, Refusal: refusal, Notice: notices[c.done()]}
	c.render(code, "roles", page)
	return nil
}

// createRole creates a custom role with the permissions of the role it
// starts from, and opens it to be edited; a refusal stays on the matrix
// with the form as posted.
func (s *Server) createRole(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	draft := roleDraft{ID: strings.TrimSpace(c.r.PostForm.Get("roleId")), Name: strings.TrimSpace(c.r.PostForm.Get("displayName")), From: c.r.PostForm.Get("from")}
	var permissions []string
	if draft.From != "" {
		from, err := s.roles.GetRole(c.ctx, &pb.GetRoleRequest{MspId: c.msp(), RoleId: draft.From})
		if err != nil {
			return c.refusedWith(err, func(msg string) error { return c.rolesPage(http.StatusBadRequest, draft, msg) })
		}
		permissions = from.GetPermissions()
	}
	if _, err := s.roles.CreateRole(c.ctx, &pb.CreateRoleRequest{MspId: c.msp(), RoleId: draft.ID, DisplayName: draft.Name, Permissions: permissions}); err != nil {
		return c.refusedWith(err, func(msg string) error { return c.rolesPage(http.StatusBadRequest, draft, msg) })
	}
	c.seeOther("/roles/"+url.PathEscape(draft.ID), "created")
	return nil
}

// rolePage is one role: its permissions by module, editable for a custom
// role, and the security groups that bind it.
type rolePage struct {
	frame
	Role    *pb.Role
	Modules []module
	// Groups are the security groups that bind the role; Bound says the
	// caller may list them.
	Groups  []*pb.SecurityGroup
	Bound   bool
	Notice  string
	Refusal string
}

func (s *Server) role(c *call) error {
	return c.rolePage(http.StatusOK, nil, "")
}

// rolePage draws the role as saved, or as a refused save left it (draft).
func (c *call) rolePage(code int, draft *pb.Role, refusal string) error {
	id := c.r.PathValue("role")
	var role *pb.Role
	var catalog *pb.ListPermissionsResponse
	var groups *pb.ListSecurityGroupsResponse
	var groupsErr error
	err := all(func() (err error) {
		role, err = c.s.roles.GetRole(c.ctx, &pb.GetRoleRequest{MspId: c.msp(), RoleId: id})
		return err
	}, func() (err error) {
		catalog, err = c.s.roles.ListPermissions(c.ctx, &pb.ListPermissionsRequest{})
		return err
	}, func() error {
		groups, groupsErr = c.s.roles.ListSecurityGroups(c.ctx, &pb.ListSecurityGroupsRequest{MspId: c.msp()})
		return ignoreHidden(groupsErr)
	})
	if err != nil {
		return err
	}
	shown := role
	if draft != nil {
		shown = draft
	}
	page := rolePage{frame: c.frame(role.GetDisplayName(), "roles"), Role: shown, Refusal: refusal, Notice: notices[c.done()],
		Modules: modulesOf(catalog.GetPermissions(), nil, shown.GetPermissions()), Bound: groupsErr == nil}
	for _, g := range groups.GetSecurityGroups() {
		if g.GetRoleId() == id {
			page.Groups = append(page.Groups, g)
		}
	}
	c.render(code, "role", page)
	return nil
}

// saveRole replaces a custom role's name and permissions with the form's.
func (s *Server) saveRole(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	draft := &pb.Role{RoleId: c.r.PathValue("role"), DisplayName: strings.TrimSpace(c.r.PostForm.Get("displayName")), Permissions: dedupe(c.r.PostForm["permissions"])}
	if _, err := s.roles.ReplaceRole(c.ctx, &pb.ReplaceRoleRequest{MspId: c.msp(), RoleId: draft.GetRoleId(), DisplayName: draft.GetDisplayName(), Permissions: draft.GetPermissions()}); err != nil {
		return c.refusedWith(err, func(msg string) error { return c.rolePage(http.StatusBadRequest, draft, msg) })
	}
	c.seeOther("/roles/"+url.PathEscape(draft.GetRoleId()), "saved")
	return nil
}

// deleteRole deletes a custom role; the API refuses one a security group
// still binds, naming the groups.
func (s *Server) deleteRole(c *call) error {
	if _, err := s.roles.DeleteRole(c.ctx, &pb.DeleteRoleRequest{MspId: c.msp(), RoleId: c.r.PathValue("role")}); err != nil {
		return c.refusedWith(err, func(msg string) error { return c.rolePage(http.StatusBadRequest, nil, msg) })
	}
	c.seeOther("/roles", "deleted")
	return nil
}
