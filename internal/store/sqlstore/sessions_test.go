package sqlstore_test

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// TestSessionLookupChecksTheMember covers what the conformance suite cannot reach through
// the store interface: a session row left behind by a change that did not end it (a
// hand-made SQL fix, a path written later) still signs no one in once the member is
// suspended or has lost its membership, because the lookup joins both.
func TestSessionLookupChecksTheMember(t *testing.T) {
	cases := []struct {
		name   string
		change string
	}{
		{"a suspended member's leftover session is refused", `UPDATE users SET status = 'suspended' WHERE id = $1`},
		{"a deleted member's leftover session is refused", `UPDATE users SET status = 'deleted' WHERE id = $1`},
		{"a session whose member lost its membership is refused", `DELETE FROM org_memberships WHERE user_id = $1`},
	}
	for _, b := range backends {
		for _, c := range cases {
			t.Run(b.name+": "+c.name, func(t *testing.T) {
				ctx := t.Context()
				s, err := sqlstore.Open(ctx, b.dsn(t), sqlstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				org := &roster.Organization{Name: "acme"}
				m := &roster.Member{Email: "ada@example.com", Role: roster.RoleMember}
				at := time.Now().UTC().Truncate(time.Microsecond)
				h := sha256.Sum256([]byte("token"))
				sess := &roster.Session{TokenHash: h[:], Method: roster.SessionPassword, CreatedAt: at, IdleExpiresAt: at.Add(time.Hour), ExpiresAt: at.Add(time.Hour)}
				err = s.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
					if err := tx.CreateOrganization(ctx, org); err != nil {
						return err
					}
					m.OrgID = org.ID
					if err := tx.CreateMember(ctx, m); err != nil {
						return err
					}
					sess.OrgID, sess.UserID = org.ID, m.ID
					return tx.CreateSession(ctx, sess)
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.LookupSession(ctx, h[:], at); err != nil {
					t.Fatalf("before the change: %v", err)
				}
				if _, err := s.WriteDB().ExecContext(ctx, c.change, m.ID); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.LookupSession(ctx, h[:], at); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("after the change the lookup answered %v; want NotFound", err)
				}
			})
		}
	}
}
