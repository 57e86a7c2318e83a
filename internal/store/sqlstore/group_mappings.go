package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

func (r reader) ListGroupMappings(ctx context.Context, orgID, dirID string) ([]roster.GroupRoleMapping, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT m.directory_id, m.group_id, g.display_name, m.project_id, m.role
		FROM group_role_mappings m JOIN scim_groups g ON g.id = m.group_id
		WHERE m.org_id = $1 AND m.directory_id = $2 ORDER BY g.display_name_key, m.group_id, m.project_id`, orgID, dirID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.GroupRoleMapping{}
	for rows.Next() {
		var m roster.GroupRoleMapping
		if err := rows.Scan(&m.DirectoryID, &m.GroupID, &m.GroupName, &m.ProjectID, &m.Role); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (t *txn) ReplaceGroupMappings(ctx context.Context, orgID, dirID string, ms []roster.GroupRoleMapping) error {
	before, err := t.ListGroupMappings(ctx, orgID, dirID)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM group_role_mappings WHERE org_id = $1 AND directory_id = $2`, orgID, dirID); err != nil {
		return err
	}
	for _, m := range ms {
		// The group must be one of this directory's, the project one of this organization's.
		res, err := t.exec(ctx, `INSERT INTO group_role_mappings (org_id, directory_id, group_id, project_id, role, created_at)
			SELECT $1, $2, g.id, $4, $5, $6 FROM scim_groups g
			WHERE g.org_id = $1 AND g.directory_id = $2 AND g.id = $3
			  AND ($4 = '' OR EXISTS (SELECT 1 FROM projects p WHERE p.org_id = $1 AND p.id = $4))`,
			orgID, dirID, m.GroupID, m.ProjectID, string(m.Role), micros(t.now))
		if err != nil {
			if roster.KindOf(err) == roster.Conflict {
				return roster.Wrap(roster.Conflict, err, "a group is mapped twice to the same organization or project")
			}
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if m.ProjectID != "" {
				return roster.E(roster.NotFound, "group %s of this directory or project %s not found", m.GroupID, m.ProjectID)
			}
			return roster.E(roster.NotFound, "group %s not found in this directory", m.GroupID)
		}
	}
	after, err := t.ListGroupMappings(ctx, orgID, dirID)
	if err != nil {
		return err
	}
	return t.record(ctx, orgID, "directory.group_mappings_replaced", roster.Target{Type: "directory", ID: dirID}, before, after)
}

func (r reader) GroupUserIDs(ctx context.Context, orgID, dirID, groupID string) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT gm.member_id FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id
		WHERE g.org_id = $1 AND g.directory_id = $2 AND gm.group_id = $3 AND gm.member_type = 'User'`, orgID, dirID, groupID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (r reader) ProvisionInputs(ctx context.Context, orgID, dirID string, ids []string) ([]store.ProvisionInput, error) {
	var out []store.ProvisionInput
	each := chunks
	if r.d.name() == "postgres" {
		// One statement per query with an array parameter: PostgreSQL plans it once.
		each = func(n int, fn func(lo, hi int) error) error {
			if n == 0 {
				return nil
			}
			return fn(0, n)
		}
	}
	err := each(len(ids), func(lo, hi int) error {
		batch := ids[lo:hi]
		in, inArgs := r.in("s.id", 3, batch)
		args := append([]any{orgID, dirID}, inArgs...)
		rows, err := r.q.QueryContext(ctx, `SELECT s.id, s.roles, u.id, u.org_id, u.email, u.name, u.status, COALESCE(m.role, 'NONE'), u.created_at, u.updated_at
			FROM scim_users s JOIN users u ON u.id = s.user_id
			LEFT JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id
			WHERE s.org_id = `+r.marks(1, 1)+` AND s.directory_id = `+r.marks(2, 1)+` AND u.status <> 'deleted' AND `+in, args...)
		if err != nil {
			return r.d.translate(err)
		}
		first := len(out)
		byUser, byMember := map[string]int{}, map[string]int{}
		for rows.Next() {
			var p store.ProvisionInput
			var roles string
			m := &p.Member
			var created, updated int64
			if err := rows.Scan(&p.SCIMUserID, &roles, &m.ID, &m.OrgID, &m.Email, &m.Name, &m.Status, &m.Role, &created, &updated); err != nil {
				rows.Close()
				return err
			}
			m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
			if roles != "" && roles != "[]" {
				if err := json.Unmarshal([]byte(roles), &p.Roles); err != nil {
					rows.Close()
					return fmt.Errorf("stored roles: %w", err)
				}
			}
			byUser[p.SCIMUserID], byMember[m.ID] = len(out), len(out)
			out = append(out, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == first {
			return nil
		}
		in, inArgs = r.in("gm.member_id", 2, batch)
		gargs := append(append([]any{dirID}, inArgs...), orgID, dirID)
		n := len(inArgs)
		rows, err = r.q.QueryContext(ctx, `SELECT gm.member_id, gm.group_id FROM scim_group_members gm
			WHERE gm.directory_id = `+r.marks(1, 1)+` AND `+in+`
			  AND gm.group_id IN (SELECT group_id FROM group_role_mappings WHERE org_id = `+r.marks(n+2, 1)+` AND directory_id = `+r.marks(n+3, 1)+`)`, gargs...)
		if err != nil {
			return r.d.translate(err)
		}
		for rows.Next() {
			var uid, gid string
			if err := rows.Scan(&uid, &gid); err != nil {
				rows.Close()
				return err
			}
			if i, ok := byUser[uid]; ok {
				out[i].Groups = append(out[i].Groups, gid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		members := make([]string, 0, len(out)-first)
		for _, p := range out[first:] {
			members = append(members, p.Member.ID)
		}
		in, inArgs = r.in("user_id", 2, members)
		rows, err = r.q.QueryContext(ctx, `SELECT `+projectMembershipColumns+` FROM project_memberships
			WHERE org_id = `+r.marks(1, 1)+` AND `+in, append([]any{orgID}, inArgs...)...)
		if err != nil {
			return r.d.translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			pm, err := scanProjectMembership(rows)
			if err != nil {
				return err
			}
			if i, ok := byMember[pm.MemberID]; ok {
				out[i].Projects = append(out[i].Projects, *pm)
			}
		}
		return rows.Err()
	})
	return out, err
}

// in is the condition "col is one of vals" with its arguments, its parameters numbered from
// from: one array parameter on PostgreSQL, a list of markers on SQLite.
func (r reader) in(col string, from int, vals []string) (string, []any) {
	if r.d.name() == "postgres" {
		return col + " = ANY(" + r.marks(from, 1) + "::text[])", []any{vals}
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return col + " IN (" + r.marks(from, len(vals)) + ")", args
}
