package auth

import (
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newPeople(t *testing.T) (*People, store.Store, *fakeClock) {
	st := sqltest.SQLite(t)
	c := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	return NewPeople(st, PeopleConfig{Passwords: NewPasswords(cheap), Keyring: keyringtest.New(t), Now: c.Now}), st, c
}

func mustOrg(t *testing.T, st store.Store, name string) *roster.Organization {
	t.Helper()
	o, err := NewService(st, Config{}).CreateOrganization(t.Context(), roster.SystemActor("test"), name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSignIn(t *testing.T) {
	p, st, _ := newPeople(t)
	ctx := t.Context()
	a, b := mustOrg(t, st, "Beta"), mustOrg(t, st, "Alpha")
	actor := roster.SystemActor("test")
	ma, err := p.CreateUser(ctx, actor, a.ID, "grace@example.com", "Grace", roster.RoleOwner, "password in Beta")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := p.CreateUser(ctx, actor, b.ID, "grace@example.com", "Grace", roster.RoleViewer, "password in Beta")
	mustOrg(t, st, "Gamma")
	for _, c := range []struct {
		name, email, password, org string
		want                       []string
	}{
		{"one password opens both memberships, in organization-name order", "GRACE@example.com", "password in Beta", "", []string{mb.ID, ma.ID}},
		{"naming an organization restricts to it", "grace@example.com", "password in Beta", a.ID, []string{ma.ID}},
		{"a wrong password opens nothing", "grace@example.com", "password in Alpha", "", nil},
		{"an unknown email opens nothing", "nobody@example.com", "password in Beta", "", nil},
		{"another organization's id opens nothing", "grace@example.com", "password in Beta", roster.NewID(), nil},
	} {
		got, err := p.SignIn(ctx, c.email, c.password, c.org)
		var ids []string
		for _, lm := range got {
			ids = append(ids, lm.Member.ID)
		}
		if c.want == nil && (err == nil || roster.KindOf(err) != roster.Unauthenticated) {
			t.Errorf("%s: err = %v; want Unauthenticated", c.name, err)
		}
		if c.want != nil && (err != nil || len(ids) != len(c.want) || ids[0] != c.want[0]) {
			t.Errorf("%s: = %v, %v; want %v", c.name, ids, err, c.want)
		}
	}
	cur, _ := st.GetMember(ctx, a.ID, ma.ID)
	next := *cur
	next.Status = roster.MemberSuspended
	if err := st.Tx(ctx, actor, func(tx store.Tx) error { return tx.UpdateMember(ctx, cur, &next) }); err != nil {
		t.Fatal(err)
	}
	if got, err := p.SignIn(ctx, "grace@example.com", "password in Beta", a.ID); err == nil {
		t.Errorf("a suspended member signed in: %v", got)
	}
}

func TestInvitationAndReset(t *testing.T) {
	p, st, clk := newPeople(t)
	ctx := t.Context()
	org := mustOrg(t, st, "Acme")
	admin := roster.Actor{Type: roster.ActorMember, ID: "admin"}
	m, link, token, err := p.Invite(ctx, admin, org.ID, "new@acme.example", "New Person", roster.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if link.Kind != roster.LinkInvitation || m.Role != roster.RoleMember || len(token) < 40 {
		t.Fatalf("Invite = %+v, %+v, %q", m, link, token)
	}
	if _, err := p.SignIn(ctx, "new@acme.example", "chosen password", ""); err == nil {
		t.Error("an invited member signed in before choosing a password")
	}
	if _, err := p.RedeemLink(ctx, token, "short"); roster.KindOf(err) != roster.Invalid {
		t.Errorf("a short password through the link = %v; want Invalid", err)
	}
	if _, err := p.RedeemLink(ctx, token, "chosen password"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.RedeemLink(ctx, token, "another password"); roster.KindOf(err) != roster.NotFound {
		t.Errorf("a second use of the invitation = %v; want NotFound", err)
	}
	if _, err := p.SignIn(ctx, "new@acme.example", "chosen password", ""); err != nil {
		t.Errorf("sign-in with the chosen password: %v", err)
	}
	if _, _, _, err := p.Invite(ctx, admin, org.ID, "new@acme.example", "", roster.RoleMember); roster.KindOf(err) != roster.Conflict {
		t.Errorf("inviting a member who has a password = %v; want Conflict", err)
	}

	_, reset, err := p.ResetLink(ctx, admin, org.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(roster.PasswordResetTTL + time.Second)
	if _, err := p.RedeemLink(ctx, reset, "too late password"); roster.KindOf(err) != roster.NotFound {
		t.Errorf("an expired reset link = %v; want NotFound", err)
	}
	_, reset, _ = p.ResetLink(ctx, admin, org.ID, m.ID)
	if _, err := p.RedeemLink(ctx, reset, "reset password!"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SignIn(ctx, "new@acme.example", "chosen password", ""); err == nil {
		t.Error("the old password still signs in after a reset")
	}
	if _, _, err := p.Link(ctx, "rlink_made-up"); roster.KindOf(err) != roster.NotFound {
		t.Errorf("a made-up token = %v", err)
	}
}

func TestTOTPSignIn(t *testing.T) {
	p, st, clk := newPeople(t)
	ctx := t.Context()
	org := mustOrg(t, st, "Acme")
	m, _ := p.CreateUser(ctx, roster.SystemActor("test"), org.ID, "ada@acme.example", "", roster.RoleOwner, "a long password")
	self := roster.Actor{Type: roster.ActorMember, ID: m.ID}
	secret, uri, err := p.BeginTOTP(ctx, self, m, "Roster")
	if err != nil || secret == "" || uri == "" {
		t.Fatalf("BeginTOTP = %q, %q, %v", secret, uri, err)
	}
	if need, _ := p.NeedsTOTP(ctx, org.ID, m.ID); need {
		t.Error("TOTP is required before it was confirmed")
	}
	seed, _ := b32.DecodeString(secret)
	if err := p.ConfirmTOTP(ctx, self, org.ID, m.ID, "000000"); roster.KindOf(err) != roster.Invalid && TOTPCode(seed, clk.Now()) != "000000" {
		t.Errorf("confirming with a wrong code = %v", err)
	}
	if err := p.ConfirmTOTP(ctx, self, org.ID, m.ID, TOTPCode(seed, clk.Now())); err != nil {
		t.Fatal(err)
	}
	if need, _ := p.NeedsTOTP(ctx, org.ID, m.ID); !need {
		t.Fatal("TOTP is not required after it was confirmed")
	}
	if err := p.CheckTOTP(ctx, org.ID, m.ID, TOTPCode(seed, clk.Now())); roster.KindOf(err) != roster.Unauthenticated {
		t.Errorf("the confirmation's code used again = %v; want Unauthenticated", err)
	}
	clk.Advance(TOTPPeriod)
	if err := p.CheckTOTP(ctx, org.ID, m.ID, TOTPCode(seed, clk.Now())); err != nil {
		t.Errorf("the next step's code: %v", err)
	}
	if err := p.DisableTOTP(ctx, self, org.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if need, _ := p.NeedsTOTP(ctx, org.ID, m.ID); need {
		t.Error("TOTP still required after it was turned off")
	}
}

func TestPendingSignIn(t *testing.T) {
	p, _, clk := newPeople(t)
	sealed, err := p.SealPending([]store.LoginMember{{Member: roster.Member{ID: "m1", OrgID: "o1"}, OrgName: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := p.OpenPending(sealed)
	if err != nil || len(ps.Members) != 1 || ps.Members[0].MemberID != "m1" || ps.Members[0].OrgName != "Acme" {
		t.Fatalf("OpenPending = %+v, %v", ps, err)
	}
	// Alter one character in the middle of the payload: every such character carries six bits
	// of the ciphertext, so the replacement always changes it (the last one may hold padding).
	altered := []byte(sealed)
	i := len(altered) - 10
	if altered[i] == 'A' {
		altered[i] = 'B'
	} else {
		altered[i] = 'A'
	}
	if _, err := p.OpenPending(string(altered)); err == nil {
		t.Error("an altered pending sign-in opened")
	}
	clk.Advance(PendingTTL)
	if _, err := p.OpenPending(sealed); err == nil {
		t.Error("an expired pending sign-in opened")
	}
}
