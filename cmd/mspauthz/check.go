package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// clientExitCodes is the part of the help of check, explain and reach that
// says what their exit codes mean.
const clientExitCodes = `Exit codes: 0 allowed (reach: listed), 1 denied, 2 anything else (a usage error,
the service unreachable or refusing the call); so a script can tell a denial
from a failure.`

// clientTimeout is how long check, explain and reach wait for the service.
const clientTimeout = 30 * time.Second

// question is what check and explain ask: may the user hold the permission
// on the customer (or, without one, on the MSP).
type question struct {
	msp, user, customer, permission string
	atLeastAsFresh                  string
}

// registerFlags declares the question's flags.
func (q *question) registerFlags(fs *pflag.FlagSet) {
	registerMSPFlag(fs, &q.msp)
	fs.StringVar(&q.user, "user", "", "the user (required)")
	fs.StringVar(&q.customer, "customer", "", "the customer (default: the MSP itself, for MSP-level permissions such as users.manage)")
	fs.StringVar(&q.permission, "permission", "access", "the permission: access, or one of the catalog's (GET /v1/permissions), such as tickets.create")
	registerFreshnessFlag(fs, &q.atLeastAsFresh)
}

// registerMSPFlag declares --msp.
func registerMSPFlag(fs *pflag.FlagSet, msp *string) {
	fs.StringVar(msp, "msp", "", "the MSP (required)")
}

// registerFreshnessFlag declares --at-least-as-fresh.
func registerFreshnessFlag(fs *pflag.FlagSet, token *string) {
	fs.StringVar(token, "at-least-as-fresh", "", "a ZedToken, such as a save's writtenAt: the answer is at least that fresh")
}

func (q *question) validate() error {
	if q.msp == "" || q.user == "" {
		return usagef("give --msp and --user")
	}
	return nil
}

// resource is the object the question is about, as the API names it.
func (q *question) resource() string {
	if q.customer == "" {
		return "msp:" + q.msp
	}
	return "customer:" + q.customer
}

func (q *question) subject() string { return "user:" + q.user }

// check asks the service (POST /v1/msps/{msp}/check).
func (q *question) check(ctx context.Context, c *restClient) (*pb.CheckResponse, error) {
	var ans pb.CheckResponse
	err := c.ask(ctx, http.MethodPost, mspPath(q.msp, "check"), nil,
		&pb.CheckRequest{Resource: q.resource(), Permission: q.permission, Subject: q.subject(), AtLeastAsFresh: q.atLeastAsFresh}, &ans)
	return &ans, err
}

// explain asks the service why (POST /v1/msps/{msp}/explain).
func (q *question) explain(ctx context.Context, c *restClient) (*pb.Explanation, error) {
	var ans pb.Explanation
	err := c.ask(ctx, http.MethodPost, mspPath(q.msp, "explain"), nil,
		&pb.ExplainRequest{Resource: q.resource(), Permission: q.permission, Subject: q.subject(), AtLeastAsFresh: q.atLeastAsFresh}, &ans)
	return &ans, err
}

// verdict is the first line of an answer: allowed or denied, what, and at
// which revision.
func (q *question) verdict(allowed bool, checkedAt string) string {
	if allowed {
		return fmt.Sprintf("allowed: %s has %s on %s (msp %s), checked at %s", q.subject(), q.permission, q.resource(), q.msp, checkedAt)
	}
	return fmt.Sprintf("denied: %s has no %s on %s (msp %s), checked at %s", q.subject(), q.permission, q.resource(), q.msp, checkedAt)
}

// explainCommand is the command line that explains the answer.
func (q *question) explainCommand() string {
	cmd := "mspauthz explain --msp " + q.msp + " --user " + q.user
	if q.customer != "" {
		cmd += " --customer " + q.customer
	}
	if q.permission != "access" {
		cmd += " --permission " + q.permission
	}
	return cmd
}

// questionCommand completes cmd (check or explain) with the question's and
// the client's flags, and a RunE in which ask asks the service, prints its
// answer and says whether it allowed. It exits 1 when denied, 2 on any error.
func questionCommand(cmd *cobra.Command, ask func(ctx context.Context, w io.Writer, c *restClient, q *question) (bool, error)) *cobra.Command {
	var c restClient
	var q question
	q.registerFlags(cmd.Flags())
	c.registerFlags(cmd.Flags(), clientTimeout)
	cmd.GroupID, cmd.Args = clientGroup, noArgs
	cmd.RunE = withExitCode(2, func(cmd *cobra.Command, _ []string) error {
		if err := q.validate(); err != nil {
			return err
		}
		ctx, cancel := c.context(cmd)
		defer cancel()
		allowed, err := ask(ctx, cmd.OutOrStdout(), &c, &q)
		if err != nil {
			return err
		}
		if !allowed {
			return silentExit(1)
		}
		return nil
	})
	return cmd
}

func newCheckCommand() *cobra.Command {
	var asJSON bool
	cmd := questionCommand(&cobra.Command{
		Use:   "check --msp MSP --user USER [--customer CUSTOMER] [--permission PERMISSION]",
		Short: "Ask whether a user may reach a customer (or hold a permission), and through which paths",
		Long:  "Ask a running mspauthz (POST /v1/msps/{msp}/check) and print the answer with every\npath that grants it; mspauthz explain prints the paths as a tree, or what is missing.\n\n" + clientExitCodes,
		Example: `  mspauthz check --msp acme --user alex --customer zylker
  mspauthz check --msp acme --user gus --customer fabrikam --permission tickets.create --json`,
	}, func(ctx context.Context, w io.Writer, c *restClient, q *question) (bool, error) {
		ans, err := q.check(ctx, c)
		if err != nil {
			return false, err
		}
		return ans.GetAllowed(), printCheck(w, q, ans, asJSON)
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON answer, for scripts")
	return cmd
}

func printCheck(w io.Writer, q *question, ans *pb.CheckResponse, asJSON bool) error {
	if asJSON {
		return printJSON(w, ans)
	}
	fmt.Fprintln(w, q.verdict(ans.GetAllowed(), ans.GetCheckedAt()))
	if ans.GetAllowed() {
		_, err := fmt.Fprintf(w, "  via %s\n", strings.Join(ans.GetVia(), ", "))
		return err
	}
	_, err := fmt.Fprintf(w, "  %s says what is missing\n", q.explainCommand())
	return err
}
