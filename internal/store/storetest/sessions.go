package storetest

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Sessions of signed-in members.
func init() {
	cases = append(cases, []storeCase{
		{"a session reads back by its token hash with its member, and is audited", sessionReadsBack},
		{"a session is not found once it idles out or reaches its absolute expiry", sessionExpiry},
		{"touching a session extends its idle expiry forward only and never past the absolute one", sessionTouch},
		{"suspending or deleting a member ends its sessions, and a reactivated member starts afresh", sessionMemberEnds},
		{"a session cannot be started for a suspended member or another organization's member", sessionCreateRefused},
		{"org B neither sees nor ends org A's sessions", isolationSessions},
		{"purging deletes expired sessions only", sessionPurge},
	}...)
}

// newSession returns an unsaved session of member m that idles out in idle and expires in
// abs, with its token.
func newSession(m roster.Member, at time.Time, idle, abs time.Duration) (*roster.Session, string) {
	tok := rand.Text() + rand.Text()
	return &roster.Session{OrgID: m.OrgID, UserID: m.ID, TokenHash: sha(tok), Method: roster.SessionSAML,
		ConnectionID: "conn_1", IP: "192.0.2.7", UserAgent: "test-agent",
		CreatedAt: at, LastSeenAt: at, IdleExpiresAt: at.Add(idle), ExpiresAt: at.Add(abs)}, tok
}

func startSession(t *testing.T, s store.Store, m roster.Member, at time.Time, idle, abs time.Duration) (*roster.Session, string) {
	t.Helper()
	sess, tok := newSession(m, at, idle, abs)
	tx(t, s, func(tx store.Tx) error { return tx.CreateSession(t.Context(), sess) })
	if sess.ID == "" {
		t.Fatal("CreateSession left the id empty")
	}
	return sess, tok
}

func wantNoSession(t *testing.T, s store.Store, tok string, at time.Time, why string) {
	t.Helper()
	got, m, err := s.LookupSession(t.Context(), sha(tok), at)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupSession at %v: got %+v of %+v, error %v; want NotFound (%s)", at, got, m, err, why)
	}
}

