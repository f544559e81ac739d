package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mspauthz/mspauthz/internal/app"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		GroupID: serviceGroup,
		Short:   "Print the version of mspauthz and of the SpiceDB it embeds",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versions())
			return err
		},
	}
}

// versions names this build of mspauthz and its SpiceDB.
func versions() string {
	return fmt.Sprintf("mspauthz %s (SpiceDB %s)", ownVersion(), app.SpiceDBVersion())
}

// ownVersion is the version given at build time, else the module's version
// or VCS revision from the build info, else "dev".
func ownVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	revision, modified := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if revision == "" {
		return "dev"
	}
	return revision[:min(12, len(revision))] + modified
}
