package roster

import "time"

// SessionMethod says how a member signed in to start a session.
type SessionMethod string

// The sign-in methods.
const (
	SessionPassword SessionMethod = "password"
	SessionSAML     SessionMethod = "saml"
	SessionOIDC     SessionMethod = "oidc"
)

// Session is a signed-in member's server-side session. The browser holds only a random
// token in a cookie; the store keeps its SHA-256, so a copy of the database cannot be used
// to sign in. A session ends at IdleExpiresAt unless it is used before, and at ExpiresAt
// whatever happens; it also ends at once when its member is suspended or deleted.
type Session struct {
	ID     string `json:"id"`
	OrgID  string `json:"orgId"`
	UserID string `json:"userId"`
	// TokenHash is the SHA-256 of the cookie's token; never rendered.
	TokenHash []byte        `json:"-"`
	Method    SessionMethod `json:"method"`
	// ConnectionID is the SAML or OIDC connection the member signed in through, if any.
	ConnectionID  string    `json:"connectionId,omitempty"`
	IP            string    `json:"ip,omitempty"`
	UserAgent     string    `json:"userAgent,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	LastSeenAt    time.Time `json:"lastSeenAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

// Live reports whether the session has neither idled out nor reached its absolute expiry at
// now.
func (s *Session) Live(now time.Time) bool {
	return now.Before(s.IdleExpiresAt) && now.Before(s.ExpiresAt)
}
