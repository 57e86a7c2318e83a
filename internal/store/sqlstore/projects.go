package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

const projectColumns = `id, org_id, name, metadata, created_at, updated_at`

func scanProject(sc interface{ Scan(...any) error }) (*roster.Project, error) {
	var p roster.Project
	var meta sql.NullString
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &meta, &created, &updated); err != nil {
		return nil, err
	}
	if meta.Valid && meta.String != "" {
		p.Metadata = []byte(meta.String)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func (r reader) GetProject(ctx context.Context, orgID, projectID string) (*roster.Project, error) {
	p, err := scanProject(r.q.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE org_id = $1 AND id = $2`, orgID, projectID))
	if err != nil {
		return nil, r.notFound(err, "project")
	}
	return p, nil
}

// pageClause appends the keyset or offset part of a listing ordered by col, and its limit.
// It asks for one row more than the page, to know whether another page follows.
func pageClause(q string, args []any, col string, p store.ListPage) (string, []any) {
	if p.After != "" {
		args = append(args, p.After)
		q += ` AND ` + col + ` > $` + itoa(len(args))
	}
	q += ` ORDER BY ` + col
	if p.Limit > 0 {
		args = append(args, p.Limit+1)
		q += ` LIMIT $` + itoa(len(args))
		if p.After == "" && p.Offset > 0 {
			args = append(args, p.Offset)
			q += ` OFFSET $` + itoa(len(args))
		}
	}
	return q, args
}

// nextCursor trims a page read with one extra row and answers the cursor of the next page.
func nextCursor[T any](rows []T, p store.ListPage, id func(*T) string) ([]T, string) {
	if p.Limit > 0 && len(rows) > p.Limit {
		rows = rows[:p.Limit]
		return rows, id(&rows[len(rows)-1])
	}
	return rows, ""
}

func (r reader) ListProjects(ctx context.Context, orgID string, p store.ListPage) ([]roster.Project, string, error) {
	q, args := pageClause(`SELECT `+projectColumns+` FROM projects WHERE org_id = $1`, []any{orgID}, "id", p)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.Project{}
	for rows.Next() {
		pr, err := scanProject(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *pr)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextCursor(out, p, func(x *roster.Project) string { return x.ID })
	return out, next, nil
}

func (r reader) CountProjects(ctx context.Context, orgID string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects WHERE org_id = $1`, orgID).Scan(&n)
	return n, r.d.translate(err)
}

func nameKey(s string) string { return strings.ToLower(s) }

func (t *txn) CreateProject(ctx context.Context, p *roster.Project) error {
	if p.ID == "" {
		p.ID = roster.NewID()
	}
	p.CreatedAt, p.UpdatedAt = t.now, t.now
	if _, err := t.exec(ctx, `INSERT INTO projects (id, org_id, name, name_key, metadata, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, p.ID, p.OrgID, p.Name, nameKey(p.Name), nullJSON(p.Metadata), micros(t.now)); err != nil {
		return projectConflict(err)
	}
	return t.record(ctx, p.OrgID, "project.created", roster.Target{Type: "project", ID: p.ID}, nil, p)
}

func projectConflict(err error) error {
	if roster.KindOf(err) == roster.Conflict {
		return roster.Wrap(roster.Conflict, err, "a project with this name already exists in this organization")
	}
	return err
}

func (t *txn) UpdateProject(ctx context.Context, p *roster.Project) error {
	before, err := t.GetProject(ctx, p.OrgID, p.ID)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE projects SET name = $3, name_key = $4, metadata = $5, updated_at = $6 WHERE org_id = $1 AND id = $2`,
		p.OrgID, p.ID, p.Name, nameKey(p.Name), nullJSON(p.Metadata), micros(t.now)); err != nil {
		return projectConflict(err)
	}
	p.CreatedAt, p.UpdatedAt = before.CreatedAt, t.now
	return t.record(ctx, p.OrgID, "project.updated", roster.Target{Type: "project", ID: p.ID}, before, p)
}

func (t *txn) DeleteProject(ctx context.Context, orgID, projectID string) error {
	t.credentialsChanged = true // its keys go with it
	before, err := t.GetProject(ctx, orgID, projectID)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM group_role_mappings WHERE org_id = $1 AND project_id = $2`, orgID, projectID); err != nil {
		return err
	}
	if err := t.execOne(ctx, "project", `DELETE FROM projects WHERE org_id = $1 AND id = $2`, orgID, projectID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "project.deleted", roster.Target{Type: "project", ID: projectID}, before, nil)
}
