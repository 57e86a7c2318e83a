package auth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// People manages how members sign in to the console: passwords (argon2id), one-time
// invitation and password-reset links (SHA-256 of a generated token, like every generated
// secret), TOTP seeds (encrypted with the keyring: they must be used again) and the
// short-lived state between the steps of a sign-in.
type People struct {
	st  store.Store
	pw  *Passwords
	kr  *keyring.Keyring
	now func() time.Time
}

// PeopleConfig tunes People.
type PeopleConfig struct {
	// Passwords hashes passwords (default: NewPasswords with the default parameters).
	Passwords *Passwords
	// Keyring encrypts TOTP seeds and sign-in state; without one, two-factor sign-in cannot
	// be turned on and a person in several organizations must name one.
	Keyring *keyring.Keyring
	Now     func() time.Time
}

// LinkPrefix starts every invitation and password-reset token.
const LinkPrefix = "rlink_"

// NewPeople returns People on st.
func NewPeople(st store.Store, cfg PeopleConfig) *People {
	if cfg.Passwords == nil {
		cfg.Passwords = NewPasswords(PasswordConfig{})
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &People{st: st, pw: cfg.Passwords, kr: cfg.Keyring, now: cfg.Now}
}

// Passwords is the hasher People uses.
func (p *People) Passwords() *Passwords { return p.pw }

// CheckEmail accepts what looks like an email address: one '@', no spaces, at most 320
// characters.
func CheckEmail(e string) error {
	e = strings.TrimSpace(e)
	at := strings.Index(e, "@")
	if len(e) > 320 || at < 1 || at == len(e)-1 || strings.Count(e, "@") != 1 || strings.ContainsAny(e, " \t\r\n<>") {
		return roster.E(roster.Invalid, "%q is not an email address", e)
	}
	return nil
}

// CreateUser makes a member that signs in with a password (the CLI's `roster user create`,
// how an organization gets its first owner). A live member with that email gets the password
// and the role instead of a duplicate.
func (p *People) CreateUser(ctx context.Context, actor roster.Actor, orgID, email, name string, role roster.Role, password string) (*roster.Member, error) {
	if err := CheckEmail(email); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if len(name) > 256 {
		return nil, roster.E(roster.Invalid, "name is longer than 256 characters")
	}
	hash, err := p.pw.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	var m *roster.Member
	err = p.st.Tx(ctx, actor, func(tx store.Tx) error {
		if _, err := tx.GetOrganization(ctx, orgID); err != nil {
			return err
		}
		cur, err := tx.GetMemberByEmail(ctx, orgID, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			m = &roster.Member{OrgID: orgID, Email: email, Name: name, Role: role}
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			m = cur
			if cur.Role != role {
				if err := tx.SetOrgRoles(ctx, orgID, []store.RoleChange{{Before: cur, Role: role}}); err != nil {
					return err
				}
				m.Role = role
			}
		}
		return tx.SetPassword(ctx, orgID, m.ID, hash)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// maxLoginMembers bounds the memberships one sign-in verifies a password against.
const maxLoginMembers = 20

// errSignIn is the one answer to every failed sign-in: it never tells whether the email is
// known.
var errSignIn = roster.E(roster.Unauthenticated, "the email or the password is wrong")

// SignIn checks email and password and answers the active memberships they open (in
// organization-name order), restricted to orgID when it is not empty. Each membership has its
// own password; suspended and deleted members never sign in.
func (p *People) SignIn(ctx context.Context, email, password, orgID string) ([]store.LoginMember, error) {
	all, err := p.st.LoginMembers(ctx, email)
	if err != nil {
		return nil, err
	}
	var cands []store.LoginMember
	for _, lm := range all {
		if lm.Member.Status == roster.MemberActive && (orgID == "" || lm.Member.OrgID == orgID) {
			cands = append(cands, lm)
		}
	}
	if len(cands) > maxLoginMembers {
		cands = cands[:maxLoginMembers]
	}
	if len(cands) == 0 {
		_, _ = p.pw.Verify(ctx, "", password) // as long as a wrong password takes
		return nil, errSignIn
	}
	var ok []store.LoginMember
	for _, lm := range cands {
		c, err := p.st.GetCredentials(ctx, lm.Member.OrgID, lm.Member.ID)
		if err != nil {
			return nil, err
		}
		match, err := p.pw.Verify(ctx, c.PasswordHash, password)
		if err != nil && roster.KindOf(err) == roster.RateLimited {
			return nil, err
		}
		if match {
			ok = append(ok, lm)
		}
	}
	if len(ok) == 0 {
		return nil, errSignIn
	}
	return ok, nil
}

// NeedsTOTP reports whether a member must give a TOTP code to sign in.
func (p *People) NeedsTOTP(ctx context.Context, orgID, memberID string) (bool, error) {
	c, err := p.st.GetCredentials(ctx, orgID, memberID)
	if err != nil {
		return false, err
	}
	return c.TOTPEnabled, nil
}

func totpAD(orgID, memberID string) []byte { return []byte("totp:" + orgID + ":" + memberID) }

func (p *People) seed(c *roster.Credentials) ([]byte, error) {
	if p.kr == nil {
		return nil, roster.E(roster.Internal, "no keyring: two-factor sign-in is unavailable")
	}
	return p.kr.Decrypt(c.TOTPSecret, totpAD(c.OrgID, c.MemberID))
}

// CheckTOTP verifies a member's code and uses up its time step, so the same code never
// signs in twice (RFC 6238 section 5.2).
func (p *People) CheckTOTP(ctx context.Context, orgID, memberID, code string) error {
	c, err := p.st.GetCredentials(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	if !c.TOTPEnabled {
		return nil
	}
	seed, err := p.seed(c)
	if err != nil {
		return err
	}
	step, ok := VerifyTOTP(seed, code, p.now())
	if !ok {
		return roster.E(roster.Unauthenticated, "the code is wrong or has expired")
	}
	err = p.st.Tx(ctx, roster.Actor{Type: roster.ActorMember, ID: memberID}, func(tx store.Tx) error {
		return tx.UseTOTPStep(ctx, orgID, memberID, step)
	})
	if roster.KindOf(err) == roster.Stale {
		return roster.E(roster.Unauthenticated, "this code was used already: wait for the next one")
	}
	return err
}

// BeginTOTP stores a new seed for the member, not yet required, and returns it to show once
// (as text and as an otpauth:// URI).
func (p *People) BeginTOTP(ctx context.Context, actor roster.Actor, m *roster.Member, issuer string) (secret, uri string, err error) {
	if p.kr == nil {
		return "", "", roster.E(roster.Invalid, "two-factor sign-in needs ROSTER_SECRET_KEY (or the key file) to be set up")
	}
	seed := NewTOTPSecret()
	enc, err := p.kr.Encrypt(seed, totpAD(m.OrgID, m.ID))
	if err != nil {
		return "", "", err
	}
	if err := p.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.SetTOTP(ctx, m.OrgID, m.ID, enc, false) }); err != nil {
		return "", "", err
	}
	return TOTPSecretText(seed), TOTPURI(issuer, m.Email, seed), nil
}

// ConfirmTOTP turns two-factor sign-in on once the member proves its authenticator holds
// the seed BeginTOTP made.
func (p *People) ConfirmTOTP(ctx context.Context, actor roster.Actor, orgID, memberID, code string) error {
	c, err := p.st.GetCredentials(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	if c.TOTPSecret == "" {
		return roster.E(roster.Invalid, "start the set-up of two-factor sign-in first")
	}
	seed, err := p.seed(c)
	if err != nil {
		return err
	}
	step, ok := VerifyTOTP(seed, code, p.now())
	if !ok {
		return roster.E(roster.Invalid, "the code is wrong or has expired: check the authenticator's clock")
	}
	return p.st.Tx(ctx, actor, func(tx store.Tx) error {
		if err := tx.SetTOTP(ctx, orgID, memberID, c.TOTPSecret, true); err != nil {
			return err
		}
		return tx.UseTOTPStep(ctx, orgID, memberID, step)
	})
}

// DisableTOTP turns two-factor sign-in off and forgets the seed.
func (p *People) DisableTOTP(ctx context.Context, actor roster.Actor, orgID, memberID string) error {
	return p.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.SetTOTP(ctx, orgID, memberID, "", false) })
}

// Invite makes a member with role (or finds the live member with that email that has no
// password yet) and a one-time invitation link for it to choose a password. The token is
// returned once.
func (p *People) Invite(ctx context.Context, actor roster.Actor, orgID, email, name string, role roster.Role) (*roster.Member, *roster.MemberLink, string, error) {
	if err := CheckEmail(email); err != nil {
		return nil, nil, "", err
	}
	var m *roster.Member
	var link *roster.MemberLink
	token := NewSecret(LinkPrefix)
	err := p.st.Tx(ctx, actor, func(tx store.Tx) error {
		cur, err := tx.GetMemberByEmail(ctx, orgID, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			m = &roster.Member{OrgID: orgID, Email: email, Name: strings.TrimSpace(name), Role: role}
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			c, err := tx.GetCredentials(ctx, orgID, cur.ID)
			if err != nil {
				return err
			}
			if c.HasPassword() {
				return roster.E(roster.Conflict, "%s is already a member with a password: send a password-reset link instead", cur.Email)
			}
			m = cur
		}
		link = &roster.MemberLink{OrgID: orgID, MemberID: m.ID, Kind: roster.LinkInvitation, ExpiresAt: p.now().Add(roster.InvitationTTL), Hash: Hash(token)}
		return tx.CreateMemberLink(ctx, link)
	})
	if err != nil {
		return nil, nil, "", err
	}
	return m, link, token, nil
}

// ResetLink makes a one-time password-reset link for a live member.
func (p *People) ResetLink(ctx context.Context, actor roster.Actor, orgID, memberID string) (*roster.MemberLink, string, error) {
	token := NewSecret(LinkPrefix)
	link := &roster.MemberLink{OrgID: orgID, MemberID: memberID, Kind: roster.LinkPasswordReset, ExpiresAt: p.now().Add(roster.PasswordResetTTL), Hash: Hash(token)}
	if err := p.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateMemberLink(ctx, link) }); err != nil {
		return nil, "", err
	}
	return link, token, nil
}

