package roster

import "time"

// Credentials are what a member signs in to the console with: a password (an argon2id hash
// in PHC string form; empty when none is set) and, when turned on, a TOTP second factor whose
// seed is encrypted with the keyring. They are never part of any JSON output or audit record.
type Credentials struct {
	OrgID        string
	MemberID     string
	PasswordHash string
	// TOTPSecret is the keyring ciphertext of the TOTP seed ("" when none is set up).
	TOTPSecret string
	// TOTPEnabled is set once the member has confirmed a code: only then is it required.
	TOTPEnabled bool
	// TOTPLastStep is the last time step a code was accepted for, so that a code is used at
	// most once (RFC 6238 section 5.2).
	TOTPLastStep int64
	UpdatedAt    time.Time
}

// HasPassword reports whether the member can sign in with a password.
func (c *Credentials) HasPassword() bool { return c != nil && c.PasswordHash != "" }

// LinkKind says what a one-time member link is for.
type LinkKind string

// The link kinds: an invitation lets a new member choose a password; a password reset lets an
// existing one choose a new password.
const (
	LinkInvitation    LinkKind = "invitation"
	LinkPasswordReset LinkKind = "password_reset"
)

// MemberLink is a one-time link that lets a member set a password. Only the SHA-256 of its
// token is stored; the token is shown once, to the admin who made the link.
type MemberLink struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"orgId"`
	MemberID  string     `json:"memberId"`
	Kind      LinkKind   `json:"kind"`
	CreatedBy Actor      `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	UsedAt    *time.Time `json:"usedAt"`
	Hash      []byte     `json:"-"`
}

// Usable reports whether the link can still be used at now.
func (l *MemberLink) Usable(now time.Time) bool { return l.UsedAt == nil && now.Before(l.ExpiresAt) }

// Link lifetimes.
const (
	InvitationTTL    = 7 * 24 * time.Hour
	PasswordResetTTL = 24 * time.Hour
)
