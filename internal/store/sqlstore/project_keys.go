package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

const projectKeyColumns = `id, org_id, project_id, public_key, secret_hash, display_secret, note, created_at, expires_at, last_used_at`

func scanProjectKey(sc interface{ Scan(...any) error }) (*roster.APIKey, error) {
	var k roster.APIKey
	var created int64
	var expires, used sql.NullInt64
	if err := sc.Scan(&k.ID, &k.OrgID, &k.ProjectID, &k.PublicKey, &k.SecretHash, &k.DisplaySecretKey, &k.Note,
		&created, &expires, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt = fromMicros(created), fromNullMicros(expires), fromNullMicros(used)
	return &k, nil
}

func (r reader) GetProjectKey(ctx context.Context, orgID, projectID, keyID string) (*roster.APIKey, error) {
	k, err := scanProjectKey(r.q.QueryRowContext(ctx, `SELECT `+projectKeyColumns+` FROM project_api_keys
		WHERE org_id = $1 AND project_id = $2 AND id = $3`, orgID, projectID, keyID))
	if err != nil {
		return nil, r.notFound(err, "API key")
	}
	return k, nil
}

func (r reader) LookupProjectKey(ctx context.Context, publicKey string) (*roster.APIKey, error) {
	k, err := scanProjectKey(r.q.QueryRowContext(ctx, `SELECT `+projectKeyColumns+` FROM project_api_keys WHERE public_key = $1`, publicKey))
	if err != nil {
		return nil, r.notFound(err, "API key")
	}
	return k, nil
}

func (r reader) ListProjectKeys(ctx context.Context, orgID, projectID string) ([]roster.APIKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+projectKeyColumns+` FROM project_api_keys
		WHERE org_id = $1 AND project_id = $2 ORDER BY created_at, id`, orgID, projectID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.APIKey{}
	for rows.Next() {
		k, err := scanProjectKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

func (t *txn) CreateProjectKey(ctx context.Context, k *roster.APIKey) error {
	t.credentialsChanged = true
	if k.ID == "" {
		k.ID = roster.NewID()
	}
	k.CreatedAt = t.now
	if _, err := t.exec(ctx, `INSERT INTO project_api_keys (`+projectKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		k.ID, k.OrgID, k.ProjectID, k.PublicKey, k.SecretHash, k.DisplaySecretKey, k.Note, micros(k.CreatedAt),
		nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt)); err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return roster.Wrap(roster.Conflict, err, "an API key with this public key already exists")
		}
		return err
	}
	return t.record(ctx, k.OrgID, "project_api_key.created", roster.Target{Type: "project_api_key", ID: k.ID}, nil, k)
}

func (t *txn) DeleteProjectKey(ctx context.Context, orgID, projectID, keyID string) error {
	t.credentialsChanged = true
	before, err := t.GetProjectKey(ctx, orgID, projectID, keyID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "API key", `DELETE FROM project_api_keys WHERE org_id = $1 AND project_id = $2 AND id = $3`, orgID, projectID, keyID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "project_api_key.deleted", roster.Target{Type: "project_api_key", ID: keyID}, before, nil)
}

func (t *txn) ExpireProjectKey(ctx context.Context, orgID, projectID, keyID string, at time.Time) error {
	t.credentialsChanged = true
	before, err := t.GetProjectKey(ctx, orgID, projectID, keyID)
	if err != nil {
		return err
	}
	if before.ExpiresAt != nil && !before.ExpiresAt.After(at) {
		return nil
	}
	if err := t.execOne(ctx, "API key", `UPDATE project_api_keys SET expires_at = $4 WHERE org_id = $1 AND project_id = $2 AND id = $3`,
		orgID, projectID, keyID, micros(at)); err != nil {
		return err
	}
	after := *before
	at = at.UTC()
	after.ExpiresAt = &at
	return t.record(ctx, orgID, "project_api_key.expiry_set", roster.Target{Type: "project_api_key", ID: keyID}, before, &after)
}
