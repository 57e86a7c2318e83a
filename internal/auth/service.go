package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Service issues, rotates and verifies credentials. The CLI and the HTTP API both call it,
// so a credential is made the same way whichever door it came through.
type Service struct {
	st       store.Store
	now      func() time.Time
	tokenTTL time.Duration
	uses     *LastUsed
	log      *slog.Logger
}

// Config tunes a Service.
type Config struct {
	// TokenTTL is the lifetime of new directory tokens (default 365 days).
	TokenTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives expiry warnings (default: discard).
	Logger *slog.Logger
}

// MaxGrace bounds the grace period of a rotation: long enough to roll a change through any
// identity provider, short enough that a leaked token cannot be kept alive indefinitely.
const MaxGrace = 30 * 24 * time.Hour

// NewService returns a Service on st.
func NewService(st store.Store, cfg Config) *Service {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = roster.DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, now: cfg.Now, tokenTTL: cfg.TokenTTL, uses: NewLastUsed(st), log: cfg.Logger}
}

// LastUsed returns the coalescer that records credential use; the server runs its flush loop.
func (s *Service) LastUsed() *LastUsed { return s.uses }

// TokenTTL is the lifetime given to new directory tokens.
func (s *Service) TokenTTL() time.Duration { return s.tokenTTL }

// CreateOrganization creates an organization.
func (s *Service) CreateOrganization(ctx context.Context, actor roster.Actor, name string) (*roster.Organization, error) {
	name, err := roster.CleanName("name", name)
	if err != nil {
		return nil, err
	}
	org := &roster.Organization{Name: name}
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrganization(ctx, org) }); err != nil {
		return nil, err
	}
	return org, nil
}

// CreateOrgKey issues an organization API key pair. The secret key is returned once and
// only its digest is stored.
func (s *Service) CreateOrgKey(ctx context.Context, actor roster.Actor, orgID, note string, expiresAt *time.Time) (*roster.APIKey, string, error) {
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, "", roster.E(roster.Invalid, "note is longer than 1000 characters")
	}
	if expiresAt != nil && !expiresAt.After(s.now()) {
		return nil, "", roster.E(roster.Invalid, "expiresAt must be in the future")
	}
	secret := NewSecret(OrgSecretPrefix)
	key := &roster.APIKey{
		OrgID:            orgID,
		PublicKey:        NewSecret(OrgPublicPrefix),
		DisplaySecretKey: Display(secret, OrgSecretPrefix),
		Note:             note,
		ExpiresAt:        expiresAt,
		SecretHash:       Hash(secret),
	}
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrgKey(ctx, key) }); err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// newToken makes a directory token and its row (not yet stored).
func (s *Service) newToken() (*roster.DirectoryToken, string) {
	token := NewSecret(TokenPrefix)
	return &roster.DirectoryToken{
		Prefix:    TokenDisplayPrefix(token),
		ExpiresAt: s.now().Add(s.tokenTTL).UTC().Truncate(time.Microsecond),
		Hash:      Hash(token),
	}, token
}

// CreateDirectory creates a SCIM directory with its first bearer token, returned once.
func (s *Service) CreateDirectory(ctx context.Context, actor roster.Actor, orgID, name string, role roster.Role) (*roster.Directory, string, error) {
	name, err := roster.CleanName("name", name)
	if err != nil {
		return nil, "", err
	}
	if role == "" {
		role = roster.RoleNone
	}
	if err := checkDefaultRole(role); err != nil {
		return nil, "", err
	}
	dir := &roster.Directory{OrgID: orgID, Name: name, DefaultRole: role, Enabled: true}
	tok, token := s.newToken()
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateDirectory(ctx, dir, tok) }); err != nil {
		return nil, "", err
	}
	return dir, token, nil
}

// checkDefaultRole refuses OWNER: provisioning never makes owners (DESIGN.md section 5).
func checkDefaultRole(r roster.Role) error {
	if !r.Valid() {
		return roster.E(roster.Invalid, "unknown role %q: want ADMIN, MEMBER, VIEWER or NONE", r)
	}
	if r == roster.RoleOwner {
		return roster.E(roster.Invalid, "a directory cannot provision owners: defaultRole must be ADMIN, MEMBER, VIEWER or NONE")
	}
	return nil
}

// DirectoryPatch is a partial update of a directory.
type DirectoryPatch struct {
	Name        *string
	Enabled     *bool
	DefaultRole *roster.Role
}

