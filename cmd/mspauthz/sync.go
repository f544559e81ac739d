package main

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

func newSyncCommand() *cobra.Command {
	var c restClient
	var system, file, msp string
	var dryRun, allowMassRemoval bool
	cmd := &cobra.Command{
		Use:     "sync --system SYSTEM --file SNAPSHOT.json",
		GroupID: clientGroup,
		Short:   "Run a connected system's sync: its snapshot in, the diff and the report out",
		Long: `Send a connected system's snapshot to a running mspauthz
(POST /v1/msps/{msp}/syncs/{system}:run), with a progress line while it runs; print the
result as JSON on stdout and a summary on stderr. Exit 1 when the service refuses it.`,
		Example: `  mspauthz sync --system rmm --file snapshot.json --dry-run`,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	c.registerFlags(fs, 30*time.Minute)
	fs.StringVar(&system, "system", "", "the connected system, e.g. rmm (required)")
	fs.StringVar(&file, "file", "", "the system's snapshot, JSON (required)")
	_ = cmd.MarkFlagFilename("file", "json")
	fs.StringVar(&msp, "msp", "", "the MSP to sync (default: the snapshot's mspId)")
	fs.BoolVar(&dryRun, "dry-run", false, "compute and print the diff and the report; write nothing")
	fs.BoolVar(&allowMassRemoval, "allow-mass-removal", false, "accept removing more than half of what the system owns")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if system == "" || file == "" {
			return usagef("give --system and --file")
		}
		snap, size, err := readSnapshot(file)
		if err != nil {
			return err
		}
		target := cmp.Or(msp, snap.GetMspId())
		stderr := cmd.ErrOrStderr()
		what := fmt.Sprintf("sync %s -> %s: %d users, %d customer groups, %d assignments, %d client logins (%s)",
			system, target, len(snap.GetUsers()), len(snap.GetCustomerGroups()), len(snap.GetAssignments()), len(snap.GetClientLogins()), byteSize(size))
		ctx, cancel := c.context(cmd)
		defer cancel()
		stop := progress(stderr, what)
		var res pb.SyncResult
		err = c.ask(ctx, http.MethodPost, mspPath(target, "syncs", system+":run"), nil,
			&pb.RunSyncRequest{Snapshot: snap, ValidateOnly: dryRun, AllowMassRemoval: allowMassRemoval}, &res)
		stop()
		if err != nil {
			return fmt.Errorf("sync refused: %w", err)
		}
		if err := printJSON(cmd.OutOrStdout(), &res); err != nil {
			return err
		}
		fmt.Fprintln(stderr, summary(&res, dryRun))
		return nil
	}
	return cmd
}

// readSnapshot reads and checks the JSON of a snapshot file, refusing
// unknown fields, so that a malformed file is named before anything is sent.
func readSnapshot(file string) (*pb.SyncSnapshot, int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	var snap pb.SyncSnapshot
	if err := protojson.Unmarshal(data, &snap); err != nil {
		return nil, 0, fmt.Errorf("%s is not a snapshot (JSON with mspId, users, clientLogins, customerGroups, assignments, customers): %w", file, err)
	}
	return &snap, len(data), nil
}

// progress rewrites one line on w every second until stopped.
func progress(w io.Writer, what string) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	fmt.Fprintf(w, "%s ...", what)
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(w, "\r%s ... %s\n", what, time.Since(start).Round(100*time.Millisecond))
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r%s ... %s", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func summary(r *pb.SyncResult, dryRun bool) string {
	rep := r.GetReport()
	s := fmt.Sprintf("users +%d ~%d -%d, customer groups +%d ~%d -%d, assignments +%d -%d, role assignments +%d -%d; access: %d associated, %d dissociated, %d retained; %d local edits overwritten",
		len(r.GetUsers().GetCreated()), len(r.GetUsers().GetUpdated()), len(r.GetUsers().GetRemoved()),
		len(r.GetCustomerGroups().GetCreated()), len(r.GetCustomerGroups().GetUpdated()), len(r.GetCustomerGroups().GetRemoved()),
		len(r.GetAssignmentsAdded()), len(r.GetAssignmentsRemoved()), len(r.GetRoleAssignmentsAdded()), len(r.GetRoleAssignmentsRemoved()),
		len(rep.GetAssociated()), len(rep.GetDissociated()), len(rep.GetRetained()), len(r.GetOverwrites()))
	if c := r.GetClientLogins(); len(c.GetCreated())+len(c.GetUpdated())+len(c.GetRemoved()) > 0 {
		s += fmt.Sprintf("; client logins +%d ~%d -%d", len(c.GetCreated()), len(c.GetUpdated()), len(c.GetRemoved()))
	}
	if c := r.GetCustomers(); len(c.GetCreated())+len(c.GetUpdated()) > 0 {
		s += fmt.Sprintf("; customers +%d ~%d", len(c.GetCreated()), len(c.GetUpdated()))
	}
	if n := len(r.GetSkipped()); n > 0 {
		s += fmt.Sprintf("; %d customers of its groups skipped (see skipped)", n)
	}
	if n := len(r.GetDeletedHere()); n > 0 {
		s += fmt.Sprintf("; %d deleted here, not created again (see deletedHere)", n)
	}
	if n := len(r.GetDetached()); n > 0 {
		s += fmt.Sprintf("; %d detached here, left alone (see detached)", n)
	}
	if dryRun {
		return s + " (dry run: nothing written)"
	}
	return fmt.Sprintf("%s; written at %s in %d write(s)", s, rep.GetWrittenAt(), r.GetWrites())
}

func byteSize(n int) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f kB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
