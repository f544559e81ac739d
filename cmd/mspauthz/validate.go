package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mspauthz/mspauthz/schema"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "validate FILE...",
		GroupID: serviceGroup,
		Short:   "Run SpiceDB validation files against the schema; exit 1 when one fails",
		Long: `Run SpiceDB validation files (schemaFile, relationships, assertions, expected
relations), as go test runs schema/*.yaml: for your own CI. Each problem is printed as
file:line:col: [KIND] message.`,
		Example: `  mspauthz validate schema/*.yaml`,
		Args: func(_ *cobra.Command, files []string) error {
			if len(files) == 0 {
				return usagef("name at least one validation file")
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			failed := false
			for _, f := range files {
				problems, err := schema.ValidateFile(cmd.Context(), f)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					failed = true
					continue
				}
				for _, p := range problems {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				if len(problems) > 0 {
					failed = true
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", f)
			}
			if failed {
				return silentExit(1)
			}
			return nil
		},
	}
}
