package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

const webhookCols = `id, org_id, url, event_types, enabled, disabled_reason, secret_enc, prev_secret_enc, prev_expires_at,
	cursor_seq, failures, failing_since, next_attempt_at, created_at, updated_at`

func scanWebhook(sc interface{ Scan(...any) error }) (*roster.Webhook, error) {
	var w roster.Webhook
	var types string
	var prevExp, failing sql.NullInt64
	var next, created, updated int64
	if err := sc.Scan(&w.ID, &w.OrgID, &w.URL, &types, &w.Enabled, &w.DisabledReason, &w.SecretEnc, &w.PrevSecretEnc, &prevExp,
		&w.CursorSeq, &w.Failures, &failing, &next, &created, &updated); err != nil {
		return nil, err
	}
	w.EventTypes = []string{}
	if types != "" {
		if err := json.Unmarshal([]byte(types), &w.EventTypes); err != nil {
			return nil, err
		}
	}
	w.PrevExpiresAt, w.FailingSince = fromNullMicros(prevExp), fromNullMicros(failing)
	if next > 0 {
		t := fromMicros(next)
		w.NextAttemptAt = &t
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &w, nil
}

// webhookSnap is a webhook in the audit log and its events: without its secrets.
type webhookSnap struct {
	ID         string   `json:"id"`
	URL        string   `json:"url"`
	EventTypes []string `json:"eventTypes"`
	Enabled    bool     `json:"enabled"`
}

func snapWebhook(w *roster.Webhook) *webhookSnap {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	return &webhookSnap{ID: w.ID, URL: w.URL, EventTypes: types, Enabled: w.Enabled}
}

func typesJSON(types []string) string {
	if len(types) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(types)
	return string(b)
}

func (r reader) GetWebhook(ctx context.Context, orgID, id string) (*roster.Webhook, error) {
	w, err := scanWebhook(r.q.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, r.notFound(err, "webhook")
	}
	return w, nil
}

func (r reader) ListWebhooks(ctx context.Context, orgID string) ([]roster.Webhook, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE org_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

func (t *txn) CreateWebhook(ctx context.Context, w *roster.Webhook) error {
	if w.ID == "" {
		w.ID = roster.NewID()
	}
	if _, err := t.GetOrganization(ctx, w.OrgID); err != nil {
		return err
	}
	// The cursor starts at the organization's latest event; flushEvents moves it past the
	// events of this transaction, so the endpoint gets exactly what commits after it.
	head, err := t.headSeq(ctx, w.OrgID)
	if err != nil {
		return err
	}
	t.newWebhooks = append(t.newWebhooks, w.ID)
	w.CursorSeq, w.Enabled, w.CreatedAt, w.UpdatedAt = head, true, t.now, t.now
	if w.EventTypes == nil {
		w.EventTypes = []string{}
	}
	if _, err := t.exec(ctx, `INSERT INTO webhook_endpoints (id, org_id, url, event_types, enabled, secret_enc, cursor_seq, created_at, updated_at)
		VALUES ($1, $2, $3, $4, TRUE, $5, $6, $7, $7)`, w.ID, w.OrgID, w.URL, typesJSON(w.EventTypes), w.SecretEnc, w.CursorSeq, micros(t.now)); err != nil {
		return err
	}
	return t.record(ctx, w.OrgID, "webhook.created", roster.Target{Type: "webhook", ID: w.ID}, nil, snapWebhook(w))
}

func (t *txn) UpdateWebhook(ctx context.Context, w *roster.Webhook) error {
	before, err := t.GetWebhook(ctx, w.OrgID, w.ID)
	if err != nil {
		return err
	}
	q := `UPDATE webhook_endpoints SET url = $3, event_types = $4, enabled = $5, updated_at = $6`
	if w.Enabled && !before.Enabled {
		q += `, disabled_reason = '', failures = 0, failing_since = NULL, next_attempt_at = 0`
	}
	if !w.Enabled && before.Enabled {
		q += `, disabled_reason = 'disabled by an admin'`
	}
	if err := t.execOne(ctx, "webhook", q+` WHERE org_id = $1 AND id = $2`, w.OrgID, w.ID, w.URL, typesJSON(w.EventTypes), w.Enabled, micros(t.now)); err != nil {
		return err
	}
	after, err := t.GetWebhook(ctx, w.OrgID, w.ID)
	if err != nil {
		return err
	}
	*w = *after
	return t.record(ctx, w.OrgID, "webhook.updated", roster.Target{Type: "webhook", ID: w.ID}, snapWebhook(before), snapWebhook(after))
}

func (t *txn) DeleteWebhook(ctx context.Context, orgID, id string) error {
	before, err := t.GetWebhook(ctx, orgID, id)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1`, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, "webhook", `DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
		return err
	}
	return t.record(ctx, orgID, "webhook.deleted", roster.Target{Type: "webhook", ID: id}, snapWebhook(before), nil)
}

func (t *txn) RotateWebhookSecret(ctx context.Context, orgID, id, newEnc string, prevUntil *time.Time) (*roster.Webhook, error) {
	before, err := t.GetWebhook(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	prev := ""
	if prevUntil != nil {
		prev = before.SecretEnc
	}
	if err := t.execOne(ctx, "webhook", `UPDATE webhook_endpoints SET secret_enc = $3, prev_secret_enc = $4, prev_expires_at = $5, updated_at = $6
		WHERE org_id = $1 AND id = $2`, orgID, id, newEnc, prev, nullMicros(prevUntil), micros(t.now)); err != nil {
		return nil, err
	}
	after, err := t.GetWebhook(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	snap := map[string]any{"id": id, "previousSecretExpiresAt": prevUntil}
	return after, t.record(ctx, orgID, "webhook.secret_rotated", roster.Target{Type: "webhook", ID: id}, nil, snap)
}

const deliveryCols = `id, org_id, endpoint_id, event_id, event_seq, event_type, status, attempts, manual, last_attempt_at,
	last_status, last_error, last_latency_us, created_at, delivered_at`

func scanDelivery(sc interface{ Scan(...any) error }) (*roster.Delivery, error) {
	var d roster.Delivery
	var last, delivered sql.NullInt64
	var latency, created int64
	if err := sc.Scan(&d.ID, &d.OrgID, &d.WebhookID, &d.EventID, &d.EventSeq, &d.EventType, &d.Status, &d.Attempts, &d.Manual, &last,
		&d.ResponseStatus, &d.Error, &latency, &created, &delivered); err != nil {
		return nil, err
	}
	d.LastAttemptAt, d.DeliveredAt = fromNullMicros(last), fromNullMicros(delivered)
	d.LatencyMs = float64(latency) / 1000
	d.CreatedAt = fromMicros(created)
	return &d, nil
}

func (r reader) ListDeliveries(ctx context.Context, orgID, webhookID string, p store.Page) ([]roster.Delivery, string, error) {
	if _, err := r.GetWebhook(ctx, orgID, webhookID); err != nil {
		return nil, "", err
	}
	n := limit(p.Limit, 100, 1000)
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2`
	args := []any{orgID, webhookID}
	if p.After != "" {
		args = append(args, p.After)
		q += ` AND id < $3`
	}
	args = append(args, n+1)
	q += ` ORDER BY id DESC LIMIT $` + itoa(len(args))
	return keysetPage(ctx, r, n, func(rows *sql.Rows) (roster.Delivery, error) {
		d, err := scanDelivery(rows)
		if err != nil {
			return roster.Delivery{}, err
		}
		return *d, nil
	}, func(d *roster.Delivery) string { return d.ID }, q, args...)
}

func (r reader) GetDelivery(ctx context.Context, orgID, webhookID, id string) (*roster.Delivery, error) {
	d, err := scanDelivery(r.q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 AND id = $3`,
		orgID, webhookID, id))
	if err != nil {
		return nil, r.notFound(err, "delivery")
	}
	return d, nil
}

func (t *txn) Redeliver(ctx context.Context, orgID, webhookID, deliveryID string) (*roster.Delivery, error) {
	old, err := t.GetDelivery(ctx, orgID, webhookID, deliveryID)
	if err != nil {
		return nil, err
	}
	var one int
	if err := t.q.QueryRowContext(ctx, `SELECT 1 FROM events WHERE org_id = $1 AND seq = $2`, orgID, old.EventSeq).Scan(&one); err != nil {
		if err == sql.ErrNoRows {
			return nil, roster.E(roster.Invalid, "the event of this delivery is no longer retained")
		}
		return nil, t.d.translate(err)
	}
	d := &roster.Delivery{ID: roster.NewID(), OrgID: orgID, WebhookID: webhookID, EventID: old.EventID, EventSeq: old.EventSeq,
		EventType: old.EventType, Status: roster.DeliveryPending, Manual: true, CreatedAt: t.now}
	if _, err := t.exec(ctx, `INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_seq, event_type, status, manual, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', TRUE, $7)`, d.ID, orgID, webhookID, d.EventID, d.EventSeq, d.EventType, micros(t.now)); err != nil {
		return nil, err
	}
	// Wake the endpoint now, even if it is backing off after failures.
	if _, err := t.exec(ctx, `UPDATE webhook_endpoints SET next_attempt_at = 0 WHERE id = $1 AND org_id = $2`, webhookID, orgID); err != nil {
		return nil, err
	}
	return d, t.record(ctx, orgID, "webhook.redelivered", roster.Target{Type: "webhook", ID: webhookID}, nil,
		map[string]string{"deliveryId": d.ID, "redeliveryOf": old.ID, "eventId": d.EventID})
}

// raw runs fn in a write transaction that records nothing: the dispatcher's bookkeeping.
func (s *Store) raw(ctx context.Context, fn func(t *txn) error) error {
	return s.tx(ctx, roster.SystemActor("outbox"), func(tx store.Tx) error { return fn(tx.(*txn)) })
}

func (s *Store) ClaimWebhooks(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]roster.Webhook, error) {
	lock := ""
	if s.d.name() == "postgres" {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	// Committed events get their numbers first (PostgreSQL), so that they are due.
	if err := s.syncEvents(ctx); err != nil {
		return nil, err
	}
	const due = `w.enabled AND w.lease_until < $1 AND w.next_attempt_at <= $1
		AND (EXISTS (SELECT 1 FROM events e WHERE e.org_id = w.org_id AND e.seq > w.cursor_seq)
			OR EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending'))`
	// A read first, so that an idle server polls without write transactions.
	var dueN int
	if err := s.reader.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM webhook_endpoints w WHERE `+due+` LIMIT 1) x`, micros(now)).Scan(&dueN); err != nil {
		return nil, s.d.translate(err)
	}
	if dueN == 0 {
		return nil, nil
	}
	var out []roster.Webhook
	err := s.raw(ctx, func(t *txn) error {
		out = nil
		rows, err := t.q.QueryContext(ctx, `UPDATE webhook_endpoints SET lease_owner = $2, lease_until = $3
			WHERE id IN (SELECT w.id FROM webhook_endpoints w WHERE `+due+`
				ORDER BY w.next_attempt_at, w.id LIMIT $4`+lock+`)
			RETURNING `+webhookCols, micros(now), owner, micros(now.Add(lease)), n)
		if err != nil {
			return t.d.translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			w, err := scanWebhook(rows)
			if err != nil {
				return err
			}
			out = append(out, *w)
		}
		return rows.Err()
	})
	return out, err
}

func (s *Store) FanOut(ctx context.Context, w *roster.Webhook, owner string, n int) (int, error) {
	var considered int
	var cursor int64
	err := s.raw(ctx, func(t *txn) error {
		rows, err := t.q.QueryContext(ctx, `SELECT seq, id, type FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
			w.OrgID, w.CursorSeq, n)
		if err != nil {
			return t.d.translate(err)
		}
		type ev struct {
			seq     int64
			id, typ string
		}
		var evs []ev
		for rows.Next() {
			var e ev
			if err := rows.Scan(&e.seq, &e.id, &e.typ); err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		considered = len(evs)
		if len(evs) == 0 {
			cursor = w.CursorSeq
			return nil
		}
		cursor = evs[len(evs)-1].seq
		var want []ev
		for _, e := range evs {
			if w.Wants(e.typ) {
				want = append(want, e)
			}
		}
		now := micros(t.now)
		for start := 0; start < len(want); start += 100 {
			end := min(start+100, len(want))
			var q strings.Builder
			q.WriteString(`INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_seq, event_type, status, created_at) VALUES `)
			b := &sqlb{d: t.d}
			for k, e := range want[start:end] {
				if k > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(" + b.arg(roster.NewID()) + ", " + b.arg(w.OrgID) + ", " + b.arg(w.ID) + ", " + b.arg(e.id) + ", " +
					b.arg(e.seq) + ", " + b.arg(e.typ) + ", 'pending', " + b.arg(now) + ")")
			}
			if _, err := t.exec(ctx, q.String(), b.args...); err != nil {
				return err
			}
		}
		return t.execOne(ctx, "webhook lease", `UPDATE webhook_endpoints SET cursor_seq = $1
			WHERE id = $2 AND cursor_seq = $3 AND lease_owner = $4`, cursor, w.ID, w.CursorSeq, owner)
	})
	if err != nil {
		if roster.KindOf(err) == roster.NotFound {
			return 0, store.ErrStale
		}
		return 0, err
	}
	w.CursorSeq = cursor
	return considered, nil
}

