package sqlstore

import (
	"context"

	"github.com/rosterhq/roster/internal/roster"
)

// requestLogKeep is how many requests the log keeps per directory.
const requestLogKeep = 1000

// AppendSCIMRequests writes a batch of request-log entries and trims each directory it
// touched to its newest requestLogKeep entries. It is called by a coalescer, not per request,
// and records no audit entry: it is a log of requests, not a change.
func (s *Store) AppendSCIMRequests(ctx context.Context, entries []roster.SCIMRequest) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.d.translate(err)
	}
	defer tx.Rollback()
	dirs := map[string]bool{}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO scim_request_log (id, org_id, directory_id, at, method, path, status, scim_type, detail, latency_us, request_id)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE EXISTS (SELECT 1 FROM scim_directories WHERE id = $3)`)
	if err != nil {
		return s.d.translate(err)
	}
	defer ins.Close()
	for _, e := range entries {
		if _, err := ins.ExecContext(ctx, roster.NewID(), e.OrgID, e.DirectoryID, micros(e.At), e.Method, e.Path, e.Status, e.ScimType, e.Detail,
			e.Latency.Microseconds(), e.RequestID); err != nil {
			return s.d.translate(err)
		}
		dirs[e.DirectoryID] = true
	}
	for dir := range dirs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM scim_request_log WHERE directory_id = $1 AND id < (
			SELECT id FROM scim_request_log WHERE directory_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, dir, requestLogKeep-1); err != nil {
			return s.d.translate(err)
		}
	}
	return s.d.translate(tx.Commit())
}

// ListSCIMRequests returns a directory's newest logged requests first.
func (r reader) ListSCIMRequests(ctx context.Context, orgID, dirID string, limitN int) ([]roster.SCIMRequest, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT org_id, directory_id, at, method, path, status, scim_type, detail, latency_us, request_id
		FROM scim_request_log WHERE org_id = $1 AND directory_id = $2 ORDER BY id DESC LIMIT $3`, orgID, dirID, limit(limitN, 100, requestLogKeep))
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.SCIMRequest{}
	for rows.Next() {
		var e roster.SCIMRequest
		var at, lat int64
		if err := rows.Scan(&e.OrgID, &e.DirectoryID, &at, &e.Method, &e.Path, &e.Status, &e.ScimType, &e.Detail, &lat, &e.RequestID); err != nil {
			return nil, err
		}
		e.At, e.Latency = fromMicros(at), microsDuration(lat)
		out = append(out, e)
	}
	return out, rows.Err()
}
