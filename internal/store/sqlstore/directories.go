package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// dirSelect reads a directory with its current (newest) token's prefix, expiry and last use.
const dirSelect = `SELECT d.id, d.org_id, d.name, d.default_role, d.enabled, d.is_default, d.created_at, d.updated_at,
	t.prefix, t.expires_at, t.last_used_at
	FROM scim_directories d
	LEFT JOIN scim_directory_tokens t ON t.id = (
		SELECT id FROM scim_directory_tokens WHERE directory_id = d.id ORDER BY created_at DESC, id DESC LIMIT 1)`

func scanDir(sc interface{ Scan(...any) error }) (*roster.Directory, error) {
	var d roster.Directory
	var created, updated int64
	var prefix sql.NullString
	var expires, used sql.NullInt64
	if err := sc.Scan(&d.ID, &d.OrgID, &d.Name, &d.DefaultRole, &d.Enabled, &d.IsDefault, &created, &updated,
		&prefix, &expires, &used); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	d.TokenPrefix, d.TokenExpiresAt, d.TokenLastUsed = prefix.String, fromNullMicros(expires), fromNullMicros(used)
	return &d, nil
}

func (r reader) GetDirectory(ctx context.Context, orgID, dirID string) (*roster.Directory, error) {
	d, err := scanDir(r.q.QueryRowContext(ctx, dirSelect+` WHERE d.org_id = $1 AND d.id = $2`, orgID, dirID))
	if err != nil {
		return nil, r.notFound(err, "directory")
	}
	return d, nil
}

func (r reader) DefaultDirectory(ctx context.Context, orgID string) (*roster.Directory, error) {
	d, err := scanDir(r.q.QueryRowContext(ctx, dirSelect+` WHERE d.org_id = $1 AND d.is_default`, orgID))
	if err != nil {
		return nil, r.notFound(err, "directory")
	}
	return d, nil
}

func (r reader) ListDirectories(ctx context.Context, orgID string) ([]roster.Directory, error) {
	rows, err := r.q.QueryContext(ctx, dirSelect+` WHERE d.org_id = $1 ORDER BY d.id`, orgID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.Directory{}
	for rows.Next() {
		d, err := scanDir(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

func (r reader) LookupDirectoryToken(ctx context.Context, hash []byte, now time.Time) (*roster.DirectoryToken, *roster.Directory, error) {
	var t roster.DirectoryToken
	var d roster.Directory
	var tc, te, dc, du int64
	var used sql.NullInt64
	err := r.q.QueryRowContext(ctx, `SELECT t.id, t.directory_id, t.org_id, t.token_hash, t.prefix, t.created_at, t.expires_at, t.last_used_at,
		d.name, d.default_role, d.enabled, d.is_default, d.created_at, d.updated_at
		FROM scim_directory_tokens t JOIN scim_directories d ON d.id = t.directory_id
		WHERE t.token_hash = $1 AND t.expires_at > $2`, hash, micros(now)).Scan(
		&t.ID, &t.DirectoryID, &t.OrgID, &t.Hash, &t.Prefix, &tc, &te, &used,
		&d.Name, &d.DefaultRole, &d.Enabled, &d.IsDefault, &dc, &du)
	if err != nil {
		return nil, nil, r.notFound(err, "token")
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromMicros(tc), fromMicros(te), fromNullMicros(used)
	d.ID, d.OrgID, d.CreatedAt, d.UpdatedAt = t.DirectoryID, t.OrgID, fromMicros(dc), fromMicros(du)
	return &t, &d, nil
}

func (t *txn) insertToken(ctx context.Context, tok *roster.DirectoryToken) error {
	if tok.ID == "" {
		tok.ID = roster.NewID()
	}
	tok.CreatedAt = t.now
	t.credentialsChanged = true
	_, err := t.exec(ctx, `INSERT INTO scim_directory_tokens (id, directory_id, org_id, token_hash, prefix, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tok.ID, tok.DirectoryID, tok.OrgID, tok.Hash, tok.Prefix, micros(tok.CreatedAt), micros(tok.ExpiresAt))
	return err
}

func (t *txn) CreateDirectory(ctx context.Context, d *roster.Directory, tok *roster.DirectoryToken) error {
	if d.ID == "" {
		d.ID = roster.NewID()
	}
	d.CreatedAt, d.UpdatedAt = t.now, t.now
	if _, err := t.exec(ctx, `INSERT INTO scim_directories (id, org_id, name, default_role, enabled, is_default, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.OrgID, d.Name, string(d.DefaultRole), d.Enabled, d.IsDefault, micros(d.CreatedAt), micros(d.UpdatedAt)); err != nil {
		return err
	}
	if tok != nil {
		tok.DirectoryID, tok.OrgID = d.ID, d.OrgID
		if err := t.insertToken(ctx, tok); err != nil {
			return err
		}
		d.TokenPrefix, d.TokenExpiresAt = tok.Prefix, &tok.ExpiresAt
	}
	return t.record(ctx, d.OrgID, "directory.created", roster.Target{Type: "directory", ID: d.ID}, nil, d)
}

func (t *txn) UpdateDirectory(ctx context.Context, d *roster.Directory) error {
	t.credentialsChanged = true
	before, err := t.GetDirectory(ctx, d.OrgID, d.ID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "directory", `UPDATE scim_directories SET name = $3, default_role = $4, enabled = $5, updated_at = $6
		WHERE org_id = $1 AND id = $2`, d.OrgID, d.ID, d.Name, string(d.DefaultRole), d.Enabled, micros(t.now)); err != nil {
		return err
	}
	after, err := t.GetDirectory(ctx, d.OrgID, d.ID)
	if err != nil {
		return err
	}
	*d = *after
	return t.record(ctx, d.OrgID, "directory.updated", roster.Target{Type: "directory", ID: d.ID}, before, after)
}

func (t *txn) DeleteDirectory(ctx context.Context, orgID, dirID string) error {
	t.credentialsChanged = true
	before, err := t.GetDirectory(ctx, orgID, dirID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "directory", `DELETE FROM scim_directories WHERE org_id = $1 AND id = $2`, orgID, dirID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "directory.deleted", roster.Target{Type: "directory", ID: dirID}, before, nil)
}

func (t *txn) RotateDirectoryToken(ctx context.Context, tok *roster.DirectoryToken, oldExpireAt time.Time) error {
	t.credentialsChanged = true
	before, err := t.GetDirectory(ctx, tok.OrgID, tok.DirectoryID)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE scim_directory_tokens SET expires_at = $3
		WHERE org_id = $1 AND directory_id = $2 AND expires_at > $3`,
		tok.OrgID, tok.DirectoryID, micros(oldExpireAt)); err != nil {
		return err
	}
	if err := t.insertToken(ctx, tok); err != nil {
		return err
	}
	after, err := t.GetDirectory(ctx, tok.OrgID, tok.DirectoryID)
	if err != nil {
		return err
	}
	return t.record(ctx, tok.OrgID, "directory.token_regenerated", roster.Target{Type: "directory", ID: tok.DirectoryID}, before, after)
}
