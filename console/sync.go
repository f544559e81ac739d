package console

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

// syncPage is one connected system (seed 002's "Synchronize MSP RMM"): its
// drift, the form that takes its snapshot (pasted or uploaded), and the
// result of a dry run or of the sync itself.
type syncPage struct {
	frame
	System string
	Drift  []*pb.DriftedObject
	// DriftHidden is the API's refusal to tell the drift; LastSynced when
	// the system last synced (RFC 3339, or empty).
	DriftHidden, LastSynced string
	// Snapshot is the snapshot as the person gave it; MassRemoval his
	// consent to a sync that removes most of what the system owns here.
	Snapshot    string
	MassRemoval bool
	Result      *syncResultView
	// Refusal is why the API (or the snapshot's JSON) refused the sync.
	Refusal string
}

// syncResultView is a sync's answer: what it changes, the local edits it
// puts back, what it left out, and who gains and loses access.
type syncResultView struct {
	*pb.SyncResult
	DryRun bool
	Report *reportView
}

// maxSnapshot is the largest snapshot the page takes (the API's own body
// limit is the same order).
const maxSnapshot = 32 << 20

func (s *Server) syncSystem(c *call) error {
	return c.syncPage(http.StatusOK, "", false, nil, "")
}

func (c *call) syncPage(code int, snapshot string, massRemoval bool, result *syncResultView, refused string) error {
	system := c.r.PathValue("system")
	page := syncPage{frame: c.frame("Sync with "+system, "sync"), System: system, Snapshot: snapshot, MassRemoval: massRemoval, Result: result, Refusal: refused}
	drift, err := c.s.sync.GetDrift(c.ctx, &pb.GetDriftRequest{MspId: c.msp(), System: system})
	if page.DriftHidden = hidden(err); ignoreHidden(err) != nil {
		return err
	}
	page.Drift, page.LastSynced = drift.GetObjects(), drift.GetLastSyncedAt()
	c.render(code, "sync", page)
	return nil
}

// runSync sends the snapshot to the API: a dry run (validateOnly) unless the
// person pressed Sync. The snapshot is the API's own JSON (SyncSnapshot);
// a refusal keeps it in the form.
func (s *Server) runSync(c *call) error {
	if err := c.r.ParseMultipartForm(maxSnapshot); err != nil && err != http.ErrNotMultipart {
		return c.syncPage(http.StatusBadRequest, "", false, nil, "The snapshot could not be read: "+err.Error())
	}
	text := c.r.PostFormValue("snapshot")
	if f, _, err := c.r.FormFile("file"); err == nil {
		raw, err := io.ReadAll(io.LimitReader(f, maxSnapshot))
		f.Close()
		if err != nil {
			return err
		}
		if len(strings.TrimSpace(string(raw))) > 0 {
			text = string(raw)
		}
	}
	massRemoval := c.r.PostFormValue("allowMassRemoval") != ""
	snap := &pb.SyncSnapshot{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal([]byte(text), snap); err != nil {
		return c.syncPage(http.StatusBadRequest, text, massRemoval, nil, "The snapshot is not a SyncSnapshot in the API's JSON: "+err.Error())
	}
	dryRun := c.r.PostFormValue("apply") == ""
	res, err := s.sync.RunSync(c.ctx, &pb.RunSyncRequest{MspId: c.msp(), System: c.r.PathValue("system"), Snapshot: snap, ValidateOnly: dryRun, AllowMassRemoval: massRemoval})
	if err != nil {
		return c.refusedWith(err, func(string) error {
			report, rerr := c.reportOf(nil, err, dryRun, newNames())
			if rerr != nil {
				return rerr
			}
			msg := report.Refusal
			for _, b := range report.Blocks {
				msg += b.Text + " "
			}
			return c.syncPage(http.StatusBadRequest, text, massRemoval, nil, "Refused, nothing written: "+strings.TrimSpace(msg))
		})
	}
	report, err := c.reportOf(res.GetReport(), nil, dryRun, newNames())
	if err != nil {
		return err
	}
	report.Heading = "Access it changed"
	if dryRun {
		report.Heading = "Access it would change"
	}
	return c.syncPage(http.StatusOK, text, massRemoval, &syncResultView{SyncResult: res, DryRun: dryRun, Report: report}, "")
}

// syncs opens the page of the system the form names.
func (s *Server) syncs(c *call) error {
	system := strings.TrimSpace(c.r.URL.Query().Get("system"))
	if system == "" {
		system = "rmm"
	}
	http.Redirect(c.w, c.r, "/syncs/"+url.PathEscape(system), http.StatusSeeOther)
	return nil
}
