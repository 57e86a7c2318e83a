package httpapi

import (
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// APIKeySummary is how an API key is listed: never its secret (DESIGN.md section 3).
type APIKeySummary struct {
	ID               string     `json:"id"`
	CreatedAt        time.Time  `json:"createdAt"`
	ExpiresAt        *time.Time `json:"expiresAt"`
	LastUsedAt       *time.Time `json:"lastUsedAt"`
	Note             string     `json:"note"`
	PublicKey        string     `json:"publicKey"`
	DisplaySecretKey string     `json:"displaySecretKey"`
}

// KeyCreated is the one response that carries a key's secret half.
type KeyCreated struct {
	APIKeySummary
	SecretKey string `json:"secretKey"`
}

// NewKeySummary shapes a key for a listing.
func NewKeySummary(k *roster.APIKey) APIKeySummary {
	return APIKeySummary{ID: k.ID, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt,
		Note: k.Note, PublicKey: k.PublicKey, DisplaySecretKey: k.DisplaySecretKey}
}

// DirectoryCreated is the answer to creating a directory, from the CLI and the API alike:
// the only time its token is shown.
type DirectoryCreated struct {
	ID             string    `json:"id"`
	OrgID          string    `json:"orgId"`
	Name           string    `json:"name"`
	SCIMBaseURL    string    `json:"scimBaseUrl"`
	Token          string    `json:"token"`
	TokenExpiresAt time.Time `json:"tokenExpiresAt"`
}

// NewDirectoryCreated shapes a freshly created directory with its token.
func NewDirectoryCreated(d *roster.Directory, token, baseURL string) DirectoryCreated {
	out := DirectoryCreated{ID: d.ID, OrgID: d.OrgID, Name: d.Name, SCIMBaseURL: SCIMBaseURL(baseURL), Token: token}
	if d.TokenExpiresAt != nil {
		out.TokenExpiresAt = *d.TokenExpiresAt
	}
	return out
}

// SCIMBaseURL is the SCIM connector base URL an admin pastes into the identity provider.
func SCIMBaseURL(baseURL string) string { return baseURL + "/scim/v2" }

// Directory is how a directory is listed: token expiry always shown, so that nobody is
// surprised by a lapsed token.
type Directory struct {
	ID              string      `json:"id"`
	OrgID           string      `json:"orgId"`
	Name            string      `json:"name"`
	DefaultRole     roster.Role `json:"defaultRole"`
	Enabled         bool        `json:"enabled"`
	IsDefault       bool        `json:"isDefault"`
	SCIMBaseURL     string      `json:"scimBaseUrl"`
	TokenPrefix     string      `json:"tokenPrefix"`
	TokenExpiresAt  *time.Time  `json:"tokenExpiresAt"`
	TokenLastUsedAt *time.Time  `json:"tokenLastUsedAt"`
	CreatedAt       time.Time   `json:"createdAt"`
	UpdatedAt       time.Time   `json:"updatedAt"`
}

// TokenRegenerated answers a token rotation.
type TokenRegenerated struct {
	ID             string    `json:"id"`
	Token          string    `json:"token"`
	TokenExpiresAt time.Time `json:"tokenExpiresAt"`
}
