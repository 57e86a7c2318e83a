package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

const sessionCols = `s.id, s.org_id, s.user_id, s.token_hash, s.method, s.connection_id, s.ip, s.user_agent,
	s.created_at, s.last_seen_at, s.idle_expires_at, s.expires_at`

func scanSession(sc interface{ Scan(...any) error }, extra ...any) (*roster.Session, error) {
	var s roster.Session
	var conn sql.NullString
	var created, seen, idle, expires int64
	dest := append([]any{&s.ID, &s.OrgID, &s.UserID, &s.TokenHash, &s.Method, &conn, &s.IP, &s.UserAgent,
		&created, &seen, &idle, &expires}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	s.ConnectionID = conn.String
	s.CreatedAt, s.LastSeenAt = fromMicros(created), fromMicros(seen)
	s.IdleExpiresAt, s.ExpiresAt = fromMicros(idle), fromMicros(expires)
	return &s, nil
}

// LookupSession joins the member and its membership, so a suspended, deleted or removed
// member's session is refused even before DeleteMemberSessions has run.
func (r reader) LookupSession(ctx context.Context, hash []byte, now time.Time) (*roster.Session, *roster.Member, error) {
	var m roster.Member
	var mc, mu int64
	s, err := scanSession(r.q.QueryRowContext(ctx, `SELECT `+sessionCols+`,
		u.email, u.name, u.status, m.role, u.created_at, u.updated_at
		FROM sessions s
		JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
		JOIN org_memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
		WHERE s.token_hash = $1 AND s.idle_expires_at > $2 AND s.expires_at > $2 AND u.status = 'active'`,
		hash, micros(now)), &m.Email, &m.Name, &m.Status, &m.Role, &mc, &mu)
	if err != nil {
		return nil, nil, r.notFound(err, "session")
	}
	m.ID, m.OrgID, m.CreatedAt, m.UpdatedAt = s.UserID, s.OrgID, fromMicros(mc), fromMicros(mu)
	return s, &m, nil
}

func (r reader) ListMemberSessions(ctx context.Context, orgID, userID string) ([]roster.Session, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.org_id = $1 AND s.user_id = $2 ORDER BY s.created_at DESC, s.id DESC`, orgID, userID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

// sessionAudit is a session as the audit log and its event show it: no token hash (the
// type's JSON leaves it out).
func sessionAudit(s *roster.Session) any { return s }

func (t *txn) CreateSession(ctx context.Context, s *roster.Session) error {
	if s.ID == "" {
		s.ID = roster.NewID()
	}
	if len(s.TokenHash) == 0 {
		return roster.E(roster.Invalid, "session without a token hash")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = t.now
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	for _, p := range []*time.Time{&s.CreatedAt, &s.LastSeenAt, &s.IdleExpiresAt, &s.ExpiresAt} {
		*p = p.UTC().Truncate(time.Microsecond)
	}
	// The member must be live in this organization: a session is never started for a
	// suspended or deleted member, nor for one of another tenant.
	var status, email string
	err := t.q.QueryRowContext(ctx, `SELECT u.status, u.email FROM users u
		JOIN org_memberships m ON m.org_id = u.org_id AND m.user_id = u.id
		WHERE u.org_id = $1 AND u.id = $2`, s.OrgID, s.UserID).Scan(&status, &email)
	if err != nil {
		return t.notFound(err, "member")
	}
	if roster.MemberStatus(status) != roster.MemberActive {
		return roster.E(roster.Forbidden, "member is %s", status)
	}
	if s.Method == roster.SessionPassword {
		// Where the organization enforces SSO for the member's verified domain, a password
		// sign-in never becomes a session, whichever handler asked for it.
		var one int
		err := t.q.QueryRowContext(ctx, `SELECT 1 FROM sso_settings st JOIN sso_domains d ON d.org_id = st.org_id
			WHERE st.org_id = $1 AND st.enforced AND d.verified_at IS NOT NULL AND d.domain = $2`,
			s.OrgID, roster.EmailDomain(email)).Scan(&one)
		switch {
		case err == nil:
			return roster.E(roster.Forbidden, "this organization requires single sign-on for %s", roster.EmailDomain(email))
		case !errors.Is(err, sql.ErrNoRows):
			return t.d.translate(err)
		}
	}
	if _, err := t.exec(ctx, `INSERT INTO sessions (id, org_id, user_id, token_hash, method, connection_id, ip, user_agent,
		created_at, last_seen_at, idle_expires_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		s.ID, s.OrgID, s.UserID, s.TokenHash, string(s.Method), nullString(s.ConnectionID), s.IP, s.UserAgent,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.IdleExpiresAt), micros(s.ExpiresAt)); err != nil {
		return err
	}
	return t.record(ctx, s.OrgID, "session.created", roster.Target{Type: "session", ID: s.ID}, nil, sessionAudit(s))
}

func (t *txn) DeleteSession(ctx context.Context, orgID, sessionID string) error {
	before, err := scanSession(t.q.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.org_id = $1 AND s.id = $2`,
		orgID, sessionID))
	if err != nil {
		return t.notFound(err, "session")
	}
	if err := t.execOne(ctx, "session", `DELETE FROM sessions WHERE org_id = $1 AND id = $2`, orgID, sessionID); err != nil {
		return err
	}
	return t.record(ctx, orgID, "session.deleted", roster.Target{Type: "session", ID: sessionID}, sessionAudit(before), nil)
}

func (t *txn) DeleteMemberSessions(ctx context.Context, orgID, userID string) (int, error) {
	n, err := t.endMemberSessions(ctx, orgID, userID)
	if err != nil || n == 0 {
		return int(n), err
	}
	return int(n), t.record(ctx, orgID, "member.sessions_ended", roster.Target{Type: "member", ID: userID}, nil,
		map[string]int64{"sessionsEnded": n})
}

// endMemberSessions deletes a member's sessions without an audit record of its own: the
// suspension or deletion that calls it is the record.
func (t *txn) endMemberSessions(ctx context.Context, orgID, userID string) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE org_id = $1 AND user_id = $2`, orgID, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TouchSession moves last_seen_at and idle_expires_at forward only, and the idle expiry never
// past the absolute one, so replicas touching one session in any order agree.
func (s *Store) TouchSession(ctx context.Context, orgID, sessionID string, seen, idleExpiresAt time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE sessions SET
		last_seen_at = CASE WHEN last_seen_at < $3 THEN $3 ELSE last_seen_at END,
		idle_expires_at = CASE WHEN idle_expires_at >= $4 THEN idle_expires_at WHEN $4 > expires_at THEN expires_at ELSE $4 END
		WHERE org_id = $1 AND id = $2`, orgID, sessionID, micros(seen), micros(idleExpiresAt))
	return s.d.translate(err)
}

// PurgeSessions deletes expired sessions.
func (s *Store) PurgeSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR idle_expires_at <= $1`, micros(now))
	if err != nil {
		return 0, s.d.translate(err)
	}
	return res.RowsAffected()
}
