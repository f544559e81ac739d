package console

import (
	"net/http"
	"slices"
	"strings"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// customerPage is the Edit Customer Preferences form of one customer: its
// customer groups and directly associated users, its Account Contact and
// alert groups; for a caller the API shows no preferences to, the customer
// alone.
type customerPage struct {
	frame
	Customer *pb.Customer
	Form     *formView
	Contacts *contactsView
	// Reach counts the users who reach it, when the API tells the caller.
	Reach  int
	Reachs bool
	// Notice says what the last contact change or Login As did; Refusal
	// why the API refused one.
	Notice, Refusal string
	// Partner is its partner access, when the API tells the caller: what
	// Login As needs.
	Partner *pb.PartnerAccess
}

// contactsView is the customer's Account Contact and alert groups, editable
// among the users who reach it: picked from a list of them, or typed in
// (Typed) past maxCandidates of them.
type contactsView struct {
	AccountContact string
	Candidates     []row
	AlertGroups    []alertGroupView
	Reachers       int
	Typed          bool
}

// maxCandidates is the most users who reach a customer that its contacts
// are picked from; past it, a contact is typed in by id.
const maxCandidates = 100

type alertGroupView struct {
	ID   string
	Rows []row
}

func (s *Server) customer(c *call) error {
	return c.customerPage(http.StatusOK, nil, nil, "", customerSaid{})
}

// customerPage renders the form: as saved (at least as fresh as fresh, or
// as the link's "at"), or with the selection a refused save left and
// result's blocks beside its rows; said is what the last action did or why
// it was refused.
func (c *call) customerPage(code int, sel *selection, result *reportView, fresh string, said customerSaid) error {
	id := c.r.PathValue("customer")
	if fresh == "" {
		fresh = c.fresh()
	}
	// The customer, who reaches it and the form's first options at once;
	// then, at once, the names those lack (the options are not asked
	// after the customer: a caller the API shows no form wastes two short
	// listings, the others save a round of calls).
	var cu *pb.Customer
	var reach *pb.ListCustomerUsersResponse
	var reachErr error
	var partner *pb.PartnerAccess
	var groups []*pb.CustomerGroup
	var users []*pb.User
	var moreGroups, moreUsers bool
	err := all(func() (err error) {
		groups, moreGroups, err = c.offeredGroups("", maxOffered)
		return ignoreHidden(err)
	}, func() (err error) {
		users, moreUsers, err = c.offeredUsers("", maxOffered)
		return ignoreHidden(err)
	}, func() (err error) {
		cu, err = c.s.tenancy.GetCustomer(c.ctx, &pb.GetCustomerRequest{MspId: c.msp(), CustomerId: id, AtLeastAsFresh: fresh})
		return err
	}, func() error {
		reach, reachErr = c.s.access.ListCustomerUsers(c.ctx, &pb.ListCustomerUsersRequest{MspId: c.msp(), CustomerId: id, AtLeastAsFresh: fresh})
		return ignoreHidden(reachErr)
	}, func() (err error) {
		partner, err = c.s.partner.GetPartnerAccess(c.ctx, &pb.GetPartnerAccessRequest{MspId: c.msp(), CustomerId: id, AtLeastAsFresh: fresh})
		return ignoreHidden(err)
	})
	if err != nil {
		return err
	}
	page := customerPage{frame: c.frame(cu.GetDisplayName(), "customers"), Customer: cu, Notice: said.notice, Refusal: said.refusal, Partner: partner}

	page.Reach, page.Reachs = len(reach.GetUsers()), reachErr == nil
	prefs := cu.GetPreferences()
	if prefs == nil {
		c.render(code, "customer", page)
		return nil
	}
	chosenGroups, chosenUsers := prefs.GetCustomerGroups(), prefs.GetUsers()
	if sel != nil {
		chosenGroups, chosenUsers = sel.Values["customerGroups"], sel.Values["users"]
	}
	var reachers []string
	for _, u := range reach.GetUsers() {
		reachers = append(reachers, u.GetUserId())
	}
	contacts := &contactsView{Reachers: len(reachers), Typed: len(reachers) > maxCandidates}
	// Past maxCandidates the contacts are typed in, not picked: only the
	// users who are contacts now are named.
	named := append(slices.Clone(prefs.GetUsers()), chosenUsers...)
	named = append(named, prefs.GetAccountContact())
	for _, ag := range prefs.GetAlertGroups() {
		named = append(named, ag.GetContacts()...)
	}
	if !contacts.Typed {
		named = append(named, reachers...)
	} else {
		reachers = nil
	}
	n := newNames()
	n.addGroups(groups)
	n.addUsers(users)
	err = all(func() error {
		return c.nameGroups(n, append(slices.Clone(prefs.GetCustomerGroups()), chosenGroups...))
	}, func() error {
		return c.nameUsers(n, slices.DeleteFunc(named, func(id string) bool { return id == "" }))
	})
	if err != nil {
		return err
	}
	out := removed(prefs.GetCustomerGroups(), chosenGroups)
	form := &formView{Action: customerPath(id), Preview: customerPath(id) + "/preview", Result: result}
	// The members of the groups that hold the customer are the users who
	// reach it through them: what a saved row says and where a refused
	// save's blocks go.
	members := map[string][]string{}
	for _, u := range reach.GetUsers() {
		for _, via := range u.GetVia() {
			if g := groupOf(via); g != "" {
				members[g] = append(members[g], u.GetUserId())
			}
		}
	}
	meta := func(id string) string {
		if slices.Contains(prefs.GetCustomerGroups(), id) && page.Reachs {
			return count(len(members[id]), "member", "members")
		}
		return ""
	}
	groupRows := withSelection(rowsOfGroups(groups), prefs.GetCustomerGroups(), chosenGroups, n.group)
	for i, r := range groupRows {
		groupRows[i].Meta = meta(r.ID)
		groupRows[i].Blocks = blocksOf(result, func(b blockView) bool {
			return slices.Contains(out, r.ID) && slices.Contains(members[r.ID], b.UserID)
		})
	}
	userRows := withSelection(rowsOfUsers(users), prefs.GetUsers(), chosenUsers, n.user)
	for i, r := range userRows {
		userRows[i].Blocks = blocksOf(result, func(b blockView) bool { return b.UserID == r.ID && !r.Checked })
	}
	form.Choices = []choice{
		{Legend: "Customer groups", Field: "customerGroups", Rows: groupRows, Find: finder(moreGroups, form.Action, "customerGroups"), What: "customer groups"},
		{Legend: "Users associated directly", Field: "users", Rows: userRows, Find: finder(moreUsers, form.Action, "users"), What: "users"},
	}
	page.Form = form
	if prefs.GetAccountContact() != "" {
		contacts.AccountContact = n.user(prefs.GetAccountContact())
	}
	for _, u := range reachers {
		contacts.Candidates = append(contacts.Candidates, row{ID: u, Name: n.user(u), Checked: u == prefs.GetAccountContact()})
	}
	for _, ag := range prefs.GetAlertGroups() {
		v := alertGroupView{ID: ag.GetAlertGroupId()}
		for _, u := range dedupe(append(slices.Clone(ag.GetContacts()), reachers...)) {
			v.Rows = append(v.Rows, row{ID: u, Name: n.user(u), Checked: slices.Contains(ag.GetContacts(), u)})
		}
		contacts.AlertGroups = append(contacts.AlertGroups, v)
	}
	page.Contacts = contacts
	if page.Notice == "" {
		page.Notice = contacts.notice(c.done(), c.r.URL.Query().Get("alertGroup"))
	}
	c.render(code, "customer", page)
	return nil
}

// preferencesOf is the Edit Customer Preferences save a posted form asks for.
func (c *call) preferencesOf(validateOnly bool) (*pb.EditCustomerPreferencesRequest, *selection, error) {
	sel, err := selectionOf(c.r, "customerGroups", "users")
	if err != nil {
		return nil, nil, err
	}
	return &pb.EditCustomerPreferencesRequest{MspId: c.msp(), CustomerId: c.r.PathValue("customer"),
		CustomerGroups: sel.Values["customerGroups"], Users: sel.Values["users"], ValidateOnly: validateOnly, AllowEmpty: sel.Posted}, &sel, nil
}

// saveCustomer saves the form and shows the report with its ZedToken; a
// refused save keeps the form as the person left it, the blocks beside its
// rows, and nothing written.
func (s *Server) saveCustomer(c *call) error {
	req, sel, err := c.preferencesOf(false)
	if err != nil {
		return err
	}
	rep, err := s.tenancy.EditCustomerPreferences(c.ctx, req)
	return c.saved(rep, err, sel, func(code int, sel *selection, result *reportView, fresh string) error {
		return c.customerPage(code, sel, result, fresh, customerSaid{})
	})
}

// previewCustomer answers a validateOnly save of the form as it stands, and
// draws what it would change.
func (s *Server) previewCustomer(c *call) error {
	req, _, err := c.preferencesOf(true)
	if err != nil {
		return err
	}
	rep, err := s.tenancy.EditCustomerPreferences(c.ctx, req)
	return c.previewed(rep, err, func(n *names) (*picture, error) { return c.customerChangePicture(req, rep, n) })
}

// customerChangePicture draws who reaches the customer, with the paths the
// form's save would cut and add.
func (c *call) customerChangePicture(req *pb.EditCustomerPreferencesRequest, rep *pb.SaveReport, n *names) (*picture, error) {
	cu, err := c.s.tenancy.GetCustomer(c.ctx, &pb.GetCustomerRequest{MspId: c.msp(), CustomerId: req.GetCustomerId()})
	if err != nil {
		return nil, err
	}
	reach, err := c.s.access.ListCustomerUsers(c.ctx, &pb.ListCustomerUsersRequest{MspId: c.msp(), CustomerId: req.GetCustomerId()})
	if err != nil {
		return nil, err
	}
	prefs := cu.GetPreferences()
	ch := newChange()
	ch.reported(rep, func(p *pb.Pair) string { return p.GetUserId() })
	for _, g := range removed(prefs.GetCustomerGroups(), req.GetCustomerGroups()) {
		ch.cut["customer_group:"+g] = true
	}
	for _, u := range removed(prefs.GetUsers(), req.GetUsers()) {
		ch.cut["direct:"+u] = true
	}
	for _, u := range removed(req.GetUsers(), prefs.GetUsers()) {
		ch.added["direct:"+u] = true
	}
	groups := dedupe(append(slices.Clone(prefs.GetCustomerGroups()), req.GetCustomerGroups()...))
	for _, g := range removed(req.GetCustomerGroups(), prefs.GetCustomerGroups()) {
		ch.added["customer_group:"+g] = true
		group, err := c.s.tenancy.GetCustomerGroup(c.ctx, &pb.GetCustomerGroupRequest{MspId: c.msp(), CustomerGroupId: g})
		if err != nil {
			return nil, err
		}
		for _, m := range group.GetMembers() {
			ch.members[g] = append(ch.members[g], m.GetUserId())
		}
	}
	var users []string
	for _, u := range reach.GetUsers() {
		users = append(users, u.GetUserId())
	}
	for _, ms := range ch.members {
		users = append(users, ms...)
	}
	users = append(users, req.GetUsers()...)
	if err := c.nameUsers(n, users); err != nil {
		return nil, err
	}
	if err := c.nameGroups(n, groups); err != nil {
		return nil, err
	}
	return customerPicture(cu, reach.GetUsers(), n, focus{}, ch), nil
}

// customerSaid is what the customer page says of the last action: what it
// did, or why the API refused it.
type customerSaid struct{ notice, refusal string }

// notice says what a contact change did (seeOther's done, and the alert
// group it named), as the contacts now read.
func (v *contactsView) notice(done, alertGroup string) string {
	switch done {
	case "contact":
		if v.AccountContact != "" {
			return "The Account Contact is now " + v.AccountContact + "."
		}
	case "alerts":
		for _, ag := range v.AlertGroups {
			if ag.ID != alertGroup {
				continue
			}
			n := 0
			for _, r := range ag.Rows {
				if r.Checked {
					n++
				}
			}
			return "Alert group " + alertGroup + " saved: " + count(n, "contact", "contacts") + "."
		}
	}
	return ""
}

// setAccountContact makes the chosen user the Account Contact.
func (s *Server) setAccountContact(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	ac, err := s.tenancy.SetAccountContact(c.ctx, &pb.SetAccountContactRequest{MspId: c.msp(), CustomerId: c.r.PathValue("customer"), UserId: strings.TrimSpace(c.r.PostForm.Get("userId"))})
	if err != nil {
		return c.contactRefused(err)
	}
	c.seeOther(customerPath(c.r.PathValue("customer")), "contact", "at", ac.GetWrittenAt())
	return nil
}

// setAlertGroup replaces an alert group's contacts.
func (s *Server) setAlertGroup(c *call) error {
	if err := c.r.ParseForm(); err != nil {
		return err
	}
	ag, err := s.tenancy.SetAlertGroup(c.ctx, &pb.SetAlertGroupRequest{MspId: c.msp(), CustomerId: c.r.PathValue("customer"), AlertGroupId: c.r.PathValue("alertGroup"), Contacts: dedupe(slices.DeleteFunc(c.r.PostForm["contacts"], func(id string) bool { return strings.TrimSpace(id) == "" }))})
	if err != nil {
		return c.contactRefused(err)
	}
	c.seeOther(customerPath(c.r.PathValue("customer")), "alerts", "alertGroup", ag.GetAlertGroupId(), "at", ag.GetWrittenAt())
	return nil
}

// contactRefused shows the customer page with the API's refusal of a
// contact change.
func (c *call) contactRefused(err error) error {
	return c.refusedWith(err, func(msg string) error {
		return c.customerPage(http.StatusBadRequest, nil, nil, "", customerSaid{refusal: "Refused, nothing written: " + msg})
	})
}

// loginAs asks the API to Login As the customer: it checks the caller and
// answers a one-hour impersonation grant, or refuses with the reason
// (partner access off, no permission); both land on the customer's trail.
func (s *Server) loginAs(c *call) error {
	g, err := s.partner.LoginAs(c.ctx, &pb.LoginAsRequest{MspId: c.msp(), CustomerId: c.r.PathValue("customer")})
	if err != nil {
		return c.refusedWith(err, func(msg string) error {
			return c.customerPage(http.StatusForbidden, nil, nil, "", customerSaid{refusal: "Login As refused: " + msg + " The customer's trail records the attempt."})
		})
	}
	return c.customerPage(http.StatusOK, nil, nil, g.GetCheckedAt(), customerSaid{notice: "Login As granted: " + g.GetUserId() + " may act as " + g.GetCustomerId() + " until " + when(g.GetExpiresAt().AsTime()) + ". The customer's trail records it."})
}