func (s *Store) PendingDeliveries(ctx context.Context, w *roster.Webhook, n int) ([]store.PendingDelivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.id, d.event_id, d.event_seq, d.event_type, d.attempts, d.manual, d.created_at,
			e.created_at, e.actor_type, e.actor_id, e.data
		FROM webhook_deliveries d LEFT JOIN events e ON e.org_id = d.org_id AND e.seq = d.event_seq
		WHERE d.endpoint_id = $1 AND d.status = 'pending' ORDER BY d.event_seq, d.id LIMIT $2`, w.ID, n)
	if err != nil {
		return nil, s.d.translate(err)
	}
	defer rows.Close()
	var out []store.PendingDelivery
	for rows.Next() {
		var p store.PendingDelivery
		var created int64
		var evCreated sql.NullInt64
		var actorType, actorID, data sql.NullString
		d := &p.Delivery
		if err := rows.Scan(&d.ID, &d.EventID, &d.EventSeq, &d.EventType, &d.Attempts, &d.Manual, &created,
			&evCreated, &actorType, &actorID, &data); err != nil {
			return nil, err
		}
		d.OrgID, d.WebhookID, d.Status, d.CreatedAt = w.OrgID, w.ID, roster.DeliveryPending, fromMicros(created)
		p.Event = roster.Event{Seq: d.EventSeq, ID: d.EventID, OrgID: w.OrgID, Type: d.EventType}
		if data.Valid {
			p.Event.CreatedAt = fromMicros(evCreated.Int64)
			p.Event.Actor = roster.Actor{Type: roster.ActorType(actorType.String), ID: actorID.String}
			p.Event.Data = json.RawMessage(data.String)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) FinishDeliveries(ctx context.Context, w *roster.Webhook, owner string, results []store.AttemptResult, next store.WebhookState) error {
	err := s.raw(ctx, func(t *txn) error {
		for _, r := range results {
			status := roster.DeliveryPending
			var delivered any
			if r.OK {
				status, delivered = roster.DeliverySucceeded, micros(r.At)
			} else if r.Final {
				status = roster.DeliveryFailed
			}
			if _, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_attempt_at = $3,
				last_status = $4, last_error = $5, last_latency_us = $6, delivered_at = $7 WHERE id = $1`,
				r.DeliveryID, status, micros(r.At), r.Status, r.Error, r.Latency.Microseconds(), delivered); err != nil {
				return err
			}
		}
		q := `UPDATE webhook_endpoints SET failures = $3, failing_since = $4, next_attempt_at = $5`
		nextAt := int64(0)
		if !next.NextAttemptAt.IsZero() {
			nextAt = micros(next.NextAttemptAt)
		}
		args := []any{w.ID, owner, next.Failures, nullMicros(next.FailingSince), nextAt}
		if next.Disable {
			args = append(args, next.DisabledReason, micros(t.now))
			q += `, enabled = FALSE, disabled_reason = $6, updated_at = $7`
		}
		if next.Release {
			q += `, lease_owner = '', lease_until = 0`
		}
		return t.execOne(ctx, "webhook lease", q+` WHERE id = $1 AND lease_owner = $2`, args...)
	})
	if roster.KindOf(err) == roster.NotFound {
		return store.ErrStale
	}
	return err
}

