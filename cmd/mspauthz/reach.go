package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

func newReachCommand() *cobra.Command {
	var c restClient
	var msp, user, customer, atLeastAsFresh string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "reach --msp MSP (--user USER | --customer CUSTOMER)",
		GroupID: clientGroup,
		Short:   "List the customers a user reaches, or the users who reach a customer, with their paths",
		Long: "List, from a running mspauthz, every customer a user reaches (GET /v1/msps/{msp}/users/{user}/customers)\n" +
			"or every user who reaches a customer (GET /v1/msps/{msp}/customers/{customer}/users), each with\n" +
			"every path: direct, customer_group:<id>.\n\n" + clientExitCodes,
		Example: `  mspauthz reach --msp acme --user alex
  mspauthz reach --msp acme --customer zylker --json`,
		Args: noArgs,
	}
	fs := cmd.Flags()
	registerMSPFlag(fs, &msp)
	fs.StringVar(&user, "user", "", "list the customers this user reaches")
	fs.StringVar(&customer, "customer", "", "list the users who reach this customer")
	registerFreshnessFlag(fs, &atLeastAsFresh)
	fs.BoolVar(&asJSON, "json", false, "print the API's JSON answer, for scripts")
	c.registerFlags(fs, clientTimeout)
	cmd.MarkFlagsMutuallyExclusive("user", "customer")

	cmd.RunE = withExitCode(2, func(cmd *cobra.Command, _ []string) error {
		if msp == "" || user == "" && customer == "" {
			return usagef("give --msp, and --user or --customer")
		}
		var query url.Values
		if atLeastAsFresh != "" {
			query = url.Values{"atLeastAsFresh": {atLeastAsFresh}}
		}
		ctx, cancel := c.context(cmd)
		defer cancel()
		var answer proto.Message
		var heading string
		var rows []reached
		if user != "" {
			var l pb.ListUserCustomersResponse
			if err := c.list(ctx, mspPath(msp, "users", user, "customers"), query, &l); err != nil {
				return err
			}
			for _, r := range l.GetCustomers() {
				rows = append(rows, reached{"customer:" + r.GetCustomerId(), r.GetVia()})
			}
			answer, heading = &l, fmt.Sprintf("user:%s reaches %d customers (msp %s), checked at %s", user, len(rows), msp, l.GetCheckedAt())
		} else {
			var l pb.ListCustomerUsersResponse
			if err := c.list(ctx, mspPath(msp, "customers", customer, "users"), query, &l); err != nil {
				return err
			}
			for _, r := range l.GetUsers() {
				rows = append(rows, reached{"user:" + r.GetUserId(), r.GetVia()})
			}
			answer, heading = &l, fmt.Sprintf("customer:%s is reached by %d users (msp %s), checked at %s", customer, len(rows), msp, l.GetCheckedAt())
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), answer)
		}
		return printReached(cmd.OutOrStdout(), heading, rows)
	})
	return cmd
}

// reached is one line of a listing: who or what, and every path.
type reached struct {
	id  string
	via []string
}

func printReached(w io.Writer, heading string, rows []reached) error {
	fmt.Fprintln(w, heading)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r.id, strings.Join(r.via, ", "))
	}
	return tw.Flush()
}
