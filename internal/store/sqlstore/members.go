package sqlstore

import (
	"context"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// memberCols are memberSelect's columns of the member u, for a read that joins one.
const memberCols = `u.id, u.org_id, u.email, u.name, u.status, COALESCE(m.role, 'NONE'), u.created_at, u.updated_at`

// selectWithMember selects cols of table (which has org_id and user_id) and, after them,
// memberCols of the member the row belongs to; the query goes on with its WHERE on x.
func selectWithMember(cols, table string) string {
	return `SELECT x.` + strings.ReplaceAll(cols, ", ", ", x.") + `, ` + memberCols + ` FROM ` + table + ` x
	JOIN users u ON u.org_id = x.org_id AND u.id = x.user_id
	LEFT JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id`
}

// memberRoleIs compares the organization role of the member $2 of the organization $1 (as
// memberCols reads it) with what follows it.
const memberRoleIs = `COALESCE((SELECT role FROM org_memberships WHERE org_id = $1 AND user_id = $2), 'NONE') = `

const memberSelect = `SELECT ` + memberCols + `
	FROM users u LEFT JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id`

func scanMember(sc interface{ Scan(...any) error }) (*roster.Member, error) {
	var md memberDest
	if err := sc.Scan(md.dest()...); err != nil {
		return nil, err
	}
	return md.member(), nil
}

// memberDest is what scanMember scans into, for a read that joins a member (memberCols).
type memberDest struct {
	m                roster.Member
	created, updated int64
}

func (d *memberDest) dest() []any {
	return []any{&d.m.ID, &d.m.OrgID, &d.m.Email, &d.m.Name, &d.m.Status, &d.m.Role, &d.created, &d.updated}
}

func (d *memberDest) member() *roster.Member {
	d.m.CreatedAt, d.m.UpdatedAt = fromMicros(d.created), fromMicros(d.updated)
	return &d.m
}

func (r reader) GetMember(ctx context.Context, orgID, memberID string) (*roster.Member, error) {
	m, err := scanMember(r.q.QueryRowContext(ctx, memberSelect+` WHERE u.org_id = $1 AND u.id = $2`, orgID, memberID))
	if err != nil {
		return nil, r.notFound(err, "member")
	}
	return m, nil
}

func (r reader) GetMemberByEmail(ctx context.Context, orgID, email string) (*roster.Member, error) {
	m, err := scanMember(r.q.QueryRowContext(ctx, memberSelect+` WHERE u.org_id = $1 AND u.email = $2 AND u.deleted_at IS NULL`,
		orgID, roster.NormalizeEmail(email)))
	if err != nil {
		return nil, r.notFound(err, "member")
	}
	return m, nil
}

func (t *txn) CreateMember(ctx context.Context, m *roster.Member) error {
	if m.ID == "" {
		m.ID = roster.NewID()
	}
	if m.Status == "" {
		m.Status = roster.MemberActive
	}
	if m.Role == "" {
		m.Role = roster.RoleNone
	}
	m.Email = roster.NormalizeEmail(m.Email)
	m.CreatedAt, m.UpdatedAt = t.now, t.now
	if err := t.execQueued(ctx, nil, `INSERT INTO users (id, org_id, email, name, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.ID, m.OrgID, m.Email, m.Name, string(m.Status), micros(t.now), micros(t.now)); err != nil {
		return err
	}
	if err := t.execQueued(ctx, nil, `INSERT INTO org_memberships (org_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		m.OrgID, m.ID, string(m.Role), micros(t.now), micros(t.now)); err != nil {
		return err
	}
	return t.record(ctx, m.OrgID, "membership.created", roster.Target{Type: "member", ID: m.ID}, nil, m)
}

func (t *txn) UpdateMember(ctx context.Context, before, m *roster.Member) error {
	m.ID, m.OrgID = before.ID, before.OrgID
	m.Email = roster.NormalizeEmail(m.Email)
	if before.Email == m.Email && before.Name == m.Name && before.Status == m.Status {
		*m = *before
		return nil
	}
	// A compare-and-swap on what before says, the role included: the caller may have read it
	// before the transaction (the SCIM updates do, to keep the read off the SQLite writer).
	q := `UPDATE users SET email = $3, name = $4, status = $5, updated_at = $6 WHERE org_id = $1 AND id = $2
		AND email = $7 AND name = $8 AND status = $9 AND ` + memberRoleIs + `$10`
	args := []any{m.OrgID, m.ID, m.Email, m.Name, string(m.Status), micros(t.now), before.Email, before.Name, string(before.Status),
		string(before.Role)}
	if before.Email == m.Email {
		// The email index is left alone when the email stays.
		q = `UPDATE users SET name = $4, status = $5, updated_at = $6 WHERE org_id = $1 AND id = $2
			AND email = $3 AND name = $7 AND status = $8 AND ` + memberRoleIs + `$9`
		args = append(args[:6], before.Name, string(before.Status), string(before.Role))
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		if _, err := t.GetMember(ctx, m.OrgID, m.ID); err != nil {
			return err
		}
		return store.ErrMemberChanged
	}
	m.Role, m.CreatedAt, m.UpdatedAt = before.Role, before.CreatedAt, t.now
	if m.Status != roster.MemberActive {
		// A suspended or deleted member is signed out at once, everywhere.
		if _, err := t.endMemberSessions(ctx, m.OrgID, m.ID); err != nil {
			return err
		}
		// and every OAuth token it holds stops working.
		if err := t.revokeMemberOAuth(ctx, m.OrgID, m.ID); err != nil {
			return err
		}
	}
	action := "member.updated"
	switch {
	case before.Status != roster.MemberSuspended && m.Status == roster.MemberSuspended:
		action = "member.suspended"
	case before.Status == roster.MemberSuspended && m.Status == roster.MemberActive:
		action = "member.reactivated"
	}
	return t.record(ctx, m.OrgID, action, roster.Target{Type: "member", ID: m.ID}, before, m)
}

func (t *txn) SetOrgRole(ctx context.Context, orgID, memberID string, role roster.Role) error {
	before, err := t.GetMember(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	if before.Role == role {
		return nil
	}
	if before.Role == roster.RoleOwner {
		if err := t.guardOwners(ctx, orgID, 1); err != nil {
			return err
		}
	}
	if _, err := t.exec(ctx, `INSERT INTO org_memberships (org_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at`,
		orgID, memberID, string(role), micros(t.now)); err != nil {
		return err
	}
	after := *before
	after.Role = role
	return t.record(ctx, orgID, "membership.role_changed", roster.Target{Type: "member", ID: memberID}, before, &after)
}

func (t *txn) DeleteMember(ctx context.Context, orgID, memberID string) error {
	before, err := t.GetMember(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	if before.Role == roster.RoleOwner && before.Status != roster.MemberDeleted {
		if err := t.guardOwners(ctx, orgID, 1); err != nil {
			return err
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM org_memberships WHERE org_id = $1 AND user_id = $2`, orgID, memberID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM project_memberships WHERE org_id = $1 AND user_id = $2`, orgID, memberID); err != nil {
		return err
	}
	if err := t.revokeMemberOAuth(ctx, orgID, memberID); err != nil {
		return err
	}
	if _, err := t.endMemberSessions(ctx, orgID, memberID); err != nil {
		return err
	}
	// The email is obfuscated so that the address can be provisioned again; the row stays
	// for the audit trail.
	if err := t.execOne(ctx, "member", `UPDATE users SET status = 'deleted', email = $3, deleted_at = $4, updated_at = $4 WHERE org_id = $1 AND id = $2`,
		orgID, memberID, "deleted+"+memberID+"@deleted.invalid", micros(t.now)); err != nil {
		return err
	}
	return t.record(ctx, orgID, "membership.deleted", roster.Target{Type: "member", ID: memberID}, before, nil)
}
