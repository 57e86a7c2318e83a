package events

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// AuditJSON is the wire form of an audit record (DESIGN.md section 5a), shared by the audit
// API and the console's export.
type AuditJSON struct {
	ID        string          `json:"id"`
	CreatedAt time.Time       `json:"createdAt"`
	Actor     roster.Actor    `json:"actor"`
	Action    string          `json:"action"`
	Target    roster.Target   `json:"target"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	RequestID string          `json:"requestId"`
	IP        string          `json:"ip"`
}

// NewAuditJSON renders a record; absent snapshots are null.
func NewAuditJSON(a *roster.AuditRecord) AuditJSON {
	b, af := a.Before, a.After
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	if len(af) == 0 {
		af = json.RawMessage("null")
	}
	return AuditJSON{ID: a.ID, CreatedAt: a.CreatedAt, Actor: a.Actor, Action: a.Action, Target: a.Target,
		Before: b, After: af, RequestID: a.RequestID, IP: a.IP}
}

// ExportAudit streams every record f matches as JSON Lines, page by page so that memory stays
// flat whatever the size of the log. start is called once the first page is read, before
// anything is written (to set the headers), so an error reading it is still an ordinary
// error answer; later read errors are logged and cut the export short.
func ExportAudit(ctx context.Context, st store.Reader, orgID string, f store.AuditFilter, start func() io.Writer, log *slog.Logger) error {
	f.Limit = 1000
	recs, next, err := st.ListAudit(ctx, orgID, f)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(start(), 64<<10)
	enc := json.NewEncoder(bw)
	for {
		for i := range recs {
			if err := enc.Encode(NewAuditJSON(&recs[i])); err != nil {
				return nil // the client went away
			}
		}
		if next == "" {
			break
		}
		f.After = next
		if recs, next, err = st.ListAudit(ctx, orgID, f); err != nil {
			log.Error("audit export", "err", err, "org_id", orgID)
			break // the status is sent: a short export is all that can be said
		}
	}
	_ = bw.Flush()
	return nil
}
