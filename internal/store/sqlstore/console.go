package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The console's storage: members' credentials (member_credentials), one-time links
// (member_links) and the members listing with its filters. Audit records of these writes
// name what changed, never a hash or a seed.

func (r reader) LoginMembers(ctx context.Context, email string) ([]store.LoginMember, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT u.id, u.org_id, u.email, u.name, u.status, COALESCE(m.role, 'NONE'), u.created_at, u.updated_at, o.name
		FROM users u JOIN organizations o ON o.id = u.org_id
		LEFT JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id
		WHERE u.email = $1 AND u.deleted_at IS NULL ORDER BY o.name, o.id`, roster.NormalizeEmail(email))
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	var out []store.LoginMember
	for rows.Next() {
		var lm store.LoginMember
		var created, updated int64
		m := &lm.Member
		if err := rows.Scan(&m.ID, &m.OrgID, &m.Email, &m.Name, &m.Status, &m.Role, &created, &updated, &lm.OrgName); err != nil {
			return nil, err
		}
		m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, lm)
	}
	return out, rows.Err()
}

func (r reader) GetCredentials(ctx context.Context, orgID, memberID string) (*roster.Credentials, error) {
	c := &roster.Credentials{OrgID: orgID, MemberID: memberID}
	var updated int64
	err := r.q.QueryRowContext(ctx, `SELECT password_hash, totp_secret, totp_enabled, totp_last_step, updated_at
		FROM member_credentials WHERE org_id = $1 AND user_id = $2`, orgID, memberID).
		Scan(&c.PasswordHash, &c.TOTPSecret, &c.TOTPEnabled, &c.TOTPLastStep, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return nil, r.d.translate(err)
	}
	c.UpdatedAt = fromMicros(updated)
	return c, nil
}

// likePattern escapes a search for LIKE with ESCAPE '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// SearchMembers reads the page in two steps, each on an index: the members by keyset on
// (org_id, id), then the directories of that page's members by user id. Joining the
// directories into the page query made PostgreSQL plan a join over every member.
func (r reader) SearchMembers(ctx context.Context, orgID string, f store.MemberFilter) ([]store.MemberRow, string, error) {
	q := `SELECT u.id, u.org_id, u.email, u.name, u.status, COALESCE(m.role, 'NONE'), u.created_at, u.updated_at,
			COALESCE(m.updated_at, u.updated_at)
		FROM users u LEFT JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id
		WHERE u.org_id = $1 AND u.status <> 'deleted'`
	args := []any{orgID}
	add := func(cond string, v any) {
		args = append(args, v)
		q += ` AND ` + strings.ReplaceAll(cond, "$?", "$"+itoa(len(args)))
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		add(`(u.email LIKE $? ESCAPE '\' OR LOWER(u.name) LIKE $? ESCAPE '\')`, likePattern(s))
	}
	switch {
	case f.Role == roster.RoleNone:
		q += ` AND (m.role IS NULL OR m.role = 'NONE')`
	case f.Role != "":
		// A plain comparison, not COALESCE(m.role, …): PostgreSQL estimates the COALESCE at a
		// fraction of a percent and sorts every member instead of walking the id index.
		add(`m.role = $?`, string(f.Role))
	}
	if f.Status != "" {
		add(`u.status = $?`, string(f.Status))
	}
	const provisioned = `EXISTS (SELECT 1 FROM scim_users s WHERE s.user_id = u.id AND s.org_id = u.org_id)`
	switch f.Source {
	case "scim":
		q += ` AND ` + provisioned
	case "manual":
		q += ` AND NOT ` + provisioned
	}
	p := store.ListPage{After: f.After, Limit: limit(f.Limit, 50, 1000)}
	q, args = pageClause(q, args, "u.id", p)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", r.d.translate(err)
	}
	defer rows.Close()
	out := []store.MemberRow{}
	for rows.Next() {
		var mr store.MemberRow
		var created, updated, roleUpdated int64
		m := &mr.Member
		if err := rows.Scan(&m.ID, &m.OrgID, &m.Email, &m.Name, &m.Status, &m.Role, &created, &updated, &roleUpdated); err != nil {
			return nil, "", err
		}
		m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
		mr.ChangedAt = m.UpdatedAt
		if ru := fromMicros(roleUpdated); ru.After(mr.ChangedAt) {
			mr.ChangedAt = ru
		}
		out = append(out, mr)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	rows.Close()
	out, next := nextCursor(out, p, func(m *store.MemberRow) string { return m.ID })
	if len(out) == 0 {
		return out, next, nil
	}
	dq := `SELECT s.user_id, s.directory_id, d.name FROM scim_users s JOIN scim_directories d ON d.id = s.directory_id AND d.org_id = s.org_id
		WHERE s.org_id = $1 AND s.user_id IN (`
	dargs := []any{orgID}
	at := make(map[string]int, len(out))
	for i := range out {
		if i > 0 {
			dq += ", "
		}
		dargs = append(dargs, out[i].ID)
		dq += "$" + itoa(len(dargs))
		at[out[i].ID] = i
	}
	drows, err := r.q.QueryContext(ctx, dq+`) ORDER BY s.id`, dargs...)
	if err != nil {
		return nil, "", r.d.translate(err)
	}
	defer drows.Close()
	for drows.Next() {
		var uid, did, name string
		if err := drows.Scan(&uid, &did, &name); err != nil {
			return nil, "", err
		}
		if i, ok := at[uid]; ok && out[i].DirectoryID == "" {
			out[i].DirectoryID, out[i].DirectoryName = did, name
		}
	}
	return out, next, drows.Err()
}

