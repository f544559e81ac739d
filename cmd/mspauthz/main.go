// Command mspauthz is the authorization service for Managed Service Providers,
// and the tools that run it and talk to it. `mspauthz --help` lists the
// commands; each one's flags are in `mspauthz help COMMAND`, and every flag
// is also read from MSPAUTHZ_<FLAG> (MSPAUTHZ_DATASTORE for --datastore).
//
//	service:  serve, migrate, gen, bench, validate, version
//	clients:  check, explain, reach, sync, health (over REST, with a token)
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...";
// otherwise it comes from the build info.
var version string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code: 0 on success, 1
// when the command failed (check and explain: denied), 2 for a usage error
// (and for check, explain and reach, any other error).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(cmd, err, stderr)
}
