package admin

import (
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The audit log: filters by actor, action, target and time, newest first in keyset pages,
// and the export of everything a filter matches as JSON Lines (the audit API's shape).

type auditPage struct {
	F        store.AuditFilter
	From, To string
	Records  []roster.AuditRecord
	Next     string
	Query    string
}

// localTime is the value of an <input type="datetime-local">, read as UTC.
const localTime = "2006-01-02T15:04"

func auditFilter(v url.Values) (store.AuditFilter, string, string, error) {
	f := store.AuditFilter{ActorID: v.Get("actorId"), Action: v.Get("action"), TargetType: v.Get("targetType"),
		TargetID: v.Get("targetId"), Page: store.Page{After: v.Get("cursor"), Limit: 50}}
	parse := func(s, name string) (time.Time, error) {
		if s == "" {
			return time.Time{}, nil
		}
		for _, layout := range []string{localTime, "2006-01-02T15:04:05", time.RFC3339} {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t, nil
			}
		}
		return time.Time{}, roster.E(roster.Invalid, "%s must be a time such as 2026-01-31T09:00 (UTC)", name)
	}
	var err error
	if f.From, err = parse(v.Get("from"), "from"); err != nil {
		return f, "", "", err
	}
	if f.To, err = parse(v.Get("to"), "to"); err != nil {
		return f, "", "", err
	}
	show := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(localTime)
	}
	return f, show(f.From), show(f.To), nil
}

func auditQuery(f store.AuditFilter, from, to string) string {
	qs := url.Values{}
	for k, v := range map[string]string{"actorId": f.ActorID, "action": f.Action, "targetType": f.TargetType, "targetId": f.TargetID, "from": from, "to": to} {
		if v != "" {
			qs.Set(k, v)
		}
	}
	return qs.Encode()
}

// Audit answers GET /orgs/{orgId}/audit.
func (c *Console) Audit(q *req) error {
	f, from, to, err := auditFilter(q.r.URL.Query())
	if err != nil {
		return err
	}
	recs, next, err := c.Store.ListAudit(q.ctx(), q.org.ID, f)
	if err != nil {
		return err
	}
	return c.show(q, "audit", q.view("audit", "Audit log", &auditPage{F: f, From: from, To: to, Records: recs, Next: next, Query: auditQuery(f, from, to)}), "")
}

// AuditExport answers GET /orgs/{orgId}/audit/export: every record the filter matches, as
// JSON Lines, downloaded as a file.
func (c *Console) AuditExport(q *req) error {
	f, _, _, err := auditFilter(q.r.URL.Query())
	if err != nil {
		return err
	}
	f.After = ""
	return events.ExportAudit(q.ctx(), c.Store, q.org.ID, f, func() io.Writer {
		q.w.Header().Set("Content-Type", "application/x-ndjson")
		q.w.Header().Set("Content-Disposition", `attachment; filename="roster-audit-`+q.org.ID+`.jsonl"`)
		q.w.WriteHeader(http.StatusOK)
		return q.w
	}, c.Logger)
}
