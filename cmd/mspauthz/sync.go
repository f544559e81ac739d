package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/internal/app"
)

// syncCommand sends a connected system's snapshot to a running mspauthz
// (POST /v1/msps/{msp}/syncs/{system}:run), shows a progress line while it
// runs, prints the result as JSON on stdout and a summary on stderr.
func syncCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://"+app.DefaultHTTPAddr, "the mspauthz REST address")
	token := fs.String("token", "", "bearer token (default $MSPAUTHZ_TOKEN, else $MSPAUTHZ_ADMIN_TOKEN)")
	system := fs.String("system", "", "the connected system, e.g. rmm (required)")
	file := fs.String("file", "", "the system's snapshot, JSON (required)")
	msp := fs.String("msp", "", "the MSP to sync (default: the snapshot's mspId)")
	dryRun := fs.Bool("dry-run", false, "compute and print the diff and the report; write nothing")
	allowMassRemoval := fs.Bool("allow-mass-removal", false, "accept removing more than half of what the system owns")
	timeout := fs.Duration("timeout", 30*time.Minute, "how long to wait for the service")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *system == "" || *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: mspauthz sync --system SYSTEM --file SNAPSHOT.json [--msp MSP] [--dry-run] [--allow-mass-removal] [--url URL] [--token TOKEN]")
		return 2
	}
	snap, size, err := readSnapshot(*file)
	if err != nil {
		fmt.Fprintln(stderr, "sync:", err)
		return 1
	}
	if *msp == "" {
		*msp = snap.GetMspId()
	}
	if *token == "" {
		*token = firstNonEmpty(os.Getenv("MSPAUTHZ_TOKEN"), os.Getenv("MSPAUTHZ_ADMIN_TOKEN"))
	}
	body, err := protojson.Marshal(&pb.RunSyncRequest{Snapshot: snap, ValidateOnly: *dryRun, AllowMassRemoval: *allowMassRemoval})
	if err != nil {
		fmt.Fprintln(stderr, "sync:", err)
		return 1
	}
	what := fmt.Sprintf("sync %s -> %s: %d users, %d customer groups, %d assignments (%s)",
		*system, *msp, len(snap.GetUsers()), len(snap.GetCustomerGroups()), len(snap.GetAssignments()), byteSize(size))
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	stop := progress(stderr, what)
	answer, err := postSync(ctx, strings.TrimRight(*base, "/")+"/v1/msps/"+url.PathEscape(*msp)+"/syncs/"+url.PathEscape(*system)+":run", *token, body)
	stop()
	if err != nil {
		fmt.Fprintln(stderr, "sync refused:", err)
		return 1
	}
	var res pb.SyncResult
	if err := protojson.Unmarshal(answer, &res); err != nil {
		fmt.Fprintln(stderr, "sync: unreadable answer:", err)
		return 1
	}
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, answer, "", "  ")
	fmt.Fprintln(stdout, pretty.String())
	fmt.Fprintln(stderr, summary(&res, *dryRun))
	return 0
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
		return nil, 0, fmt.Errorf("%s is not a snapshot (JSON with mspId, users, customerGroups, assignments): %w", file, err)
	}
	return &snap, len(data), nil
}

// postSync posts the request and returns the answer's body, or the service's
// error message.
func postSync(ctx context.Context, endpoint, token string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return answer, nil
	}
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &st) != nil || st.Message == "" {
		st.Message = string(bytes.TrimSpace(answer))
	}
	return nil, errors.New(resp.Status + ": " + st.Message)
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
	if n := len(r.GetSkipped()); n > 0 {
		s += fmt.Sprintf("; %d customers of its groups skipped (not found here; see skipped)", n)
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

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
