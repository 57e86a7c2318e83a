package sqlstore

import (
	"context"
	"database/sql"

	"github.com/rosterhq/roster/internal/roster"
)

const orgKeyColumns = `id, org_id, public_key, secret_hash, display_secret, note, created_at, expires_at, last_used_at`

func scanOrgKey(sc interface{ Scan(...any) error }) (*roster.APIKey, error) {
	var k roster.APIKey
	var created int64
	var expires, used sql.NullInt64
	if err := sc.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.SecretHash, &k.DisplaySecretKey, &k.Note,
		&created, &expires, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt = fromMicros(created), fromNullMicros(expires), fromNullMicros(used)
	return &k, nil
}

func (r reader) GetOrgKey(ctx context.Context, orgID, keyID string) (*roster.APIKey, error) {
	k, err := scanOrgKey(r.q.QueryRowContext(ctx,
		`SELECT `+orgKeyColumns+` FROM org_api_keys WHERE org_id = $1 AND id = $2`, orgID, keyID))
	if err != nil {
		return nil, r.notFound(err, "API key")
	}
	return k, nil
}

func (r reader) LookupOrgKey(ctx context.Context, publicKey string) (*roster.APIKey, error) {
	k, err := scanOrgKey(r.q.QueryRowContext(ctx,
		`SELECT `+orgKeyColumns+` FROM org_api_keys WHERE public_key = $1`, publicKey))
	if err != nil {
		return nil, r.notFound(err, "API key")
	}
	return k, nil
}

func (r reader) ListOrgKeys(ctx context.Context, orgID string) ([]roster.APIKey, error) {
	rows, err := r.q.QueryContext(ctx,
		`SELECT `+orgKeyColumns+` FROM org_api_keys WHERE org_id = $1 ORDER BY created_at, id`, orgID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.APIKey{}
	for rows.Next() {
		k, err := scanOrgKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

func (t *txn) CreateOrgKey(ctx context.Context, k *roster.APIKey) error {
	if k.ID == "" {
		k.ID = roster.NewID()
	}
	k.CreatedAt = t.now
	if _, err := t.exec(ctx, `INSERT INTO org_api_keys (`+orgKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.OrgID, k.PublicKey, k.SecretHash, k.DisplaySecretKey, k.Note, micros(k.CreatedAt),
		nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt)); err != nil {
		return err
	}
	return t.record(ctx, k.OrgID, "api_key.created", roster.Target{Type: "org_api_key", ID: k.ID}, nil, k)
}

func (t *txn) DeleteOrgKey(ctx context.Context, orgID, keyID string) error {
	before, err := t.GetOrgKey(ctx, orgID, keyID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "API key", `DELETE FROM org_api_keys WHERE org_id = $1 AND id = $2`, orgID, keyID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "api_key.deleted", roster.Target{Type: "org_api_key", ID: keyID}, before, nil)
}