const linkColumns = `id, org_id, user_id, kind, token_hash, created_by_type, created_by_id, created_at, expires_at, used_at`

func scanLink(sc interface{ Scan(...any) error }) (*roster.MemberLink, error) {
	var l roster.MemberLink
	var created, expires int64
	var used sql.NullInt64
	if err := sc.Scan(&l.ID, &l.OrgID, &l.MemberID, &l.Kind, &l.Hash, &l.CreatedBy.Type, &l.CreatedBy.ID, &created, &expires, &used); err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &l, nil
}

func (r reader) ListMemberLinks(ctx context.Context, orgID string, now time.Time) ([]roster.MemberLink, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+linkColumns+` FROM member_links
		WHERE org_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY id DESC LIMIT 500`, orgID, micros(now))
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.MemberLink{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

func (r reader) LookupMemberLink(ctx context.Context, hash []byte) (*roster.MemberLink, error) {
	l, err := scanLink(r.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM member_links WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, r.notFound(err, "link")
	}
	return l, nil
}

// credentialSnap is what the audit log says of a credential change: which member, and what
// is now true of its sign-in, never a hash or seed.
type credentialSnap struct {
	MemberID    string `json:"memberId"`
	HasPassword bool   `json:"hasPassword"`
	TOTPEnabled bool   `json:"totpEnabled"`
}

// liveMember checks that memberID is a live member of orgID.
func (t *txn) liveMember(ctx context.Context, orgID, memberID string) error {
	var one int
	err := t.q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, memberID).Scan(&one)
	return t.notFound(err, "member")
}

