package roster

import "time"

// APIKey is an organization or project API key pair. The secret half is never stored: only
// its SHA-256 digest, which is excluded from every JSON encoding.
type APIKey struct {
	ID    string `json:"id"`
	OrgID string `json:"orgId"`
	// ProjectID is set for a project key.
	ProjectID        string     `json:"projectId,omitempty"`
	PublicKey        string     `json:"publicKey"`
	DisplaySecretKey string     `json:"displaySecretKey"`
	Note             string     `json:"note"`
	CreatedAt        time.Time  `json:"createdAt"`
	ExpiresAt        *time.Time `json:"expiresAt"`
	LastUsedAt       *time.Time `json:"lastUsedAt"`
	SecretHash       []byte     `json:"-"`
}

// Expired reports whether the key has an expiry that has passed at now.
func (k *APIKey) Expired(now time.Time) bool {
	return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)
}

// Directory is a SCIM directory: the connection of one identity provider to one
// organization. Its bearer tokens live in DirectoryToken rows so that a rotation can keep the
// old token alive for a grace period.
type Directory struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"orgId"`
	Name        string    `json:"name"`
	DefaultRole Role      `json:"defaultRole"`
	Enabled     bool      `json:"enabled"`
	IsDefault   bool      `json:"isDefault"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// The current (newest) token's display prefix and expiry; filled on reads.
	TokenPrefix    string     `json:"tokenPrefix,omitempty"`
	TokenExpiresAt *time.Time `json:"tokenExpiresAt"`
	TokenLastUsed  *time.Time `json:"tokenLastUsedAt"`
}

// DirectoryToken is one bearer token of a directory. Hash is the SHA-256 of the token; the
// token itself exists only in the response that created it.
type DirectoryToken struct {
	ID          string     `json:"id"`
	DirectoryID string     `json:"directoryId"`
	OrgID       string     `json:"orgId"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt"`
	Hash        []byte     `json:"-"`
}

// DefaultTokenTTL is how long a directory token lives unless configured otherwise.
const DefaultTokenTTL = 365 * 24 * time.Hour

// ExpiryWarning is how long before a credential expires Roster starts warning about it.
const ExpiryWarning = 30 * 24 * time.Hour
