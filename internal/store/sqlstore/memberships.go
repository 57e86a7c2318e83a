package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// chunk bounds the rows of one multi-row statement: 512 rows of up to 12 parameters stay
// well inside both databases' parameter limits.
const chunk = 512

// placeholders returns "$from, …, $(from+n-1)".
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(itoa(from + i))
	}
	return b.String()
}

// marks returns n parameter markers for a statement whose every parameter is generated in
// order: "?" on SQLite, whose driver looks each numbered parameter's name up in a list (so
// that binding thousands of them costs quadratic time), "$from…" on PostgreSQL.
func (r reader) marks(from, n int) string {
	if r.d.name() != "sqlite" {
		return placeholders(from, n)
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// chunks calls fn on consecutive ranges of [0, n): full chunks, then the rest in powers of
// two, so that a statement built per range has one of ten sizes and the prepared-statement
// caches stay small however the batches vary.
func chunks(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := chunk
		for size > n-lo {
			size /= 2
		}
		if err := fn(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}

func (r reader) ListMembers(ctx context.Context, orgID string, p store.ListPage) ([]roster.Member, string, error) {
	q, args := memberSelect+` WHERE u.org_id = $1 AND u.status <> 'deleted'`, []any{orgID}
	if p.Offset > 0 && p.After == "" {
		// Page numbers: find the page's first id from the index alone, then read the page
		// by keyset, so that a deep page does not join every row it skips.
		var start string
		err := r.q.QueryRowContext(ctx, `SELECT id FROM users WHERE org_id = $1 AND status <> 'deleted' ORDER BY id LIMIT 1 OFFSET $2`,
			orgID, p.Offset).Scan(&start)
		if errors.Is(err, sql.ErrNoRows) {
			return []roster.Member{}, "", nil
		}
		if err != nil {
			return nil, "", r.d.translate(err)
		}
		q, args = q+` AND u.id >= $2`, append(args, start)
		p.Offset = 0
	}
	q, args = pageClause(q, args, "u.id", p)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextCursor(out, p, func(m *roster.Member) string { return m.ID })
	return out, next, nil
}

func (r reader) CountMembers(ctx context.Context, orgID string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE org_id = $1 AND status <> 'deleted'`, orgID).Scan(&n)
	return n, r.d.translate(err)
}

func (r reader) membersWhere(ctx context.Context, orgID, col string, keys []string) (map[string]*roster.Member, error) {
	out := make(map[string]*roster.Member, len(keys))
	n := len(keys)
	if r.d.name() == "postgres" && n > 0 {
		n = 1 // one statement with an array parameter: PostgreSQL plans it once, whatever its size
	}
	err := chunks(n, func(lo, hi int) error {
		var rows *sql.Rows
		var err error
		if r.d.name() == "postgres" {
			rows, err = r.q.QueryContext(ctx, memberSelect+` WHERE u.org_id = $1 AND u.status <> 'deleted' AND `+col+` = ANY($2::text[])`, orgID, keys)
		} else {
			args := []any{orgID}
			for _, k := range keys[lo:hi] {
				args = append(args, k)
			}
			rows, err = r.q.QueryContext(ctx, memberSelect+` WHERE u.org_id = `+r.marks(1, 1)+` AND u.status <> 'deleted' AND `+col+` IN (`+r.marks(2, hi-lo)+`)`, args...)
		}
		if err != nil {
			return r.d.translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMember(rows)
			if err != nil {
				return err
			}
			if col == "u.email" {
				out[m.Email] = m
			} else {
				out[m.ID] = m
			}
		}
		return rows.Err()
	})
	return out, err
}

func (r reader) MembersByID(ctx context.Context, orgID string, ids []string) (map[string]*roster.Member, error) {
	return r.membersWhere(ctx, orgID, "u.id", ids)
}

func (r reader) MembersByEmail(ctx context.Context, orgID string, emails []string) (map[string]*roster.Member, error) {
	norm := make([]string, len(emails))
	for i, e := range emails {
		norm[i] = roster.NormalizeEmail(e)
	}
	return r.membersWhere(ctx, orgID, "u.email", norm)
}

const projectMembershipColumns = `org_id, project_id, user_id, role, source, created_at, updated_at`

func scanProjectMembership(sc interface{ Scan(...any) error }) (*roster.ProjectMembership, error) {
	var pm roster.ProjectMembership
	var created, updated int64
	if err := sc.Scan(&pm.OrgID, &pm.ProjectID, &pm.MemberID, &pm.Role, &pm.Source, &created, &updated); err != nil {
		return nil, err
	}
	pm.CreatedAt, pm.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &pm, nil
}

func (r reader) GetProjectMembership(ctx context.Context, orgID, projectID, memberID string) (*roster.ProjectMembership, error) {
	pm, err := scanProjectMembership(r.q.QueryRowContext(ctx, `SELECT `+projectMembershipColumns+` FROM project_memberships
		WHERE org_id = $1 AND project_id = $2 AND user_id = $3`, orgID, projectID, memberID))
	if err != nil {
		return nil, r.notFound(err, "project membership")
	}
	return pm, nil
}

func (r reader) ListProjectMembers(ctx context.Context, orgID, projectID string, p store.ListPage) ([]roster.ProjectMember, string, error) {
	q, args := pageClause(`SELECT u.id, u.org_id, u.email, u.name, u.status, COALESCE(m.role, 'NONE'), u.created_at, u.updated_at, pm.role
		FROM project_memberships pm JOIN users u ON u.id = pm.user_id
		LEFT JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id
		WHERE pm.org_id = $1 AND pm.project_id = $2 AND u.status <> 'deleted'`, []any{orgID, projectID}, "pm.user_id", p)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.ProjectMember{}
	for rows.Next() {
		var pm roster.ProjectMember
		var created, updated int64
		if err := rows.Scan(&pm.ID, &pm.OrgID, &pm.Email, &pm.Name, &pm.Status, &pm.Role, &created, &updated, &pm.ProjectRole); err != nil {
			return nil, "", err
		}
		pm.CreatedAt, pm.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, pm)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextCursor(out, p, func(m *roster.ProjectMember) string { return m.ID })
	return out, next, nil
}

func (r reader) CountProjectMembers(ctx context.Context, orgID, projectID string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM project_memberships pm JOIN users u ON u.id = pm.user_id
		WHERE pm.org_id = $1 AND pm.project_id = $2 AND u.status <> 'deleted'`, orgID, projectID).Scan(&n)
	return n, r.d.translate(err)
}

func (r reader) MemberProjects(ctx context.Context, orgID, memberID string) ([]roster.ProjectMembership, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+projectMembershipColumns+` FROM project_memberships
		WHERE org_id = $1 AND user_id = $2 ORDER BY project_id`, orgID, memberID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.ProjectMembership{}
	for rows.Next() {
		pm, err := scanProjectMembership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *pm)
	}
	return out, rows.Err()
}

// lockOwners serialises changes to an organization's owners: on PostgreSQL two transactions
// that each demote one of two owners would otherwise both see the other owner and both
// commit. SQLite has one writer at a time already.
func (t *txn) lockOwners(ctx context.Context, orgID string) error {
	if t.d.name() != "postgres" {
		return nil
	}
	_, err := t.exec(ctx, `SELECT id FROM organizations WHERE id = $1 FOR UPDATE`, orgID)
	return err
}

// guardOwners refuses taking the OWNER role from demoted members if no owner would remain.
func (t *txn) guardOwners(ctx context.Context, orgID string, demoted int) error {
	if demoted == 0 {
		return nil
	}
	if err := t.lockOwners(ctx, orgID); err != nil {
		return err
	}
	var owners int
	if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = $1 AND m.role = 'OWNER' AND u.status <> 'deleted'`, orgID).Scan(&owners); err != nil {
		return t.d.translate(err)
	}
	return roster.CheckOwners(owners, demoted)
}

// auditEntry is one record of recordMany.
type auditEntry struct {
	action        string
	target        roster.Target
	before, after any
}

// recordMany writes many audit records in multi-row statements (on PostgreSQL, one
// statement of array parameters): a bulk change of ten thousand roles must not cost ten
// thousand round trips.
func (t *txn) recordMany(ctx context.Context, orgID string, entries []auditEntry) error {
	if t.d.name() == "postgres" && len(entries) > 0 {
		n := len(entries)
		ids, actions, types, targets := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		befores, afters := make([]*string, n), make([]*string, n)
		for i, e := range entries {
			b, err := jsonOrNil(e.before)
			if err != nil {
				return err
			}
			a, err := jsonOrNil(e.after)
			if err != nil {
				return err
			}
			if b != nil {
				s := b.(string)
				befores[i] = &s
			}
			if a != nil {
				s := a.(string)
				afters[i] = &s
			}
			ids[i], actions[i], types[i], targets[i] = roster.NewID(), e.action, e.target.Type, e.target.ID
		}
		_, err := t.exec(ctx, `INSERT INTO audit_log (id, org_id, created_at, actor_type, actor_id, action,
			target_type, target_id, before_json, after_json, request_id, ip)
			SELECT e.id, $2, $3, $4, $5, e.action, e.target_type, e.target_id, e.b::jsonb, e.a::jsonb, $6, $7
			FROM unnest($1::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) AS e(id, action, target_type, target_id, b, a)`,
			ids, orgID, micros(t.now), string(t.actor.Type), t.actor.ID, t.meta.RequestID, t.meta.IP, actions, types, targets, befores, afters)
		return err
	}
	return chunks(len(entries), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*12)
		var values strings.Builder
		for i, e := range entries[lo:hi] {
			b, err := jsonOrNil(e.before)
			if err != nil {
				return err
			}
			a, err := jsonOrNil(e.after)
			if err != nil {
				return err
			}
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString("(" + t.marks(len(args)+1, 12) + ")")
			args = append(args, roster.NewID(), orgID, micros(t.now), string(t.actor.Type), t.actor.ID, e.action,
				e.target.Type, e.target.ID, b, a, t.meta.RequestID, t.meta.IP)
		}
		_, err := t.exec(ctx, `INSERT INTO audit_log (id, org_id, created_at, actor_type, actor_id, action,
			target_type, target_id, before_json, after_json, request_id, ip) VALUES `+values.String(), args...)
		return err
	})
}

func (t *txn) SetOrgRoles(ctx context.Context, orgID string, changes []store.RoleChange) error {
	demoted := 0
	var todo []store.RoleChange
	// One member named twice (two SCIM users of a directory linked to one member) gets the
	// higher role: one statement cannot write a row twice.
	at := make(map[string]int, len(changes))
	for _, c := range changes {
		if c.Before.OrgID != orgID {
			return roster.E(roster.NotFound, "member not found")
		}
		if i, dup := at[c.Before.ID]; dup {
			todo[i].Role = roster.Max(todo[i].Role, c.Role)
			continue
		}
		at[c.Before.ID] = len(todo)
		todo = append(todo, c)
	}
	kept := todo[:0]
	for _, c := range todo {
		if c.Before.Role == c.Role {
			continue
		}
		if c.Before.Role == roster.RoleOwner {
			demoted++
		}
		kept = append(kept, c)
	}
	todo = kept
	if err := t.guardOwners(ctx, orgID, demoted); err != nil {
		return err
	}
	if t.d.name() == "postgres" && len(todo) > 0 {
		users, roles := make([]string, len(todo)), make([]string, len(todo))
		for i, c := range todo {
			users[i], roles[i] = c.Before.ID, string(c.Role)
		}
		if _, err := t.exec(ctx, `INSERT INTO org_memberships (org_id, user_id, role, created_at, updated_at)
			SELECT $1, c.user_id, c.role, $4, $4 FROM unnest($2::text[], $3::text[]) AS c(user_id, role)
			ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at`,
			orgID, users, roles, micros(t.now)); err != nil {
			return err
		}
	} else if err := chunks(len(todo), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*5)
		var values strings.Builder
		for i, c := range todo[lo:hi] {
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString("(" + t.marks(len(args)+1, 5) + ")")
			args = append(args, orgID, c.Before.ID, string(c.Role), micros(t.now), micros(t.now))
		}
		_, err := t.exec(ctx, `INSERT INTO org_memberships (org_id, user_id, role, created_at, updated_at) VALUES `+values.String()+`
			ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at`, args...)
		return err
	}); err != nil {
		return err
	}
	entries := make([]auditEntry, len(todo))
	for i, c := range todo {
		after := *c.Before
		after.Role = c.Role
		entries[i] = auditEntry{"membership.role_changed", roster.Target{Type: "member", ID: c.Before.ID}, c.Before, &after}
	}
	return t.recordMany(ctx, orgID, entries)
}

func (t *txn) SetProjectRoles(ctx context.Context, orgID string, changes []store.ProjectRoleChange) error {
	var entries []auditEntry
	var upserts []store.ProjectRoleChange
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		target := roster.Target{Type: "project_membership", ID: c.ProjectID + "/" + c.Member.ID}
		if c.Member.OrgID != orgID {
			return roster.E(roster.NotFound, "member not found")
		}
		if c.Delete {
			if c.Before == nil {
				continue
			}
			if err := t.execOne(ctx, "project membership", `DELETE FROM project_memberships WHERE org_id = $1 AND project_id = $2 AND user_id = $3`,
				orgID, c.ProjectID, c.Member.ID); err != nil {
				return err
			}
			entries = append(entries, auditEntry{"project_membership.deleted", target, c.Before, nil})
			continue
		}
		if c.Before != nil && c.Before.Role == c.Role && c.Before.Source == c.Source {
			continue
		}
		if seen[target.ID] {
			return roster.E(roster.Invalid, "project membership %s is set twice in one change", target.ID)
		}
		seen[target.ID] = true
		upserts = append(upserts, c)
		after := roster.ProjectMembership{OrgID: orgID, ProjectID: c.ProjectID, MemberID: c.Member.ID, Role: c.Role, Source: c.Source,
			CreatedAt: t.now, UpdatedAt: t.now}
		if c.Before != nil {
			after.CreatedAt = c.Before.CreatedAt
		}
		entries = append(entries, auditEntry{"project_membership.set", target, c.Before, &after})
	}
	const upsert = ` ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role, source = excluded.source, updated_at = excluded.updated_at`
	if t.d.name() == "postgres" && len(upserts) > 0 {
		n := len(upserts)
		projects, users, roles, sources := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, c := range upserts {
			projects[i], users[i], roles[i], sources[i] = c.ProjectID, c.Member.ID, string(c.Role), c.Source
		}
		if _, err := t.exec(ctx, `INSERT INTO project_memberships (org_id, project_id, user_id, role, source, created_at, updated_at)
			SELECT $1, c.project_id, c.user_id, c.role, c.source, $6, $6
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS c(project_id, user_id, role, source)`+upsert,
			orgID, projects, users, roles, sources, micros(t.now)); err != nil {
			return err
		}
	} else if err := chunks(len(upserts), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*7)
		var values strings.Builder
		for i, c := range upserts[lo:hi] {
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString("(" + t.marks(len(args)+1, 7) + ")")
			args = append(args, orgID, c.ProjectID, c.Member.ID, string(c.Role), c.Source, micros(t.now), micros(t.now))
		}
		_, err := t.exec(ctx, `INSERT INTO project_memberships (org_id, project_id, user_id, role, source, created_at, updated_at) VALUES `+
			values.String()+upsert, args...)
		return err
	}); err != nil {
		return err
	}
	return t.recordMany(ctx, orgID, entries)
}
