package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// userNameKey is the case-insensitive form of a userName (and of a group displayName).
func userNameKey(s string) string { return strings.ToLower(s) }

const groupCols = `g.id, g.org_id, g.directory_id, g.display_name, g.external_id, g.resource, g.version, g.created_at, g.updated_at`

func scanGroup(sc interface{ Scan(...any) error }) (*roster.SCIMGroup, error) {
	var g roster.SCIMGroup
	var ext sql.NullString
	var res string
	var created, updated int64
	if err := sc.Scan(&g.ID, &g.OrgID, &g.DirectoryID, &g.DisplayName, &ext, &res, &g.Version, &created, &updated); err != nil {
		return nil, err
	}
	g.ExternalID, g.Resource = ext.String, json.RawMessage(res)
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &g, nil
}

func groupAudit(g *roster.SCIMGroup) any {
	if g == nil {
		return nil
	}
	return scimGroupSnap{g} // events.go
}

func (r reader) GetSCIMGroup(ctx context.Context, orgID, dirID, id string) (*roster.SCIMGroup, error) {
	g, err := scanGroup(r.q.QueryRowContext(ctx, `SELECT `+groupCols+` FROM scim_groups g WHERE g.id = $1 AND g.org_id = $2 AND g.directory_id = $3`,
		id, orgID, dirID))
	if err != nil {
		return nil, r.notFound(err, "group")
	}
	return g, nil
}

func (r reader) ListSCIMGroups(ctx context.Context, orgID, dirID string, q store.Query) ([]roster.SCIMGroup, int, error) {
	b, from, err := r.listQuery("scim_groups", "g", "group", orgID, dirID, q)
	if err != nil {
		return nil, 0, err
	}
	out := []roster.SCIMGroup{}
	total, err := r.page(ctx, b, groupCols, "g", from, q, func(rows *sql.Rows) error {
		g, err := scanGroup(rows)
		if err == nil {
			out = append(out, *g)
		}
		return err
	})
	return out, total, err
}

func (r reader) GroupMembers(ctx context.Context, orgID, dirID, groupID string) ([]roster.GroupMember, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT gm.member_id, gm.member_type,
		COALESCE(NULLIF(gm.display, ''), NULLIF(u.display_name, ''), u.user_name, g.display_name, '')
		FROM scim_group_members gm
		LEFT JOIN scim_users u ON gm.member_type = 'User' AND u.id = gm.member_id
		LEFT JOIN scim_groups g ON gm.member_type = 'Group' AND g.id = gm.member_id
		WHERE gm.group_id = $1 AND gm.directory_id = $2
		  AND EXISTS (SELECT 1 FROM scim_groups p WHERE p.id = $1 AND p.org_id = $3)
		ORDER BY gm.member_id`, groupID, dirID, orgID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.GroupMember{}
	for rows.Next() {
		var m roster.GroupMember
		if err := rows.Scan(&m.Value, &m.Type, &m.Display); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (t *txn) CreateSCIMGroup(ctx context.Context, g *roster.SCIMGroup, members []roster.GroupMember) error {
	t.touch(g.DirectoryID)
	if g.ID == "" {
		g.ID = roster.NewID()
	}
	g.Version, g.CreatedAt, g.UpdatedAt = 1, t.now, t.now
	if _, err := t.exec(ctx, `INSERT INTO scim_groups (id, org_id, directory_id, display_name, display_name_key, external_id, resource, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		g.ID, g.OrgID, g.DirectoryID, g.DisplayName, userNameKey(g.DisplayName), nullString(g.ExternalID), string(g.Resource), g.Version,
		micros(t.now), micros(t.now)); err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return roster.Wrap(roster.Conflict, err, "a group with this displayName already exists in this directory")
		}
		return err
	}
	if _, err := t.AddGroupMembers(ctx, g.OrgID, g.DirectoryID, g.ID, members); err != nil {
		return err
	}
	return t.record(ctx, g.OrgID, "group.created", roster.Target{Type: "scim_group", ID: g.ID}, nil, groupAudit(g))
}

func (t *txn) UpdateSCIMGroup(ctx context.Context, g *roster.SCIMGroup, ifVersion int64) error {
	t.touch(g.DirectoryID)
	before, err := t.GetSCIMGroup(ctx, g.OrgID, g.DirectoryID, g.ID)
	if err != nil {
		return err
	}
	if ifVersion != 0 && before.Version != ifVersion {
		return roster.E(roster.Stale, "group was modified: its version is W/\"%d\"", before.Version)
	}
	res, err := t.exec(ctx, `UPDATE scim_groups SET display_name = $4, display_name_key = $5, external_id = $6, resource = $7,
		version = version + 1, updated_at = $8 WHERE id = $1 AND org_id = $2 AND directory_id = $3 AND version = $9`,
		g.ID, g.OrgID, g.DirectoryID, g.DisplayName, userNameKey(g.DisplayName), nullString(g.ExternalID), string(g.Resource),
		micros(t.now), before.Version)
	if err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return roster.Wrap(roster.Conflict, err, "a group with this displayName already exists in this directory")
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return t.staleOrMissing(ctx, "scim_groups", "group", g.OrgID, g.DirectoryID, g.ID)
	}
	g.Version, g.CreatedAt, g.UpdatedAt = before.Version+1, before.CreatedAt, t.now
	return t.record(ctx, g.OrgID, "group.updated", roster.Target{Type: "scim_group", ID: g.ID}, groupAudit(before), groupAudit(g))
}

