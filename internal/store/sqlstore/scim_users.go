package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

const userCols = `u.id, u.org_id, u.directory_id, u.user_id, u.user_name, u.external_id, u.active, u.display_name,
	u.given_name, u.family_name, u.email, u.roles, u.resource, u.version, u.created_at, u.updated_at`

// userColsWithGroups adds the user's groups, read in the same statement.
func (r reader) userColsWithGroups() string { return userCols + `, ` + r.d.userGroups("u") }

func scanUser(sc interface{ Scan(...any) error }) (*roster.SCIMUser, error) {
	return scanUserRow(sc, false)
}

func scanUserRow(sc interface{ Scan(...any) error }, withGroups bool) (*roster.SCIMUser, error) {
	var u roster.SCIMUser
	var ext sql.NullString
	var roles, res, groups string
	var created, updated int64
	dest := []any{&u.ID, &u.OrgID, &u.DirectoryID, &u.MemberID, &u.UserName, &ext, &u.Active, &u.DisplayName,
		&u.GivenName, &u.FamilyName, &u.Email, &roles, &res, &u.Version, &created, &updated}
	if withGroups {
		dest = append(dest, &groups)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if withGroups {
		u.Groups = []roster.GroupRef{}
	}
	if groups != "" && groups != "[]" {
		if err := json.Unmarshal([]byte(groups), &u.Groups); err != nil {
			return nil, fmt.Errorf("stored groups: %w", err)
		}
	}
	u.ExternalID = ext.String
	if roles != "" && roles != "[]" {
		if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
			return nil, fmt.Errorf("stored roles: %w", err)
		}
	}
	u.Resource = json.RawMessage(res)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rolesJSON(r []string) string {
	if len(r) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// userAudit is the audit snapshot of a SCIM user: its resource and the keys that matter.
func userAudit(u *roster.SCIMUser) any {
	if u == nil {
		return nil
	}
	return scimUserSnap{u} // events.go
}

func (r reader) GetSCIMUser(ctx context.Context, orgID, dirID, id string) (*roster.SCIMUser, error) {
	u, err := scanUserRow(r.q.QueryRowContext(ctx, `SELECT `+r.userColsWithGroups()+` FROM scim_users u WHERE u.id = $1 AND u.org_id = $2 AND u.directory_id = $3`,
		id, orgID, dirID), true)
	if err != nil {
		return nil, r.notFound(err, "user")
	}
	return u, nil
}

func (r reader) FindSCIMUser(ctx context.Context, orgID, dirID, userName, externalID string) (*roster.SCIMUser, error) {
	var q string
	var args []any
	switch {
	case userName != "" && externalID != "":
		// One statement for the create path: the user with this userName, else a deactivated
		// user with this externalId (the same person pushed again under a new userName).
		// Two indexed lookups: an OR of the two would scan the directory.
		q = `SELECT ` + userCols + ` FROM scim_users u WHERE u.id = COALESCE(
			(SELECT id FROM scim_users WHERE org_id = $1 AND directory_id = $2 AND user_name_key = $3),
			(SELECT id FROM scim_users WHERE org_id = $1 AND directory_id = $2 AND external_id = $4 AND NOT active
				ORDER BY active, id LIMIT 1))`
		args = []any{orgID, dirID, userNameKey(userName), externalID}
	case userName != "":
		q = `SELECT ` + userCols + ` FROM scim_users u WHERE u.org_id = $1 AND u.directory_id = $2 AND u.user_name_key = $3`
		args = []any{orgID, dirID, userNameKey(userName)}
	case externalID != "":
		// externalId is not unique (RFC 7643 section 3.1): a deactivated user comes first, as
		// the one an identity provider is pushing again.
		q = `SELECT ` + userCols + ` FROM scim_users u WHERE u.org_id = $1 AND u.directory_id = $2 AND u.external_id = $3
			ORDER BY u.active, u.id LIMIT 1`
		args = []any{orgID, dirID, externalID}
	default:
		return nil, roster.E(roster.NotFound, "user not found")
	}
	u, err := scanUser(r.q.QueryRowContext(ctx, q, args...))
	if err != nil {
		return nil, r.notFound(err, "user")
	}
	return u, nil
}

// newPersonTaken is true when a create of this person would link or bring back someone:
// $1 org, $2 directory, $3 userName key, $4 externalId, $5 normalized email.
const newPersonTaken = `EXISTS (SELECT 1 FROM scim_users WHERE org_id = $1 AND directory_id = $2 AND user_name_key = $3)
		OR EXISTS (SELECT 1 FROM scim_users WHERE org_id = $1 AND directory_id = $2 AND external_id = $4 AND NOT active)
		OR EXISTS (SELECT 1 FROM users WHERE org_id = $1 AND email = $5 AND deleted_at IS NULL)`

func (r reader) IsNewSCIMPerson(ctx context.Context, orgID, dirID, userName, externalID, email string) (bool, error) {
	var taken bool
	err := r.q.QueryRowContext(ctx, `SELECT `+newPersonTaken,
		orgID, dirID, userNameKey(userName), externalID, roster.NormalizeEmail(email)).Scan(&taken)
	if err != nil {
		return false, r.d.translate(err)
	}
	return !taken, nil
}

// errPersonTaken is RequireNewSCIMPerson's refusal.
var errPersonTaken = roster.E(roster.Conflict, "a user with this userName or externalId, or a member with this email, already exists")

// RequireNewSCIMPerson is, on PostgreSQL, a queued statement that raises a unique violation
// when the person is taken (roster_refuse, migration 0013); elsewhere the read of
// IsNewSCIMPerson in the transaction.
func (t *txn) RequireNewSCIMPerson(ctx context.Context, orgID, dirID, userName, externalID, email string) error {
	if _, ok := t.q.(*pipeline); ok {
		return t.execQueued(ctx, func(err error) error {
			if roster.KindOf(err) == roster.Conflict {
				return errPersonTaken
			}
			return err
		}, `SELECT roster_refuse(`+newPersonTaken+`, 'person taken')`,
			orgID, dirID, userNameKey(userName), externalID, roster.NormalizeEmail(email))
	}
	isNew, err := t.IsNewSCIMPerson(ctx, orgID, dirID, userName, externalID, email)
	if err != nil {
		return err
	}
	if !isNew {
		return errPersonTaken
	}
	return nil
}

// listQuery compiles the shared part of a list: the scope, the condition and the cursor.
func (r reader) listQuery(table, alias, kind, orgID, dirID string, q store.Query) (*sqlb, string, error) {
	b := &sqlb{d: r.d}
	from := ` FROM ` + table + ` ` + alias + ` WHERE ` + alias + `.org_id = ` + b.arg(orgID) + ` AND ` + alias + `.directory_id = ` + b.arg(dirID)
	where, err := b.cond(q.Where, scope{alias: alias, kind: kind})
	if err != nil {
		return nil, "", roster.Wrap(roster.Invalid, err, "unsupported filter")
	}
	if where != "1=1" {
		from += ` AND ` + where
	}
	return b, from, nil
}

// page runs the page of a list and, when asked, its total. A page that is not full tells the
// total by itself (offset plus what it holds), so the typical identity-provider lookup
// (userName eq "…", one row or none) costs one query, not two.
//
// The total of a list without a filter is the directory's count where the dialect keeps one
// (directoryCount), instead of counting the directory on every page.
func (r reader) page(ctx context.Context, b *sqlb, cols, alias, from string, q store.Query, scan func(*sql.Rows) error) (int, error) {
	orgID, dirID := b.args[0], b.args[1] // listQuery binds them first
	count := func() (int, error) {
		n := 0
		if kept := r.d.directoryCount(alias); kept != "" && q.Where == nil {
			if err := r.q.QueryRowContext(ctx, kept, orgID, dirID).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, r.d.translate(err)
			}
			return n, nil
		}
		if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*)`+from, b.args...).Scan(&n); err != nil {
			return 0, r.d.translate(err)
		}
		return n, nil
	}
	if q.Limit <= 0 {
		if !q.CountTotal {
			return -1, nil
		}
		return count()
	}
	countArgs := len(b.args)
	pageFrom := from
	if q.After != "" {
		pageFrom += ` AND ` + alias + `.id > ` + b.arg(q.After)
	}
	order, err := b.orderBy(q, scope{alias: alias})
	if err != nil {
		return 0, roster.Wrap(roster.Invalid, err, "unsupported sortBy")
	}
	stmt := `SELECT ` + cols + pageFrom + ` ORDER BY ` + order + ` LIMIT ` + b.arg(q.Limit)
	if q.Offset > 0 {
		stmt += ` OFFSET ` + b.arg(q.Offset)
	}
	rows, err := r.q.QueryContext(ctx, stmt, b.args...)
	if err != nil {
		return 0, r.d.translate(err)
	}
	n := 0
	for rows.Next() {
		if err := scan(rows); err != nil {
			rows.Close()
			return 0, err
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if !q.CountTotal {
		return -1, nil
	}
	if q.After == "" && n < q.Limit && (n > 0 || q.Offset == 0) {
		return q.Offset + n, nil
	}
	b.args = b.args[:countArgs]
	return count()
}

func (r reader) ListSCIMUsers(ctx context.Context, orgID, dirID string, q store.Query) ([]roster.SCIMUser, int, error) {
	b, from, err := r.listQuery("scim_users", "u", "user", orgID, dirID, q)
	if err != nil {
		return nil, 0, err
	}
	out := []roster.SCIMUser{}
	total, err := r.page(ctx, b, r.userColsWithGroups(), "u", from, q, func(rows *sql.Rows) error {
		u, err := scanUserRow(rows, true)
		if err == nil {
			out = append(out, *u)
		}
		return err
	})
	return out, total, err
}

func (r reader) UserGroups(ctx context.Context, orgID, dirID string, userIDs []string) (map[string][]roster.GroupRef, error) {
	out := map[string][]roster.GroupRef{}
	for start := 0; start < len(userIDs); start += 500 {
		end := min(start+500, len(userIDs))
		b := &sqlb{d: r.d}
		in := ""
		for i, id := range userIDs[start:end] {
			if i > 0 {
				in += ", "
			}
			in += b.arg(id)
		}
		q := `SELECT gm.member_id, g.id, g.display_name FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id
			WHERE gm.member_id IN (` + in + `) AND g.org_id = ` + b.arg(orgID) + ` AND g.directory_id = ` + b.arg(dirID) + ` ORDER BY g.display_name_key, g.id`
		rows, err := r.q.QueryContext(ctx, q, b.args...)
		if err != nil {
			return nil, r.d.translate(err)
		}
		for rows.Next() {
			var uid string
			var g roster.GroupRef
			if err := rows.Scan(&uid, &g.Value, &g.Display); err != nil {
				rows.Close()
				return nil, err
			}
			out[uid] = append(out[uid], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *txn) CreateSCIMUser(ctx context.Context, u *roster.SCIMUser) error {
	t.touch(u.DirectoryID)
	if u.ID == "" {
		u.ID = roster.NewID()
	}
	u.Version, u.CreatedAt, u.UpdatedAt = 1, t.now, t.now
	if err := t.execQueued(ctx, userNameTaken, `INSERT INTO scim_users (id, org_id, directory_id, user_id, user_name, user_name_key, external_id, active,
		display_name, given_name, family_name, email, roles, resource, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		u.ID, u.OrgID, u.DirectoryID, u.MemberID, u.UserName, userNameKey(u.UserName), nullString(u.ExternalID), u.Active,
		u.DisplayName, u.GivenName, u.FamilyName, u.Email, rolesJSON(u.Roles), string(u.Resource), u.Version,
		micros(t.now), micros(t.now)); err != nil {
		return err
	}
	return t.record(ctx, u.OrgID, "user.created", roster.Target{Type: "scim_user", ID: u.ID}, nil, userAudit(u))
}

// userNameTaken says what a unique violation on a SCIM user's row means.
func userNameTaken(err error) error {
	if roster.KindOf(err) == roster.Conflict {
		return roster.Wrap(roster.Conflict, err, "a user with this userName already exists in this directory")
	}
	return err
}

// staleOrMissing tells a failed compare-and-swap apart: the row is gone, or its version moved.
func (t *txn) staleOrMissing(ctx context.Context, table, what, orgID, dirID, id string) error {
	var v int64
	err := t.q.QueryRowContext(ctx, `SELECT version FROM `+table+` WHERE id = $1 AND org_id = $2 AND directory_id = $3`, id, orgID, dirID).Scan(&v)
	if err != nil {
		return t.notFound(err, what)
	}
	return roster.E(roster.Stale, "%s was modified: its version is W/\"%d\"", what, v)
}

func (t *txn) UpdateSCIMUser(ctx context.Context, cur, u *roster.SCIMUser) error {
	t.touch(cur.DirectoryID)
	var res sql.Result
	var err error
	if u.UserName == cur.UserName && u.ExternalID == cur.ExternalID && u.MemberID == cur.MemberID {
		// The usual update (a name, active, an attribute) leaves the indexed columns out of
		// the statement, so that their indexes are not rewritten.
		res, err = t.exec(ctx, `UPDATE scim_users SET active = $4, display_name = $5, given_name = $6, family_name = $7, email = $8,
			roles = $9, resource = $10, version = version + 1, updated_at = $11
			WHERE id = $1 AND org_id = $2 AND directory_id = $3 AND version = $12`,
			cur.ID, cur.OrgID, cur.DirectoryID, u.Active, u.DisplayName, u.GivenName, u.FamilyName, u.Email, rolesJSON(u.Roles),
			string(u.Resource), micros(t.now), cur.Version)
	} else {
		res, err = t.exec(ctx, `UPDATE scim_users SET user_name = $4, user_name_key = $5, external_id = $6, active = $7, display_name = $8,
			given_name = $9, family_name = $10, email = $11, roles = $12, resource = $13, version = version + 1, updated_at = $14, user_id = $15
			WHERE id = $1 AND org_id = $2 AND directory_id = $3 AND version = $16`,
			cur.ID, cur.OrgID, cur.DirectoryID, u.UserName, userNameKey(u.UserName), nullString(u.ExternalID), u.Active, u.DisplayName,
			u.GivenName, u.FamilyName, u.Email, rolesJSON(u.Roles), string(u.Resource), micros(t.now), u.MemberID, cur.Version)
	}
	if err != nil {
		return userNameTaken(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return t.staleOrMissing(ctx, "scim_users", "user", cur.OrgID, cur.DirectoryID, cur.ID)
	}
	u.ID, u.OrgID, u.DirectoryID = cur.ID, cur.OrgID, cur.DirectoryID
	u.Version, u.CreatedAt, u.UpdatedAt = cur.Version+1, cur.CreatedAt, t.now
	return t.record(ctx, u.OrgID, "user.updated", roster.Target{Type: "scim_user", ID: u.ID}, userAudit(cur), userAudit(u))
}

func (t *txn) DeleteSCIMUser(ctx context.Context, orgID, dirID, id string, ifVersion int64) (*roster.SCIMUser, error) {
	t.touch(dirID)
	before, err := t.GetSCIMUser(ctx, orgID, dirID, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && before.Version != ifVersion {
		return nil, roster.E(roster.Stale, "user was modified: its version is W/\"%d\"", before.Version)
	}
	if _, err := t.exec(ctx, `DELETE FROM scim_group_members WHERE member_id = $1 AND directory_id = $2`, id, dirID); err != nil {
		return nil, err
	}
	if err := t.execOne(ctx, "user", `DELETE FROM scim_users WHERE id = $1 AND org_id = $2 AND directory_id = $3`, id, orgID, dirID); err != nil {
		return nil, err
	}
	return before, t.record(ctx, orgID, "user.deleted", roster.Target{Type: "scim_user", ID: id}, userAudit(before), nil)
}
