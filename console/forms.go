package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// formView is a form of choices (each a multi-select of checkboxes): one of
// the three association forms, or a security group's members; where it
// saves and previews, and the report of its last save or refusal.
type formView struct {
	// Action saves the form; Preview, when set, answers a validateOnly save
	// of it (a security group's members have none).
	Action, Preview string
	Choices         []choice
	// Result is the report of the save just made, or its refusal.
	Result *reportView
}

// choice is one multi-select of a form.
type choice struct {
	Legend string
	// Field is the form field of its values (the API's selection).
	Field string
	Rows  []row
	// Find is where the choice finds options it does not list (past
	// maxOffered), by id or name; What names them ("customers").
	Find, What string
}

// finder is the address that finds a form's options of field, when the
// list goes on past those offered (more), else "".
func finder(more bool, form, field string) string {
	if !more {
		return ""
	}
	return form + "/options/" + field
}

// row is one checkbox of a choice: an object, whether it is selected, and
// the blocks of a refused save that concern it.
type row struct {
	ID, Name, Meta string
	Checked        bool
	Blocks         []string
}

// selection is what a posted form selects: each field's values; Posted
// says the form was posted whole (its marker field is there), so that an
// empty selection is meant.
type selection struct {
	Values map[string][]string
	Posted bool
}

// selectionOf reads a posted form's selection of fields.
func selectionOf(r *http.Request, fields ...string) (selection, error) {
	if err := r.ParseForm(); err != nil {
		return selection{}, err
	}
	s := selection{Values: map[string][]string{}, Posted: r.PostForm.Get("selection") != ""}
	for _, f := range fields {
		s.Values[f] = dedupe(r.PostForm[f])
	}
	return s, nil
}

// removed are the ids of was that now leaves out.
func removed(was, now []string) []string {
	var out []string
	for _, id := range was {
		if !slices.Contains(now, id) {
			out = append(out, id)
		}
	}
	return out
}

// blocksOf are the texts of the blocks of result about one row: whose user,
// or customer, is id; or whose user is among members of a row the
// selection takes out.
func blocksOf(result *reportView, match func(b blockView) bool) []string {
	if result == nil {
		return nil
	}
	var out []string
	for _, b := range result.Blocks {
		if match(b) {
			out = append(out, b.Text)
		}
	}
	return out
}

// withSelection is the rows of a choice: every option, checked when
// selected, and a row for each id of saved or selected that is not among
// the options (a list past maxOffered offers only its first items; the saved
// and the selected are always there in full, so that a save never drops
// what the form did not show), named by name; ordered by sorted.
func withSelection(options []row, saved, selected []string, name func(id string) string) []row {
	rows := make([]row, 0, len(options)+len(selected))
	listed := map[string]bool{}
	for _, o := range options {
		o.Checked = slices.Contains(selected, o.ID)
		listed[o.ID] = true
		rows = append(rows, o)
	}
	for _, id := range dedupe(append(slices.Clone(saved), selected...)) {
		if !listed[id] {
			rows = append(rows, row{ID: id, Name: name(id), Meta: id, Checked: slices.Contains(selected, id)})
		}
	}
	return sorted(rows)
}

// rowsOfCustomers, rowsOfGroups and rowsOfUsers are the options of a
// choice: a row for each object the API listed.
func rowsOfCustomers(cs []*pb.Customer) []row {
	out := make([]row, len(cs))
	for i, cu := range cs {
		out[i] = row{ID: cu.GetCustomerId(), Name: cu.GetDisplayName(), Meta: cu.GetCustomerId()}
	}
	return out
}

func rowsOfGroups(gs []*pb.CustomerGroup) []row {
	out := make([]row, len(gs))
	for i, g := range gs {
		out[i] = row{ID: g.GetCustomerGroupId(), Name: g.GetDisplayName()}
	}
	return out
}

func rowsOfUsers(us []*pb.User) []row {
	out := make([]row, len(us))
	for i, u := range us {
		out[i] = row{ID: u.GetUserId(), Name: u.GetDisplayName(), Meta: u.GetUserId()}
	}
	return out
}