// memberExists checks that a member id names a user or group of the directory.
func (t *txn) memberType(ctx context.Context, orgID, dirID, id string) (string, error) {
	var one int
	err := t.q.QueryRowContext(ctx, `SELECT 1 FROM scim_users WHERE id = $1 AND org_id = $2 AND directory_id = $3`, id, orgID, dirID).Scan(&one)
	if err == nil {
		return "User", nil
	}
	if err != sql.ErrNoRows {
		return "", t.d.translate(err)
	}
	err = t.q.QueryRowContext(ctx, `SELECT 1 FROM scim_groups WHERE id = $1 AND org_id = $2 AND directory_id = $3`, id, orgID, dirID).Scan(&one)
	if err == nil {
		return "Group", nil
	}
	if err != sql.ErrNoRows {
		return "", t.d.translate(err)
	}
	return "", roster.E(roster.Invalid, "member %q is not a user or group of this directory", id)
}

func (t *txn) AddGroupMembers(ctx context.Context, orgID, dirID, groupID string, members []roster.GroupMember) (int, error) {
	t.touch(dirID)
	added := 0
	for _, m := range members {
		typ, err := t.memberType(ctx, orgID, dirID, m.Value)
		if roster.KindOf(err) == roster.Invalid {
			// A member that is not a user or group of this directory is skipped: nothing
			// dangling is stored, and identity providers that send placeholders go on.
			continue
		}
		if err != nil {
			return 0, err
		}
		if m.Type != "" && !strings.EqualFold(m.Type, typ) {
			return 0, roster.E(roster.Invalid, "member %q is a %s, not a %s", m.Value, typ, m.Type)
		}
		if typ == "Group" && m.Value == groupID {
			return 0, roster.E(roster.Invalid, "a group cannot be a member of itself")
		}
		res, err := t.exec(ctx, `INSERT INTO scim_group_members (group_id, member_id, member_type, directory_id, display) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (group_id, member_id) DO NOTHING`, groupID, m.Value, typ, dirID, m.Display)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added++
			if err := t.record(ctx, orgID, "group.member_added", roster.Target{Type: "scim_group", ID: groupID}, nil,
				map[string]string{"value": m.Value, "type": typ}); err != nil {
				return 0, err
			}
		}
	}
	return added, nil
}

func (t *txn) RemoveGroupMembers(ctx context.Context, orgID, dirID, groupID string, ids []string, all bool) (int, error) {
	t.touch(dirID)
	if all {
		res, err := t.exec(ctx, `DELETE FROM scim_group_members WHERE group_id = $1 AND directory_id = $2`, groupID, dirID)
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		if n > 0 {
			if err := t.record(ctx, orgID, "group.members_removed", roster.Target{Type: "scim_group", ID: groupID}, nil,
				map[string]int64{"removed": n}); err != nil {
				return 0, err
			}
		}
		return int(n), nil
	}
	removed := 0
	for _, id := range ids {
		res, err := t.exec(ctx, `DELETE FROM scim_group_members WHERE group_id = $1 AND member_id = $2 AND directory_id = $3`, groupID, id, dirID)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			removed++
			if err := t.record(ctx, orgID, "group.member_removed", roster.Target{Type: "scim_group", ID: groupID},
				map[string]string{"value": id}, nil); err != nil {
				return 0, err
			}
		}
	}
	return removed, nil
}

func (t *txn) TouchSCIMGroup(ctx context.Context, orgID, dirID, groupID string, ifVersion int64) (*roster.SCIMGroup, error) {
	t.touch(dirID)
	res, err := t.exec(ctx, `UPDATE scim_groups SET version = version + 1, updated_at = $4
		WHERE id = $1 AND org_id = $2 AND directory_id = $3 AND ($5 = 0 OR version = $5)`,
		groupID, orgID, dirID, micros(t.now), ifVersion)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, t.staleOrMissing(ctx, "scim_groups", "group", orgID, dirID, groupID)
	}
	return t.GetSCIMGroup(ctx, orgID, dirID, groupID)
}

func (t *txn) DeleteSCIMGroup(ctx context.Context, orgID, dirID, id string, ifVersion int64) error {
	t.touch(dirID)
	before, err := t.GetSCIMGroup(ctx, orgID, dirID, id)
	if err != nil {
		return err
	}
	if ifVersion != 0 && before.Version != ifVersion {
		return roster.E(roster.Stale, "group was modified: its version is W/\"%d\"", before.Version)
	}
	if _, err := t.exec(ctx, `DELETE FROM scim_group_members WHERE member_id = $1 AND directory_id = $2`, id, dirID); err != nil {
		return err
	}
	if err := t.execOne(ctx, "group", `DELETE FROM scim_groups WHERE id = $1 AND org_id = $2 AND directory_id = $3`, id, orgID, dirID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "group.deleted", roster.Target{Type: "scim_group", ID: id}, groupAudit(before), nil)
}