func sessionReadsBack(t *testing.T, s store.Store) {
	org := createOrg(t, s, "acme")
	m := createMember(t, s, org.ID, "Ada@Example.com", roster.RoleAdmin)
	at := now()
	want, tok := startSession(t, s, m, at, time.Hour, day)
	got, member, err := s.LookupSession(t.Context(), sha(tok), at.Add(time.Minute))
	if err != nil {
		t.Fatalf("LookupSession: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session read back differs (-created +read):\n%s", diff)
	}
	if member.ID != m.ID || member.OrgID != org.ID || member.Email != "ada@example.com" || member.Role != roster.RoleAdmin ||
		member.Status != roster.MemberActive {
		t.Errorf("LookupSession member = %+v; want %s ada@example.com ADMIN active in %s", member, m.ID, org.ID)
	}
	list, err := s.ListMemberSessions(t.Context(), org.ID, m.ID)
	if err != nil || len(list) != 1 || list[0].ID != want.ID {
		t.Errorf("ListMemberSessions = %+v, %v; want the one session %s", list, err, want.ID)
	}
	recs := allAudit(t, s, org.ID, store.AuditFilter{Action: "session.created"})
	if len(recs) != 1 || recs[0].Target.ID != want.ID {
		t.Fatalf("audit records of session.created = %+v; want one for %s", recs, want.ID)
	}
	if b := string(recs[0].After); len(b) == 0 || strings.Contains(b, "okenHash") || strings.Contains(b, "token_hash") {
		t.Errorf("the audit snapshot of a session must not carry its token hash: %s", b)
	}

	tx(t, s, func(tx store.Tx) error { return tx.DeleteSession(t.Context(), org.ID, want.ID) })
	wantNoSession(t, s, tok, at, "signed out")
	if recs := allAudit(t, s, org.ID, store.AuditFilter{Action: "session.deleted"}); len(recs) != 1 {
		t.Errorf("audit records of session.deleted = %d; want 1", len(recs))
	}
	err = s.Tx(t.Context(), testActor, func(tx store.Tx) error { return tx.DeleteSession(t.Context(), org.ID, want.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting an ended session: %v; want NotFound", err)
	}
}

func sessionExpiry(t *testing.T, s store.Store) {
	org := createOrg(t, s, "acme")
	m := createMember(t, s, org.ID, "ada@example.com", roster.RoleMember)
	at := now()
	_, tok := startSession(t, s, m, at, time.Hour, 2*time.Hour)
	if _, _, err := s.LookupSession(t.Context(), sha(tok), at.Add(time.Hour-time.Microsecond)); err != nil {
		t.Errorf("just before the idle expiry: %v; want the session", err)
	}
	wantNoSession(t, s, tok, at.Add(time.Hour), "idle expiry reached")
	if err := s.TouchSession(t.Context(), org.ID, "", at, at); err != nil {
		t.Fatalf("touching an unknown session id must be harmless: %v", err)
	}
	_, tok2 := startSession(t, s, m, at, 3*time.Hour, 2*time.Hour)
	wantNoSession(t, s, tok2, at.Add(2*time.Hour), "absolute expiry reached before the idle one")
	wantNoSession(t, s, "never-issued", at, "unknown token")
}

func sessionTouch(t *testing.T, s store.Store) {
	org := createOrg(t, s, "acme")
	m := createMember(t, s, org.ID, "ada@example.com", roster.RoleMember)
	at := now()
	sess, tok := startSession(t, s, m, at, time.Hour, 3*time.Hour)
	later := at.Add(50 * time.Minute)
	if err := s.TouchSession(t.Context(), org.ID, sess.ID, later, later.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	got, _, err := s.LookupSession(t.Context(), sha(tok), at.Add(90*time.Minute))
	if err != nil {
		t.Fatalf("after a touch the session must outlive its first idle expiry: %v", err)
	}
	if !got.LastSeenAt.Equal(later) || !got.IdleExpiresAt.Equal(later.Add(time.Hour)) {
		t.Errorf("after touch: lastSeen %v idle %v; want %v and %v", got.LastSeenAt, got.IdleExpiresAt, later, later.Add(time.Hour))
	}
	// An older touch (another replica, late) moves nothing back.
	if err := s.TouchSession(t.Context(), org.ID, sess.ID, at.Add(time.Minute), at.Add(61*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A touch asking past the absolute expiry stops at it.
	if err := s.TouchSession(t.Context(), org.ID, sess.ID, at.Add(2*time.Hour), at.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _, err = s.LookupSession(t.Context(), sha(tok), at.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeenAt.Equal(at.Add(2*time.Hour)) || !got.IdleExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("lastSeen %v idle %v; want %v and the absolute expiry %v", got.LastSeenAt, got.IdleExpiresAt, at.Add(2*time.Hour), sess.ExpiresAt)
	}
}

func sessionMemberEnds(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "acme")
	at := now()

	// Suspension through UpdateMember (SCIM active=false) ends the member's sessions.
	susp := createMember(t, s, org.ID, "sus@example.com", roster.RoleMember)
	_, tok1 := startSession(t, s, susp, at, time.Hour, day)
	_, tok2 := startSession(t, s, susp, at, time.Hour, day)
	tx(t, s, func(tx store.Tx) error {
		next := susp
		next.Status = roster.MemberSuspended
		return tx.UpdateMember(ctx, &susp, &next)
	})
	wantNoSession(t, s, tok1, at, "member suspended")
	wantNoSession(t, s, tok2, at, "member suspended")
	if list, _ := s.ListMemberSessions(ctx, org.ID, susp.ID); len(list) != 0 {
		t.Errorf("a suspended member still has %d session rows; suspension must delete them", len(list))
	}

	// Deletion (SCIM DELETE, membership removal) ends them too.
	del := createMember(t, s, org.ID, "del@example.com", roster.RoleMember)
	_, tok3 := startSession(t, s, del, at, time.Hour, day)
	tx(t, s, func(tx store.Tx) error { return tx.DeleteMember(ctx, org.ID, del.ID) })
	wantNoSession(t, s, tok3, at, "member deleted")

	// DeleteMemberSessions ends every session of one member, and no other's.
	a := createMember(t, s, org.ID, "a@example.com", roster.RoleMember)
	b := createMember(t, s, org.ID, "b@example.com", roster.RoleMember)
	startSession(t, s, a, at, time.Hour, day)
	startSession(t, s, a, at, time.Hour, day)
	_, tokB := startSession(t, s, b, at, time.Hour, day)
	var n int
	tx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteMemberSessions(ctx, org.ID, a.ID)
		return err
	})
	if n != 2 {
		t.Errorf("DeleteMemberSessions ended %d sessions; want 2", n)
	}
	if _, _, err := s.LookupSession(ctx, sha(tokB), at); err != nil {
		t.Errorf("another member's session must survive: %v", err)
	}

	// A reactivated member keeps none of the old sessions but can sign in again.
	c := createMember(t, s, org.ID, "c@example.com", roster.RoleMember)
	_, tokC := startSession(t, s, c, at, time.Hour, day)
	suspended := c
	suspended.Status = roster.MemberSuspended
	tx(t, s, func(tx store.Tx) error { return tx.UpdateMember(ctx, &c, &suspended) })
	sess, tokNew := newSession(c, at, time.Hour, day)
	tx(t, s, func(tx store.Tx) error {
		next := suspended
		next.Status = roster.MemberActive
		if err := tx.UpdateMember(ctx, &suspended, &next); err != nil {
			return err
		}
		return tx.CreateSession(ctx, sess)
	})
	wantNoSession(t, s, tokC, at, "ended by the suspension before the reactivation")
	if _, _, err := s.LookupSession(ctx, sha(tokNew), at); err != nil {
		t.Fatalf("a new session of the reactivated member must work: %v", err)
	}
}

func sessionCreateRefused(t *testing.T, s store.Store) {
	ctx := t.Context()
	orgA := createOrg(t, s, "a")
	orgB := createOrg(t, s, "b")
	at := now()
	m := createMember(t, s, orgA.ID, "ada@example.com", roster.RoleMember)
	tx(t, s, func(tx store.Tx) error {
		next := m
		next.Status = roster.MemberSuspended
		return tx.UpdateMember(ctx, &m, &next)
	})
	sess, _ := newSession(m, at, time.Hour, day)
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	if roster.KindOf(err) != roster.Forbidden {
		t.Errorf("a session for a suspended member: %v; want Forbidden", err)
	}
	other := createMember(t, s, orgA.ID, "bob@example.com", roster.RoleMember)
	sess, tok := newSession(other, at, time.Hour, day)
	sess.OrgID = orgB.ID
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session in org B for org A's member: %v; want NotFound", err)
	}
	wantNoSession(t, s, tok, at, "refused creation")
}

func isolationSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	orgA := createOrg(t, s, "a")
	orgB := createOrg(t, s, "b")
	at := now()
	ma := createMember(t, s, orgA.ID, "ada@example.com", roster.RoleMember)
	createMember(t, s, orgB.ID, "ada@example.com", roster.RoleMember)
	sess, tok := startSession(t, s, ma, at, time.Hour, day)

	if list, err := s.ListMemberSessions(ctx, orgB.ID, ma.ID); err != nil || len(list) != 0 {
		t.Errorf("org B lists org A's member's sessions: %+v, %v", list, err)
	}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteSession(ctx, orgB.ID, sess.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B deleting org A's session: %v; want NotFound", err)
	}
	var n int
	tx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteMemberSessions(ctx, orgB.ID, ma.ID)
		return err
	})
	if n != 0 {
		t.Errorf("org B ended %d of org A's sessions", n)
	}
	if err := s.TouchSession(ctx, orgB.ID, sess.ID, at.Add(time.Hour), at.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.LookupSession(ctx, sha(tok), at)
	if err != nil {
		t.Fatalf("org A's session must survive org B's attempts: %v", err)
	}
	if !got.IdleExpiresAt.Equal(sess.IdleExpiresAt) {
		t.Errorf("org B's touch moved org A's idle expiry to %v", got.IdleExpiresAt)
	}
	if recs := allAudit(t, s, orgB.ID, store.AuditFilter{TargetType: "session"}); len(recs) != 0 {
		t.Errorf("org B's audit log holds %d session records of org A", len(recs))
	}
}

func sessionPurge(t *testing.T, s store.Store) {
	org := createOrg(t, s, "acme")
	m := createMember(t, s, org.ID, "ada@example.com", roster.RoleMember)
	at := now()
	startSession(t, s, m, at.Add(-3*time.Hour), time.Hour, day)         // idled out
	startSession(t, s, m, at.Add(-3*time.Hour), 5*time.Hour, time.Hour) // expired
	_, live := startSession(t, s, m, at, time.Hour, day)
	n, err := s.PurgeSessions(t.Context(), at)
	if err != nil || n != 2 {
		t.Errorf("PurgeSessions = %d, %v; want 2 purged", n, err)
	}
	if _, _, err := s.LookupSession(t.Context(), sha(live), at); err != nil {
		t.Errorf("the live session must survive the purge: %v", err)
	}
}