func (t *txn) SetPassword(ctx context.Context, orgID, memberID, hash string) error {
	if err := t.liveMember(ctx, orgID, memberID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO member_credentials (org_id, user_id, password_hash, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
		orgID, memberID, hash, micros(t.now)); err != nil {
		return err
	}
	c, err := t.GetCredentials(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	return t.record(ctx, orgID, "member.password_set", roster.Target{Type: "member", ID: memberID}, nil,
		credentialSnap{MemberID: memberID, HasPassword: c.HasPassword(), TOTPEnabled: c.TOTPEnabled})
}

func (t *txn) SetTOTP(ctx context.Context, orgID, memberID, secretEnc string, enabled bool) error {
	if err := t.liveMember(ctx, orgID, memberID); err != nil {
		return err
	}
	before, err := t.GetCredentials(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	enabled = enabled && secretEnc != ""
	if _, err := t.exec(ctx, `INSERT INTO member_credentials (org_id, user_id, totp_secret, totp_enabled, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id, user_id) DO UPDATE SET totp_secret = excluded.totp_secret, totp_enabled = excluded.totp_enabled,
			totp_last_step = 0, updated_at = excluded.updated_at`,
		orgID, memberID, secretEnc, enabled, micros(t.now)); err != nil {
		return err
	}
	if before.TOTPEnabled == enabled {
		return nil // a seed being set up: nothing is required of the member yet
	}
	action := "member.totp_disabled"
	if enabled {
		action = "member.totp_enabled"
	}
	snap := func(c *roster.Credentials, on bool) credentialSnap {
		return credentialSnap{MemberID: memberID, HasPassword: c.HasPassword(), TOTPEnabled: on}
	}
	return t.record(ctx, orgID, action, roster.Target{Type: "member", ID: memberID}, snap(before, before.TOTPEnabled), snap(before, enabled))
}

func (t *txn) UseTOTPStep(ctx context.Context, orgID, memberID string, step int64) error {
	res, err := t.exec(ctx, `UPDATE member_credentials SET totp_last_step = $3
		WHERE org_id = $1 AND user_id = $2 AND totp_enabled AND totp_last_step < $3`, orgID, memberID, step)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return roster.E(roster.Stale, "this code was used already")
	}
	return nil
}

// linkSnap is a link as the audit log records it, without its hash.
func linkSnap(l *roster.MemberLink) map[string]any {
	return map[string]any{"id": l.ID, "memberId": l.MemberID, "kind": l.Kind, "expiresAt": l.ExpiresAt, "usedAt": l.UsedAt}
}

func (t *txn) CreateMemberLink(ctx context.Context, l *roster.MemberLink) error {
	if err := t.liveMember(ctx, l.OrgID, l.MemberID); err != nil {
		return err
	}
	if l.ID == "" {
		l.ID = roster.NewID()
	}
	if l.CreatedBy.Type == "" {
		l.CreatedBy = t.actor
	}
	l.CreatedAt = t.now
	l.ExpiresAt = l.ExpiresAt.UTC().Truncate(time.Microsecond)
	if _, err := t.exec(ctx, `INSERT INTO member_links (`+linkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)`,
		l.ID, l.OrgID, l.MemberID, string(l.Kind), l.Hash, string(l.CreatedBy.Type), l.CreatedBy.ID, micros(l.CreatedAt), micros(l.ExpiresAt)); err != nil {
		return err
	}
	return t.record(ctx, l.OrgID, "member_link.created", roster.Target{Type: "member_link", ID: l.ID}, nil, linkSnap(l))
}

func (t *txn) UseMemberLink(ctx context.Context, orgID, linkID string, now time.Time) error {
	res, err := t.exec(ctx, `UPDATE member_links SET used_at = $3 WHERE org_id = $1 AND id = $2 AND used_at IS NULL AND expires_at > $4`,
		orgID, linkID, micros(t.now), micros(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return roster.E(roster.Stale, "this link was used already or has expired")
	}
	l, err := scanLink(t.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM member_links WHERE org_id = $1 AND id = $2`, orgID, linkID))
	if err != nil {
		return t.notFound(err, "link")
	}
	return t.record(ctx, orgID, "member_link.used", roster.Target{Type: "member_link", ID: linkID}, nil, linkSnap(l))
}

func (t *txn) RevokeMemberLink(ctx context.Context, orgID, linkID string) error {
	l, err := scanLink(t.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM member_links WHERE org_id = $1 AND id = $2`, orgID, linkID))
	if err != nil {
		return t.notFound(err, "link")
	}
	if err := t.execOne(ctx, "link", `DELETE FROM member_links WHERE org_id = $1 AND id = $2`, orgID, linkID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "member_link.revoked", roster.Target{Type: "member_link", ID: linkID}, linkSnap(l), nil)
}

func (t *txn) ExpireOrgKey(ctx context.Context, orgID, keyID string, at time.Time) error {
	t.credentialsChanged = true
	before, err := t.GetOrgKey(ctx, orgID, keyID)
	if err != nil {
		return err
	}
	at = at.UTC().Truncate(time.Microsecond)
	if before.ExpiresAt != nil && !before.ExpiresAt.After(at) {
		return nil
	}
	if err := t.execOne(ctx, "API key", `UPDATE org_api_keys SET expires_at = $3 WHERE org_id = $1 AND id = $2`,
		orgID, keyID, micros(at)); err != nil {
		return err
	}
	after := *before
	after.ExpiresAt = &at
	return t.record(ctx, orgID, "api_key.expiry_set", roster.Target{Type: "org_api_key", ID: keyID}, before, &after)
}
