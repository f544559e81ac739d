package console

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// maxReportLines is the most lines a section of a report lists; the rest
// are counted.
const maxReportLines = 100

// reportView is a save's report (or a preview's) for people: who loses
// which customer, who keeps it through which remaining path, who gains it,
// and the guards that refuse the save.
type reportView struct {
	// Preview: a validateOnly save; else WrittenAt is the save's ZedToken.
	Preview   bool
	WrittenAt string
	// Heading, when set, names the report in place of "If you save now"
	// or "Saved" (a sync's access report).
	Heading string
	Loses   section
	Keeps   section
	Gains   section
	Removed section
	// Blocks are the guards that refuse the save; Refusal any other refusal.
	Blocks  []blockView
	Refusal string
}

// section is a report's lines of one kind, the first maxReportLines of them.
type section struct {
	Lines []string
	More  int
}

func (s *section) add(line string) {
	if len(s.Lines) < maxReportLines {
		s.Lines = append(s.Lines, line)
		return
	}
	s.More++
}

// Empty reports whether a report says nothing changes.
func (r *reportView) Empty() bool {
	return len(r.Loses.Lines)+len(r.Keeps.Lines)+len(r.Gains.Lines)+len(r.Blocks) == 0 && r.Refusal == ""
}

// blockView is one guard that refuses a save.
type blockView struct {
	UserID, CustomerID string
	Text               string
}

// reportOf is the view of a save's answer: its report, or the API's refusal
// with its blocks. Any other error is returned.
func (c *call) reportOf(rep *pb.SaveReport, err error, preview bool, n *names) (*reportView, error) {
	v := &reportView{Preview: preview}
	if err != nil {
		st := status.Convert(err)
		switch st.Code() {
		case codes.FailedPrecondition, codes.InvalidArgument, codes.Aborted, codes.PermissionDenied, codes.NotFound:
		default:
			return nil, err
		}
		var users, customers []string
		var blocks []*pb.GuardBlock
		for _, d := range st.Details() {
			if b, ok := d.(*pb.GuardBlock); ok {
				blocks = append(blocks, b)
				users, customers = append(users, b.GetUserId()), append(customers, b.GetCustomerId())
			}
		}
		if err := c.names(n, users, customers); err != nil {
			return nil, err
		}
		for _, b := range blocks {
			v.Blocks = append(v.Blocks, blockView{UserID: b.GetUserId(), CustomerID: b.GetCustomerId(), Text: blockText(b, n)})
		}
		if len(v.Blocks) == 0 {
			v.Refusal = st.Message()
		}
		return v, nil
	}
	v.WrittenAt = rep.GetWrittenAt()
	var users, customers []string
	pairs := func(ps ...[]*pb.Pair) {
		for _, list := range ps {
			for i, p := range list {
				if i < maxReportLines {
					users, customers = append(users, p.GetUserId()), append(customers, p.GetCustomerId())
				}
			}
		}
	}
	pairs(rep.GetDissociated(), rep.GetAssociated())
	var groups []string
	for i, p := range rep.GetRetained() {
		if i < maxReportLines {
			users, customers = append(users, p.GetUserId()), append(customers, p.GetCustomerId())
			for _, via := range p.GetVia() {
				if g := groupOf(via); g != "" {
					groups = append(groups, g)
				}
			}
		}
	}
	if err := c.names(n, users, customers); err != nil {
		return nil, err
	}
	if err := c.nameGroups(n, groups); err != nil {
		return nil, err
	}
	for _, p := range rep.GetDissociated() {
		v.Loses.add(fmt.Sprintf("%s loses %s", n.user(p.GetUserId()), n.customer(p.GetCustomerId())))
	}
	for _, p := range rep.GetRetained() {
		v.Keeps.add(fmt.Sprintf("%s keeps %s through %s", n.user(p.GetUserId()), n.customer(p.GetCustomerId()), n.vias(p.GetVia())))
	}
	for _, p := range rep.GetAssociated() {
		v.Gains.add(fmt.Sprintf("%s gains %s", n.user(p.GetUserId()), n.customer(p.GetCustomerId())))
	}
	for _, r := range rep.GetAlertContactsRemoved() {
		v.Removed.add(fmt.Sprintf("%s leaves %s's alert group %s", n.user(r.GetUserId()), n.customer(r.GetCustomerId()), r.GetAlertGroupId()))
	}
	return v, nil
}

// names fills in the names of users and customers.
func (c *call) names(n *names, users, customers []string) error {
	if err := c.nameUsers(n, users); err != nil {
		return err
	}
	return c.nameCustomers(n, customers)
}

// blockText says a guard's block for people.
func blockText(b *pb.GuardBlock, n *names) string {
	user, customer := n.user(b.GetUserId()), n.customer(b.GetCustomerId())
	switch b.GetReason() {
	case "ACCOUNT_CONTACT":
		return fmt.Sprintf("%s is %s's Account Contact: the save would leave %s no path to %s (ACCOUNT_CONTACT)", user, customer, user, customer)
	case "LAST_ALERT_GROUP_CONTACT":
		return fmt.Sprintf("%s is the last contact of %s's alert group %s: the save would leave %s no path to %s (LAST_ALERT_GROUP_CONTACT)", user, customer, b.GetAlertGroupId(), user, customer)
	case "NOT_ASSOCIATED":
		return fmt.Sprintf("%s does not reach %s (NOT_ASSOCIATED)", user, customer)
	}
	return fmt.Sprintf("%s on %s: %s", user, customer, b.GetReason())
}

// ignoreHidden drops the refusal of a read that only names something: what
// the caller may not see is shown by its id.
func ignoreHidden(err error) error {
	switch status.Code(err) {
	case codes.NotFound, codes.PermissionDenied:
		return nil
	}
	return err
}

func statusCode(err error) codes.Code { return status.Code(err) }

func statusMessage(err error) string { return status.Convert(err).Message() }