// errLink is the answer to every unusable link.
var errLink = roster.E(roster.NotFound, "this link is unknown, used already or expired: ask an admin for a new one")

// Link finds the usable link of a token with its member.
func (p *People) Link(ctx context.Context, token string) (*roster.MemberLink, *roster.Member, error) {
	if !strings.HasPrefix(token, LinkPrefix) || len(token) > 128 {
		return nil, nil, errLink
	}
	l, err := p.st.LookupMemberLink(ctx, Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errLink
	}
	if err != nil {
		return nil, nil, err
	}
	if !Equal(l.Hash, Hash(token)) || !l.Usable(p.now()) {
		return nil, nil, errLink
	}
	m, err := p.st.GetMember(ctx, l.OrgID, l.MemberID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Status != roster.MemberActive) {
		return nil, nil, errLink
	}
	if err != nil {
		return nil, nil, err
	}
	return l, m, nil
}

// RedeemLink sets the member's password through a link, once: the link is used up in the
// same transaction.
func (p *People) RedeemLink(ctx context.Context, token, password string) (*roster.Member, error) {
	l, m, err := p.Link(ctx, token)
	if err != nil {
		return nil, err
	}
	hash, err := p.pw.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	err = p.st.Tx(ctx, roster.Actor{Type: roster.ActorMember, ID: m.ID}, func(tx store.Tx) error {
		if err := tx.UseMemberLink(ctx, l.OrgID, l.ID, p.now()); err != nil {
			if roster.KindOf(err) == roster.Stale {
				return errLink
			}
			return err
		}
		return tx.SetPassword(ctx, m.OrgID, m.ID, hash)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// PendingSignIn is the state between the steps of a sign-in (choosing an organization,
// giving a TOTP code), carried by the browser sealed with the keyring, so that any replica
// can continue it and nothing of it can be read or changed by the person.
type PendingSignIn struct {
	Members   []PendingMember `json:"m"`
	ExpiresAt int64           `json:"exp"`
}

// PendingMember is one membership a password opened.
type PendingMember struct {
	OrgID    string `json:"o"`
	MemberID string `json:"u"`
	OrgName  string `json:"n"`
}

// PendingTTL is how long the steps after the password may take.
const PendingTTL = 5 * time.Minute

var pendingAD = []byte("roster-sign-in-pending")

// SealPending seals a pending sign-in for the browser to carry.
func (p *People) SealPending(ms []store.LoginMember) (string, error) {
	if p.kr == nil {
		return "", roster.E(roster.Invalid, "choose an organization on the sign-in form")
	}
	ps := PendingSignIn{ExpiresAt: p.now().Add(PendingTTL).Unix()}
	for _, lm := range ms {
		ps.Members = append(ps.Members, PendingMember{OrgID: lm.Member.OrgID, MemberID: lm.Member.ID, OrgName: lm.OrgName})
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return "", err
	}
	return p.kr.Encrypt(b, pendingAD)
}

// OpenPending opens a sealed pending sign-in that has not expired.
func (p *People) OpenPending(sealed string) (*PendingSignIn, error) {
	bad := roster.E(roster.Unauthenticated, "the sign-in took too long: start again")
	if p.kr == nil || sealed == "" || len(sealed) > 8192 {
		return nil, bad
	}
	b, err := p.kr.Decrypt(sealed, pendingAD)
	if err != nil {
		return nil, bad
	}
	var ps PendingSignIn
	if err := json.Unmarshal(b, &ps); err != nil || p.now().Unix() >= ps.ExpiresAt {
		return nil, bad
	}
	return &ps, nil
}
