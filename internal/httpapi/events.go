package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The audit log, the events API and webhook endpoints (DESIGN.md section 5a), by
// organization key. Every query is scoped to the key's organization.

func queryLimit(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, roster.E(roster.Invalid, "limit must be a number from 1 to 1000")
	}
	return n, nil
}

// listEvents answers GET /api/public/events?after&types&limit: events in order, and the
// cursor to pass back as after. Without after it starts at the oldest retained event.
func (s *server) listEvents(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	n, err := queryLimit(r, 100)
	if err != nil {
		return err
	}
	types, err := events.ParseTypes(q.Get("types"))
	if err != nil {
		return err
	}
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = events.ParseCursor(v); err != nil {
			return err
		}
	} else if after, err = s.Store.FirstEventSeq(r.Context(), p.OrgID); err != nil {
		return err
	}
	evs, err := s.Store.ListEvents(r.Context(), p.OrgID, after, types, n)
	if err != nil {
		return err
	}
	out := make([]events.EventJSON, len(evs))
	for i := range evs {
		out[i] = events.NewEventJSON(&evs[i])
		after = evs[i].Seq
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "cursor": events.EncodeCursor(after)})
	return nil
}

// AuditLog is the wire form of an audit record.
type AuditLog = events.AuditJSON

func newAuditLog(a *roster.AuditRecord) AuditLog { return events.NewAuditJSON(a) }

func parseTime(q, name string) (time.Time, error) {
	if q == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, q)
	if err != nil {
		return time.Time{}, roster.E(roster.Invalid, "%s must be an RFC 3339 time such as 2026-01-31T00:00:00Z", name)
	}
	return t, nil
}

// listAuditLogs answers GET /api/public/audit-logs, newest first; with
// Accept: application/x-ndjson it streams every matching record as JSON Lines.
func (s *server) listAuditLogs(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	n, err := queryLimit(r, 100)
	if err != nil {
		return err
	}
	f := store.AuditFilter{ActorID: q.Get("actorId"), Action: q.Get("action"), TargetType: q.Get("targetType"),
		TargetID: q.Get("targetId"), Page: store.Page{After: q.Get("cursor"), Limit: n}}
	if f.From, err = parseTime(q.Get("from"), "from"); err != nil {
		return err
	}
	if f.To, err = parseTime(q.Get("to"), "to"); err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		return s.exportAudit(w, r, p.OrgID, f)
	}
	recs, next, err := s.Store.ListAudit(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	out := make([]AuditLog, len(recs))
	for i := range recs {
		out[i] = newAuditLog(&recs[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"auditLogs": out, "cursor": next})
	return nil
}

// exportAudit streams every record the filter matches, one JSON object a line.
func (s *server) exportAudit(w http.ResponseWriter, r *http.Request, orgID string, f store.AuditFilter) error {
	return events.ExportAudit(r.Context(), s.Store, orgID, f, func() io.Writer {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		return w
	}, s.Logger)
}

// WebhookCreated is the one answer that carries an endpoint's signing secret.
type WebhookCreated struct {
	roster.Webhook
	Secret string `json:"secret"`
}

func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Store.ListWebhooks(r.Context(), principal(r).OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": list})
	return nil
}

func (s *server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.Store.GetWebhook(r.Context(), principal(r).OrgID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		URL        string   `json:"url"`
		EventTypes []string `json:"eventTypes"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	p := principal(r)
	wh, secret, err := s.Events.CreateWebhook(r.Context(), p.Actor(), p.OrgID, body.URL, body.EventTypes)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, WebhookCreated{Webhook: *wh, Secret: secret})
	return nil
}

func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		URL        *string   `json:"url"`
		EventTypes *[]string `json:"eventTypes"`
		Enabled    *bool     `json:"enabled"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	p := principal(r)
	wh, err := s.Events.UpdateWebhook(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"),
		events.WebhookPatch{URL: body.URL, EventTypes: body.EventTypes, Enabled: body.Enabled})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		return tx.DeleteWebhook(r.Context(), p.OrgID, r.PathValue("id"))
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "webhook deleted"})
	return nil
}

func (s *server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	grace, err := decodeGrace(r)
	if err != nil {
		return err
	}
	p := principal(r)
	wh, secret, err := s.Events.RotateSecret(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, WebhookCreated{Webhook: *wh, Secret: secret})
	return nil
}

func (s *server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	n, err := queryLimit(r, 100)
	if err != nil {
		return err
	}
	list, next, err := s.Store.ListDeliveries(r.Context(), principal(r).OrgID, r.PathValue("id"),
		store.Page{After: r.URL.Query().Get("cursor"), Limit: n})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list, "cursor": next})
	return nil
}

func (s *server) redeliver(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var d *roster.Delivery
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		var err error
		d, err = tx.Redeliver(r.Context(), p.OrgID, r.PathValue("id"), r.PathValue("deliveryId"))
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