// sorted orders rows: the selected first, then by name.
func sorted(rows []row) []row {
	slices.SortStableFunc(rows, func(a, b row) int {
		if a.Checked != b.Checked {
			if a.Checked {
				return -1
			}
			return 1
		}
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		return 0
	})
	return rows
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// previewView is what a form's preview shows: the report of a validateOnly
// save and its picture.
type previewView struct {
	Report  *reportView
	Picture *picture
}

// optionsView is what a choice's search found: unticked rows to add to the
// form.
type optionsView struct {
	Field, Find string
	Rows        []row
}

// options answers a choice's search: up to maxFound options of field (one
// of fields, the form's) whose id or name holds the text, leaving out those
// the form has ticked already.
func (s *Server) options(fields ...string) handler {
	return func(c *call) error {
		field := c.r.PathValue("field")
		if !slices.Contains(fields, field) {
			c.problem(http.StatusNotFound, "This form has no choice "+field+".")
			return nil
		}
		q := c.r.URL.Query()
		view := optionsView{Field: field, Find: strings.TrimSpace(q.Get("find"))}
		ticked := q[field]
		var rows []row
		switch field {
		case "customerGroups":
			found, _, err := c.offeredGroups(view.Find, maxFound+len(ticked))
			if err != nil {
				return err
			}
			rows = rowsOfGroups(found)
		case "users":
			found, _, err := c.offeredUsers(view.Find, maxFound+len(ticked))
			if err != nil {
				return err
			}
			rows = rowsOfUsers(found)
		case "customers":
			found, _, err := c.searchCustomers(view.Find, "", maxFound+len(ticked))
			if err != nil {
				return err
			}
			rows = rowsOfCustomers(found)
		}
		rows = slices.DeleteFunc(rows, func(r row) bool { return slices.Contains(ticked, r.ID) })
		view.Rows = rows[:min(len(rows), maxFound)]
		c.render(http.StatusOK, "options", view)
		return nil
	}
}

// formPage draws a form: as saved (at least as fresh as fresh), or with the
// selection a refused save left and result's blocks beside its rows.
type formPage func(code int, sel *selection, result *reportView, fresh string) error

// saved answers a form's Save: the real report, with the form read back at
// its ZedToken; a refused save keeps the form as the person left it (sel),
// the blocks beside its rows, and nothing written.
func (c *call) saved(rep *pb.SaveReport, saveErr error, sel *selection, page formPage) error {
	result, err := c.reportOf(rep, saveErr, false, newNames())
	if err != nil {
		return err
	}
	if result.WrittenAt == "" {
		return page(http.StatusBadRequest, sel, result, "")
	}
	return page(http.StatusOK, nil, result, result.WrittenAt)
}

// previewed answers a form's preview: the report of its validateOnly save
// and, when the save would pass, the picture draw makes of what it changes
// (its names in n, which the report's lines share).
func (c *call) previewed(rep *pb.SaveReport, saveErr error, draw func(n *names) (*picture, error)) error {
	n := newNames()
	report, err := c.reportOf(rep, saveErr, true, n)
	if err != nil {
		return err
	}
	view := previewView{Report: report}
	if saveErr == nil {
		if view.Picture, err = draw(n); err != nil {
			return err
		}
	}
	c.render(http.StatusOK, "preview", view)
	return nil
}

// refusedWith shows the API's refusal of a form's request (a bad argument, a
// guard, a conflict, a right the caller lacks) on the form's own page, which
// page draws with the API's message; nothing was written. Any other error
// is the page's.
func (c *call) refusedWith(err error, page func(msg string) error) error {
	switch statusCode(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.Aborted, codes.PermissionDenied, codes.NotFound:
		return page(statusMessage(err))
	}
	return err
}

// seeOther sends the browser, after a write the API accepted, to the page
// that shows its result, with the notice of done (notices) and the pairs of
// more query parameters: "at" is the write's ZedToken, which the page reads
// at least as fresh as (c.fresh), and a notice that names an object takes
// its id and reads what it says of it from the page's own reads, never from
// the link. A refresh of the page then reads again; it does not save again.
func (c *call) seeOther(path, done string, pairs ...string) {
	http.Redirect(c.w, c.r, path+"?"+query(append([]string{"done", done}, pairs...)...), http.StatusSeeOther)
}

// done is the notice a page shows after seeOther, and fresh the ZedToken it
// reads at least as fresh as.
func (c *call) done() string  { return c.r.URL.Query().Get("done") }
func (c *call) fresh() string { return c.r.URL.Query().Get("at") }

// notices say what a write the API accepted did, by the done of seeOther.
var notices = map[string]string{
	"created":  "Created.",
	"saved":    "Saved.",
	"deleted":  "Deleted.",
	"members":  "Members saved.",
	"assigned": "Security groups saved.",
	"released": "The customer-specific security group is deleted: the user is no longer confined, and may now be given a full-permission group.",
	"added":    "User added.",
	"setting":  "Setting saved.",
}
