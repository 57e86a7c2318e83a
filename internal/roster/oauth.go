package roster

import (
	"slices"
	"strings"
	"time"
)

// The OAuth scopes Roster grants (DESIGN.md section 5a).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
	ScopeUserRead      = "user.read"
	ScopeOrgRead       = "org.read"
	ScopeProjectsRead  = "projects.read"
)

// Scopes lists every scope, in the order discovery documents them.
var Scopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess, ScopeUserRead, ScopeOrgRead, ScopeProjectsRead}

// KnownScope reports whether s is one of Scopes.
func KnownScope(s string) bool { return slices.Contains(Scopes, s) }

// ScopeGrantable reports whether a member of role may be granted scope: every member, NONE
// included, may sign in and read itself; reading the organization and its projects takes
// VIEWER or above.
func ScopeGrantable(scope string, role Role) bool {
	switch scope {
	case ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess, ScopeUserRead:
		return role.Valid()
	case ScopeOrgRead, ScopeProjectsRead:
		return role.AtLeast(RoleViewer)
	}
	return false
}

// TrimScopes returns the scopes of requested that role may be granted, in their order and
// without repeats: the role-aware trimming done at consent.
func TrimScopes(requested []string, role Role) []string {
	out := []string{}
	for _, s := range requested {
		if ScopeGrantable(s, role) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ParseScope splits a space-delimited scope parameter (RFC 6749 section 3.3).
func ParseScope(s string) []string {
	out := []string{}
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// The ID token signing algorithms an app may choose.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// OAuthApp is an OAuth 2.0 client of an organization: the host application (or one of its
// parts) that signs the organization's members in through Roster. A confidential app has a
// client secret, stored only as its SHA-256; a public one (a browser or native app) has none
// and must use PKCE.
type OAuthApp struct {
	ID           string   `json:"id"`
	OrgID        string   `json:"orgId"`
	ClientID     string   `json:"clientId"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectUris"`
	// Scopes are the scopes the app may ask for.
	Scopes       []string `json:"scopes"`
	PKCERequired bool     `json:"pkceRequired"`
	Public       bool     `json:"public"`
	// AllowedOrigins are the browser origins that may call the token, revocation and
	// userinfo endpoints for this app (CORS).
	AllowedOrigins []string `json:"allowedOrigins"`
	// IDTokenAlg signs the app's ID tokens: RS256 (the OpenID Connect default) or ES256.
	IDTokenAlg string `json:"idTokenSigningAlg"`
	// SecretHash is the SHA-256 of the client secret (nil for a public app); PrevSecretHash
	// is the one being rotated out, accepted until PrevSecretExpiresAt.
	SecretHash          []byte     `json:"-"`
	PrevSecretHash      []byte     `json:"-"`
	PrevSecretExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
	CreatedAt           time.Time  `json:"createdAt"`
	UpdatedAt           time.Time  `json:"updatedAt"`
}

// AllowsRedirect reports whether uri is one of the app's redirect URIs, compared exactly
// (RFC 9700 section 2.1: no pattern, prefix or normalisation).
func (a *OAuthApp) AllowsRedirect(uri string) bool { return slices.Contains(a.RedirectURIs, uri) }

// AllowsOrigin reports whether a browser of origin may call the app's endpoints.
func (a *OAuthApp) AllowsOrigin(origin string) bool { return slices.Contains(a.AllowedOrigins, origin) }

// NeedsPKCE reports whether authorization requests of the app must carry a code challenge:
// always for a public app.
func (a *OAuthApp) NeedsPKCE() bool { return a.Public || a.PKCERequired }

// OAuthCode is an authorization code: single use, short-lived, bound to its app, redirect
// URI and PKCE challenge. Hash is the SHA-256 of the code.
type OAuthCode struct {
	ID            string
	OrgID         string
	AppID         string
	UserID        string
	Hash          []byte
	RedirectURI   string
	Scopes        []string
	CodeChallenge string // S256 challenge, "" when none was sent
	Nonce         string
	AuthTime      time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// The kinds of OAuth tokens.
const (
	AccessToken  = "access"
	RefreshToken = "refresh"
)

// OAuthToken is an access or refresh token. Hash is the SHA-256 of the token. FamilyID is
// the id of the authorization code that started the family: every token issued from one
// authorization, through any number of refreshes, shares it.
type OAuthToken struct {
	ID        string
	OrgID     string
	AppID     string
	UserID    string
	Kind      string
	Hash      []byte
	FamilyID  string
	Scopes    []string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is set on a refresh token once it has been exchanged (rotation).
	UsedAt    *time.Time
	RevokedAt *time.Time
}

// Active reports whether the token may be used at now: neither expired nor revoked.
func (t *OAuthToken) Active(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// OAuthConsent is what a member granted an app: asked again only for scopes beyond it.
type OAuthConsent struct {
	OrgID     string    `json:"orgId"`
	AppID     string    `json:"appId"`
	UserID    string    `json:"userId"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// SigningKey is a token-signing key of the instance. PrivateEnc is the private key (PKCS #8
// DER) encrypted under the keyring; PublicJWK is the public key as a JWK, published in the
// JWKS. The newest generation of an algorithm signs; a retired key stays published until the
// tokens it signed have expired.
type SigningKey struct {
	ID         string
	Alg        string
	Generation int64
	PrivateEnc string
	PublicJWK  []byte
	CreatedAt  time.Time
	RetiredAt  *time.Time
}
