package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// OAuthReader reads the OAuth provider's state. App, consent and token reads are scoped by
// organization, except the lookups by credential (a client id, a token hash), where the
// credential names its organization, and the signing keys, which belong to the instance.
type OAuthReader interface {
	GetOAuthApp(ctx context.Context, orgID, id string) (*roster.OAuthApp, error)
	// ListOAuthApps lists an organization's apps in creation order.
	ListOAuthApps(ctx context.Context, orgID string) ([]roster.OAuthApp, error)
	// LookupOAuthClient finds an app by its client id, across organizations.
	LookupOAuthClient(ctx context.Context, clientID string) (*roster.OAuthApp, error)
	// OAuthOriginAllowed reports whether some app allows browsers of origin (a CORS preflight
	// carries no credentials to tell the app).
	OAuthOriginAllowed(ctx context.Context, origin string) (bool, error)

	// LookupOAuthToken finds a token by the SHA-256 of its value, across organizations, in
	// whatever state it is (expired, used or revoked): the caller decides. It is read with
	// the member it was issued to, in whatever state that is, which every use checks.
	LookupOAuthToken(ctx context.Context, hash []byte) (*roster.OAuthToken, *roster.Member, error)
	// LookupOAuthCode finds an authorization code by the SHA-256 of its value, across
	// organizations, in whatever state it is, with the member it was issued to (as
	// LookupOAuthToken). Only ConsumeOAuthCode spends it.
	LookupOAuthCode(ctx context.Context, hash []byte) (*roster.OAuthCode, *roster.Member, error)
	// GetOAuthConsent reads what a member granted an app, or ErrNotFound.
	GetOAuthConsent(ctx context.Context, orgID, appID, userID string) (*roster.OAuthConsent, error)

	// SigningKeys lists the instance's token-signing keys that are current or were retired
	// after retiredAfter, newest generation first.
	SigningKeys(ctx context.Context, retiredAfter time.Time) ([]roster.SigningKey, error)
}

// OAuthWriter changes the OAuth provider's state. App changes, consents and the revocation of
// a token family after a reuse record their audit entries; issuing, exchanging and revoking
// single tokens is protocol bookkeeping and records none.
type OAuthWriter interface {
	// CreateOAuthApp inserts an app (its client id and secret hash set by the caller); a name
	// already used in the organization (case-insensitively) is ErrConflict.
	CreateOAuthApp(ctx context.Context, app *roster.OAuthApp) error
	// UpdateOAuthApp writes name, redirect URIs, scopes, PKCE, allowed origins and the ID
	// token algorithm.
	UpdateOAuthApp(ctx context.Context, app *roster.OAuthApp) error
	// DeleteOAuthApp deletes an app with its codes, tokens and consents.
	DeleteOAuthApp(ctx context.Context, orgID, id string) error
	// RotateOAuthAppSecret makes newHash the client secret; the old one keeps working until
	// prevUntil (nil: revoked at once).
	RotateOAuthAppSecret(ctx context.Context, orgID, id string, newHash []byte, prevUntil *time.Time) (*roster.OAuthApp, error)

	// SaveOAuthConsent records what a member granted an app, replacing an earlier grant.
	SaveOAuthConsent(ctx context.Context, c *roster.OAuthConsent) error

	// CreateOAuthCode stores an authorization code.
	CreateOAuthCode(ctx context.Context, c *roster.OAuthCode) error
	// ConsumeOAuthCode marks the code with this hash used, at most once: it returns the code
	// as it was before (UsedAt set means it had already been used, and this call changed
	// nothing), or ErrNotFound.
	ConsumeOAuthCode(ctx context.Context, hash []byte) (*roster.OAuthCode, error)

	// CreateOAuthTokens stores issued tokens.
	CreateOAuthTokens(ctx context.Context, toks ...*roster.OAuthToken) error
	// UseOAuthToken marks a refresh token exchanged, compare-and-swap: it reports false when
	// the token was already used (a reuse) or is not there.
	UseOAuthToken(ctx context.Context, orgID, id string) (bool, error)
	// RevokeOAuthToken revokes one token (idempotent).
	RevokeOAuthToken(ctx context.Context, orgID, id string) error
	// RevokeOAuthFamily revokes every token of a family, recording why (the reuse of a code or
	// a refresh token) in the audit log. It returns how many tokens it revoked.
	RevokeOAuthFamily(ctx context.Context, orgID, familyID, reason string) (int, error)

	// CreateSigningKey adds k as the newest key of its algorithm (its Generation one above
	// the current newest) and retires the previous ones. Two replicas rotating at once
	// collide on the generation: the loser gets ErrConflict and reads the winner's key.
	CreateSigningKey(ctx context.Context, k *roster.SigningKey) error
}

// OAuthMaintenance is the provider's housekeeping, outside any audited transaction.
type OAuthMaintenance interface {
	// PurgeOAuth deletes codes and tokens that expired before cutoff and signing keys retired
	// before keysBefore.
	PurgeOAuth(ctx context.Context, cutoff, keysBefore time.Time) (int64, error)
}
