package sqlstore

import (
	"context"
	"database/sql"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

const orgColumns = `id, name, created_at, updated_at`

func scanOrg(sc interface{ Scan(...any) error }) (*roster.Organization, error) {
	var o roster.Organization
	var created, updated int64
	if err := sc.Scan(&o.ID, &o.Name, &created, &updated); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &o, nil
}

func (r reader) GetOrganization(ctx context.Context, orgID string) (*roster.Organization, error) {
	o, err := scanOrg(r.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = $1`, orgID))
	if err != nil {
		return nil, r.notFound(err, "organization")
	}
	return o, nil
}

func (r reader) ListOrganizations(ctx context.Context, p store.Page) ([]roster.Organization, string, error) {
	n := limit(p.Limit, 100, 1000)
	return keysetPage(ctx, r, n, func(rows *sql.Rows) (roster.Organization, error) {
		o, err := scanOrg(rows)
		if err != nil {
			return roster.Organization{}, err
		}
		return *o, nil
	}, func(o *roster.Organization) string { return o.ID },
		`SELECT `+orgColumns+` FROM organizations WHERE id > $1 ORDER BY id LIMIT $2`, p.After, n+1)
}

func (t *txn) CreateOrganization(ctx context.Context, o *roster.Organization) error {
	if o.ID == "" {
		o.ID = roster.NewID()
	}
	o.CreatedAt, o.UpdatedAt = t.now, t.now
	if _, err := t.exec(ctx, `INSERT INTO organizations (`+orgColumns+`) VALUES ($1, $2, $3, $4)`,
		o.ID, o.Name, micros(o.CreatedAt), micros(o.UpdatedAt)); err != nil {
		return err
	}
	return t.record(ctx, o.ID, "organization.created", roster.Target{Type: "organization", ID: o.ID}, nil, o)
}

func (t *txn) UpdateOrganization(ctx context.Context, o *roster.Organization) error {
	before, err := t.GetOrganization(ctx, o.ID)
	if err != nil {
		return err
	}
	o.CreatedAt, o.UpdatedAt = before.CreatedAt, t.now
	if err := t.execOne(ctx, "organization", `UPDATE organizations SET name = $2, updated_at = $3 WHERE id = $1`,
		o.ID, o.Name, micros(o.UpdatedAt)); err != nil {
		return err
	}
	return t.record(ctx, o.ID, "organization.updated", roster.Target{Type: "organization", ID: o.ID}, before, o)
}

func (t *txn) DeleteOrganization(ctx context.Context, orgID string) error {
	t.credentialsChanged = true
	before, err := t.GetOrganization(ctx, orgID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "organization", `DELETE FROM organizations WHERE id = $1`, orgID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "organization.deleted", roster.Target{Type: "organization", ID: orgID}, before, nil)
}
