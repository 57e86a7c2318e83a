package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/rosterhq/roster/internal/store"
)

func itoa(i int) string { return strconv.Itoa(i) }

// TouchLastUsed writes a batch of last-use times in one transaction. The condition keeps the
// newest time when several replicas flush the same credential.
func (s *Store) TouchLastUsed(ctx context.Context, uses []store.Use) error {
	if len(uses) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.d.translate(err)
	}
	defer tx.Rollback()
	for _, u := range uses {
		var table string
		switch u.Kind {
		case store.OrgKeyCredential:
			table = "org_api_keys"
		case store.DirectoryTokenCredential:
			table = "scim_directory_tokens"
		case store.ProjectKeyCredential:
			table = "project_api_keys"
		default:
			return fmt.Errorf("unknown credential kind %q", u.Kind)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET last_used_at = $2
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, u.ID, micros(u.At)); err != nil {
			return s.d.translate(err)
		}
	}
	err = tx.Commit()
	if s.tokens != nil {
		s.tokens.invalidate() // cached lookups carry lastUsedAt
	}
	return s.d.translate(err)
}

// ExpiringCredentials lists credentials expiring in [now, before), across organizations.
// Directory tokens that a rotation has superseded are left out: only a directory's newest
// token matters to an admin.
func (s *Store) ExpiringCredentials(ctx context.Context, now, before time.Time) ([]store.Expiring, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT 'scim_token', t.id, t.org_id, t.directory_id, t.expires_at FROM scim_directory_tokens t
		WHERE t.expires_at >= $1 AND t.expires_at < $2
		  AND t.id = (SELECT id FROM scim_directory_tokens WHERE directory_id = t.directory_id ORDER BY created_at DESC, id DESC LIMIT 1)
		UNION ALL
		SELECT 'org_key', k.id, k.org_id, '', k.expires_at FROM org_api_keys k
		WHERE k.expires_at IS NOT NULL AND k.expires_at >= $1 AND k.expires_at < $2
		ORDER BY 5`, micros(now), micros(before))
	if err != nil {
		return nil, s.d.translate(err)
	}
	defer rows.Close()
	var out []store.Expiring
	for rows.Next() {
		var e store.Expiring
		var kind string
		var at int64
		if err := rows.Scan(&kind, &e.ID, &e.OrgID, &e.DirectoryID, &at); err != nil {
			return nil, err
		}
		e.Kind, e.ExpiresAt = store.CredentialKind(kind), fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