// UpdateDirectory applies p to a directory of orgID.
func (s *Service) UpdateDirectory(ctx context.Context, actor roster.Actor, orgID, dirID string, p DirectoryPatch) (*roster.Directory, error) {
	var out *roster.Directory
	err := s.st.Tx(ctx, actor, func(tx store.Tx) error {
		d, err := tx.GetDirectory(ctx, orgID, dirID)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if d.Name, err = roster.CleanName("name", *p.Name); err != nil {
				return err
			}
		}
		if p.Enabled != nil {
			d.Enabled = *p.Enabled
		}
		if p.DefaultRole != nil {
			if err := checkDefaultRole(*p.DefaultRole); err != nil {
				return err
			}
			d.DefaultRole = *p.DefaultRole
		}
		if err := tx.UpdateDirectory(ctx, d); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

// RegenerateToken issues a new token for a directory. Older tokens stop working at once, or
// after grace when the caller asks for a zero-downtime rotation.
func (s *Service) RegenerateToken(ctx context.Context, actor roster.Actor, orgID, dirID string, grace time.Duration) (*roster.DirectoryToken, string, error) {
	if grace < 0 || grace > MaxGrace {
		return nil, "", roster.E(roster.Invalid, "graceSeconds must be between 0 and %d", int(MaxGrace/time.Second))
	}
	tok, token := s.newToken()
	tok.OrgID, tok.DirectoryID = orgID, dirID
	oldExpire := s.now().Add(grace).UTC().Truncate(time.Microsecond)
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.RotateDirectoryToken(ctx, tok, oldExpire) }); err != nil {
		return nil, "", err
	}
	return tok, token, nil
}

// DefaultDirectory returns the organization's default directory, creating it on first use:
// org-key Basic auth on the SCIM routes acts on it (the ABV way of connecting an IdP).
func (s *Service) DefaultDirectory(ctx context.Context, actor roster.Actor, orgID string) (*roster.Directory, error) {
	d, err := s.st.DefaultDirectory(ctx, orgID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	d = &roster.Directory{OrgID: orgID, Name: "Default directory", DefaultRole: roster.RoleNone, Enabled: true, IsDefault: true}
	err = s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateDirectory(ctx, d, nil) })
	if errors.Is(err, store.ErrConflict) { // another request created it first
		return s.st.DefaultDirectory(ctx, orgID)
	}
	return d, err
}

var errBadCredentials = roster.E(roster.Unauthenticated, "invalid credentials")

// AuthenticateBearer verifies a directory token.
func (s *Service) AuthenticateBearer(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 256 {
		return Principal{}, errBadCredentials
	}
	h := Hash(token)
	now := s.now()
	tok, dir, err := s.st.LookupDirectoryToken(ctx, h, now)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, roster.E(roster.Unauthenticated, "invalid, expired or revoked token")
	}
	if err != nil {
		return Principal{}, err
	}
	if !Equal(tok.Hash, h) {
		return Principal{}, errBadCredentials
	}
	if !dir.Enabled {
		return Principal{}, roster.E(roster.Unauthenticated, "directory is disabled")
	}
	s.uses.Touch(store.DirectoryTokenCredential, tok.ID, now)
	return Principal{Kind: DirectoryToken, OrgID: tok.OrgID, CredentialID: tok.ID, Directory: dir}, nil
}

// AuthenticateBasic verifies an organization key pair.
func (s *Service) AuthenticateBasic(ctx context.Context, public, secret string) (Principal, error) {
	if !strings.HasPrefix(public, OrgPublicPrefix) || len(public) > 256 || len(secret) > 256 {
		return Principal{}, errBadCredentials
	}
	key, err := s.verifyKeyPair(ctx, s.st.LookupOrgKey, store.OrgKeyCredential, public, secret)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: OrgKey, OrgID: key.OrgID, CredentialID: key.ID}, nil
}

// verifyKeyPair checks a key pair found by lookup: the secret's hash in constant time, and
// the expiry; a use of a valid key is recorded.
func (s *Service) verifyKeyPair(ctx context.Context, lookup func(context.Context, string) (*roster.APIKey, error),
	kind store.CredentialKind, public, secret string) (*roster.APIKey, error) {
	key, err := lookup(ctx, public)
	if errors.Is(err, store.ErrNotFound) {
		// Hash anyway so that unknown and known keys take the same time.
		_ = Equal(Hash(secret), make([]byte, 32))
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !Equal(key.SecretHash, Hash(secret)) {
		return nil, errBadCredentials
	}
	now := s.now()
	if key.Expired(now) {
		return nil, roster.E(roster.Unauthenticated, "API key expired")
	}
	s.uses.Touch(kind, key.ID, now)
	return key, nil
}

// CheckExpiry logs a warning for every credential that expires within roster.ExpiryWarning
// and returns them, so the caller can export the count as a metric. Expiring tokens must
// never fail silently: an IdP whose token lapses stops provisioning without telling anyone.
func (s *Service) CheckExpiry(ctx context.Context) ([]store.Expiring, error) {
	now := s.now()
	list, err := s.st.ExpiringCredentials(ctx, now, now.Add(roster.ExpiryWarning))
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		s.log.Warn("credential expires soon: rotate it", "kind", string(e.Kind), "credential_id", e.ID,
			"org_id", e.OrgID, "directory_id", e.DirectoryID, "expires_at", e.ExpiresAt,
			"days_left", int(e.ExpiresAt.Sub(now).Hours()/24))
	}
	return list, nil
}
