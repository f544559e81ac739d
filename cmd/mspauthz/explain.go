package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

func newExplainCommand() *cobra.Command {
	return questionCommand(&cobra.Command{
		Use:   "explain --msp MSP --user USER [--customer CUSTOMER] [--permission PERMISSION]",
		Short: "Explain a check: the paths that grant it as a tree, or what is missing",
		Long: `Ask a running mspauthz why (POST /v1/msps/{msp}/explain, which needs users.manage).
Allowed: every granting path as a tree, from the user to the customer (a customer group,
a direct association, a security group with its role and scope, a time-bound grant).
Denied: what is missing — no path to the customer, no security group whose role holds the
permission, a group whose scope does not cover the customer, partner access switched off,
a grant that expired (and when) — each with the forms and calls that would grant it. For
scripts: mspauthz check --json.

` + clientExitCodes,
		Example: `  mspauthz explain --msp acme --user alex --customer zylker
  mspauthz explain --msp acme --user dana --customer zylker`,
	}, func(ctx context.Context, w io.Writer, c *restClient, q *question) (bool, error) {
		e, err := q.explain(ctx, c)
		if err != nil {
			return false, err
		}
		fmt.Fprintln(w, q.verdict(e.GetAllowed(), e.GetCheckedAt()))
		explanationTree(q, e).write(w)
		return e.GetAllowed(), nil
	})
}

// explanationTree is an explanation as a tree: the user at the root and
// each granting path a branch that ends at the resource; or what is
// missing, each reason with its remedies under it.
func explanationTree(q *question, e *pb.Explanation) *tree {
	if e.GetAllowed() {
		root := &tree{label: q.subject()}
		for _, p := range e.GetPaths() {
			n := root
			for _, st := range p.GetSteps()[1:] {
				n = n.add(withNote(st.GetObject(), st.GetNote()))
			}
		}
		return root
	}
	root := &tree{label: "missing, any one of:"}
	for _, m := range e.GetMissing() {
		n := root.add(m.GetReason() + ": " + m.GetMessage())
		for _, r := range m.GetRemedies() {
			n.add(fmt.Sprintf("%s: %s (%s)", r.GetChange(), r.GetCall(), r.GetPath()))
		}
	}
	return root
}

func withNote(label, note string) string {
	if note == "" {
		return label
	}
	return label + " (" + note + ")"
}

// tree is a line of an explanation with the lines under it.
type tree struct {
	label    string
	children []*tree
}

// add appends a line under t and returns it.
func (t *tree) add(label string) *tree {
	c := &tree{label: label}
	t.children = append(t.children, c)
	return c
}

// write prints t's label, then the lines under it with their branches.
func (t *tree) write(w io.Writer) {
	fmt.Fprintln(w, t.label)
	t.writeChildren(w, "")
}

func (t *tree) writeChildren(w io.Writer, indent string) {
	for i, c := range t.children {
		branch, under := "├── ", "│   "
		if i == len(t.children)-1 {
			branch, under = "└── ", "    "
		}
		fmt.Fprintln(w, indent+branch+c.label)
		c.writeChildren(w, indent+under)
	}
}
