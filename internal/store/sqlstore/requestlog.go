package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
)

// requestLogKeep is how many requests the log keeps per directory.
const requestLogKeep = 1000

// requestLogChunk bounds the rows of one insert (11 parameters each), under both databases'
// parameter limits.
const requestLogChunk = 100

// AppendSCIMRequests writes a batch of request-log entries and trims each directory it
// touched to its newest requestLogKeep entries. It is called by a coalescer, not per request,
// and records no audit entry: it is a log of requests, not a change. One multi-row insert per
// chunk and one trim per directory, in one transaction: on SQLite it joins the writer's group
// commit, on PostgreSQL it is one round trip. Entries of a directory deleted meanwhile are
// dropped.
func (s *Store) AppendSCIMRequests(ctx context.Context, entries []roster.SCIMRequest) error {
	if len(entries) == 0 {
		return nil
	}
	return s.raw(ctx, func(t *txn) error {
		dirs := map[string]bool{}
		var order []string
		for start := 0; start < len(entries); start += requestLogChunk {
			chunk := entries[start:min(start+requestLogChunk, len(entries))]
			var q strings.Builder
			args := make([]any, 0, 11*len(chunk))
			q.WriteString(`WITH v (id, org_id, directory_id, at, method, path, status, scim_type, detail, latency_us, request_id) AS (VALUES `)
			for k, e := range chunk {
				if k > 0 {
					q.WriteString(", ")
				}
				if t.d.name() == "sqlite" {
					// Anonymous parameters, in order: SQLite finds a numbered parameter's name by
					// walking the statement's list of names, once per parameter, which made
					// binding the 1,100 parameters of a full chunk quadratic (4 % of a busy
					// server's CPU under SCIM creates, all of it on the one writer).
					q.WriteString("(?, ?, ?, CAST(? AS BIGINT), ?, ?, CAST(? AS INTEGER), ?, ?, CAST(? AS BIGINT), ?)")
				} else {
					n := len(args)
					fmt.Fprintf(&q, "($%d, $%d, $%d, CAST($%d AS BIGINT), $%d, $%d, CAST($%d AS INTEGER), $%d, $%d, CAST($%d AS BIGINT), $%d)",
						n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
				}
				args = append(args, roster.NewID(), e.OrgID, e.DirectoryID, micros(e.At), e.Method, e.Path, e.Status, e.ScimType, e.Detail,
					e.Latency.Microseconds(), e.RequestID)
				if !dirs[e.DirectoryID] {
					dirs[e.DirectoryID] = true
					order = append(order, e.DirectoryID)
				}
			}
			q.WriteString(`) INSERT INTO scim_request_log (id, org_id, directory_id, at, method, path, status, scim_type, detail, latency_us, request_id)
				SELECT id, org_id, directory_id, at, method, path, status, scim_type, detail, latency_us, request_id FROM v
				WHERE EXISTS (SELECT 1 FROM scim_directories d WHERE d.id = v.directory_id)`)
			if err := t.execQueued(ctx, nil, q.String(), args...); err != nil {
				return err
			}
		}
		for _, dir := range order {
			if err := t.execQueued(ctx, nil, `DELETE FROM scim_request_log WHERE directory_id = $1 AND id < (
				SELECT id FROM scim_request_log WHERE directory_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, dir, requestLogKeep-1); err != nil {
				return err
			}
		}
		return nil
	})
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
