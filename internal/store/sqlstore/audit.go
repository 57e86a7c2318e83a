package sqlstore

import (
	"context"
	"database/sql"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

func (r reader) ListAudit(ctx context.Context, orgID string, f store.AuditFilter) ([]roster.AuditRecord, string, error) {
	n := limit(f.Limit, 100, 1000)
	q := `SELECT id, org_id, created_at, actor_type, actor_id, action, target_type, target_id,
		before_json, after_json, request_id, ip FROM audit_log WHERE org_id = $1`
	args := []any{orgID}
	if f.After != "" {
		args = append(args, f.After)
		q += ` AND id < $2`
	}
	eq := func(col, v string) {
		if v != "" {
			args = append(args, v)
			q += ` AND ` + col + ` = $` + itoa(len(args))
		}
	}
	eq("actor_id", f.ActorID)
	eq("action", f.Action)
	eq("target_type", f.TargetType)
	eq("target_id", f.TargetID)
	if !f.From.IsZero() {
		args = append(args, micros(f.From))
		q += ` AND created_at >= $` + itoa(len(args))
	}
	if !f.To.IsZero() {
		args = append(args, micros(f.To))
		q += ` AND created_at < $` + itoa(len(args))
	}
	args = append(args, n+1)
	q += ` ORDER BY id DESC LIMIT $` + itoa(len(args))
	return keysetPage(ctx, r, n, scanAudit, func(a *roster.AuditRecord) string { return a.ID }, q, args...)
}

func scanAudit(rows *sql.Rows) (roster.AuditRecord, error) {
	var a roster.AuditRecord
	var created int64
	var before, after sql.NullString
	if err := rows.Scan(&a.ID, &a.OrgID, &created, &a.Actor.Type, &a.Actor.ID, &a.Action, &a.Target.Type,
		&a.Target.ID, &before, &after, &a.RequestID, &a.IP); err != nil {
		return a, err
	}
	a.CreatedAt = fromMicros(created)
	if before.Valid {
		a.Before = []byte(before.String)
	}
	if after.Valid {
		a.After = []byte(after.String)
	}
	return a, nil
}