// purgeBatch bounds one purge statement, so that no purge holds locks for long.
const purgeBatch = 1000

func (s *Store) PurgeBefore(ctx context.Context, c store.Retention) (store.PurgeCounts, error) {
	var out store.PurgeCounts
	// Each purge is a table, its key and the condition of what is expired ($1 the cutoff).
	purges := []struct {
		n                *int64
		cutoff           time.Time
		table, key, cond string
	}{
		{&out.Audit, c.Audit, "audit_log", "id", "x.created_at < $1"},
		{&out.Deliveries, c.Deliveries, "webhook_deliveries", "id", "x.created_at < $1 AND x.status <> 'pending'"},
		{&out.Events, c.Events, "events", "org_id, seq", "x.created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.org_id = x.org_id AND d.event_seq = x.seq AND d.status = 'pending')" +
			// An organization's newest event stays: on SQLite it is where numbering resumes.
			" AND x.seq < (SELECT MAX(m.seq) FROM events m WHERE m.org_id = x.org_id)"},
		{&out.SCIMRequests, c.SCIMRequests, "scim_request_log", "id", "x.at < $1"},
	}
	for _, p := range purges {
		if p.cutoff.IsZero() {
			continue
		}
		// Look before writing: most hourly runs find nothing and need no write transaction.
		var found int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+p.table+` x WHERE `+p.cond+` LIMIT 1) y`,
			micros(p.cutoff)).Scan(&found); err != nil {
			return out, s.d.translate(err)
		}
		for found > 0 {
			var affected int64
			err := s.raw(ctx, func(t *txn) error {
				xkey := "x." + strings.ReplaceAll(p.key, ", ", ", x.")
				res, err := t.exec(ctx, `DELETE FROM `+p.table+` WHERE (`+p.key+`) IN (SELECT `+xkey+` FROM `+p.table+` x WHERE `+p.cond+` LIMIT $2)`,
					micros(p.cutoff), purgeBatch)
				if err != nil {
					return err
				}
				affected, _ = res.RowsAffected()
				return nil
			})
			if err != nil {
				return out, err
			}
			*p.n += affected
			if affected < purgeBatch {
				break
			}
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
