package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Command groups of the help.
const (
	serviceGroup = "service"
	clientGroup  = "client"
)

// newRootCommand is the command tree. Each command is built in its own file,
// its flags registered in one place; the environment fills the flags the
// command line does not give.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "mspauthz",
		Short: "Who may reach which customer of a Managed Service Provider, and why",
		Long: `mspauthz is an authorization service for Managed Service Providers, on an embedded
SpiceDB or a SpiceDB cluster. "mspauthz serve" runs it; check, explain and reach ask
a running one, as a person at a terminal would.

Every flag is also read from the environment as MSPAUTHZ_<FLAG>, in upper case with
underscores (MSPAUTHZ_DATASTORE for --datastore, MSPAUTHZ_HTTP_ADDR for --http-addr);
a flag on the command line wins. The platform token of serve is MSPAUTHZ_ADMIN_TOKEN.`,
		Version:           versions(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return bindEnvironment(cmd.Flags()) },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), flagUsages, flagUsages+envNote, 1))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddGroup(
		&cobra.Group{ID: serviceGroup, Title: "Running the service:"},
		&cobra.Group{ID: clientGroup, Title: "Asking a running service, over REST:"},
	)
	root.AddCommand(
		newServeCommand(), newMigrateCommand(), newGenCommand(), newBenchCommand(), newValidateCommand(), newVersionCommand(),
		newCheckCommand(), newExplainCommand(), newReachCommand(), newSyncCommand(), newHealthCommand(), newIdentityProviderCommand(),
	)
	failuresExitOne(root)
	return root
}

// flagUsages is where cobra's usage template lists a command's flags;
// envNote follows them.
const (
	flagUsages = "{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}"
	envNote    = "\n\nEach flag is also read from MSPAUTHZ_<FLAG> (--http-addr from MSPAUTHZ_HTTP_ADDR); the command line wins."
)

// envName is the environment variable a flag is read from.
func envName(flag string) string {
	return "MSPAUTHZ_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnvironment sets each flag the command line did not give from its
// environment variable, when that is set and not empty (as SpiceDB binds
// SPICEDB_*). A value the flag refuses is a usage error naming the variable.
func bindEnvironment(flags *pflag.FlagSet) error {
	var errs []error
	flags.VisitAll(func(f *pflag.Flag) {
		v := os.Getenv(envName(f.Name))
		if f.Changed || v == "" || f.Name == "help" {
			return
		}
		if err := flags.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
		}
	})
	if len(errs) > 0 {
		return usageError(errors.Join(errs...))
	}
	return nil
}

// exitError ends the process with its code, after printing err when there
// is one, and after a usage error where to read the usage.
type exitError struct {
	code  int
	err   error
	usage bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a command line the command cannot run: exit 2.
func usageError(err error) error { return &exitError{code: 2, err: err, usage: true} }

// usagef is a usageError with a message.
func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

// silentExit ends the process with code and prints nothing more (the
// command said why).
func silentExit(code int) error { return &exitError{code: code} }

// failuresExitOne makes an error that a command's RunE returns without a
// code of its own end the process with 1. Errors cobra returns before a
// command runs (an unknown command, a bad argument) have none either: those
// are usage errors (exitCode).
func failuresExitOne(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		if c.RunE != nil {
			c.RunE = withExitCode(1, c.RunE)
		}
		failuresExitOne(c)
	}
}

// withExitCode makes an error that run returns without a code of its own
// end the process with code.
func withExitCode(code int, run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		var e *exitError
		if err != nil && !errors.As(err, &e) {
			return &exitError{code: code, err: err}
		}
		return err
	}
}

// exitCode prints the error of the command that failed, and returns the
// process's exit code.
func exitCode(cmd *cobra.Command, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var e *exitError
	if !errors.As(err, &e) {
		e = &exitError{code: 2, err: err, usage: true}
	}
	if e.err == nil {
		return e.code
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), e.err)
	if e.usage {
		fmt.Fprintf(stderr, "(%s --help shows the usage)\n", cmd.CommandPath())
	}
	return e.code
}

// noArgs refuses arguments: every input of these commands is a flag.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	return nil
}
