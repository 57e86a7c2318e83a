package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Project key prefixes (DESIGN.md section 3). An org key's public half starts with
// "pk-org-", which a project key's never does.
const (
	ProjectPublicPrefix = "pk-"
	ProjectSecretPrefix = "sk-"
)

// maxImportedKey bounds a caller-supplied key half.
const maxImportedKey = 256

// keyPair makes or checks a key pair. Caller-supplied halves (publicKey, secretKey: keys
// imported from another system) must come together, carry the kind's prefixes, and be
// printable ASCII without ':' in the public half (Basic auth splits at the first colon).
func keyPair(public, secret, pubPrefix, secPrefix string, project bool) (string, string, error) {
	if public == "" && secret == "" {
		return NewSecret(pubPrefix), NewSecret(secPrefix), nil
	}
	if public == "" || secret == "" {
		return "", "", roster.E(roster.Invalid, "publicKey and secretKey are imported together: send both or neither")
	}
	check := func(what, v, prefix string) error {
		if !strings.HasPrefix(v, prefix) || (project && strings.HasPrefix(v, prefix+"org-")) {
			return roster.E(roster.Invalid, "%s must start with %q", what, prefix)
		}
		if len(v) < len(prefix)+16 || len(v) > maxImportedKey {
			return roster.E(roster.Invalid, "%s must be %d to %d characters long", what, len(prefix)+16, maxImportedKey)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= ' ' || c > '~' {
				return roster.E(roster.Invalid, "%s must be printable ASCII without spaces", what)
			}
			if c := v[i]; c == ':' && what == "publicKey" {
				return roster.E(roster.Invalid, "publicKey cannot contain ':' (Basic credentials split there)")
			}
		}
		return nil
	}
	if err := check("publicKey", public, pubPrefix); err != nil {
		return "", "", err
	}
	if err := check("secretKey", secret, secPrefix); err != nil {
		return "", "", err
	}
	return public, secret, nil
}

func (s *Service) checkKeyFields(note string, expiresAt *time.Time) (string, error) {
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return "", roster.E(roster.Invalid, "note is longer than 1000 characters")
	}
	if expiresAt != nil && !expiresAt.After(s.now()) {
		return "", roster.E(roster.Invalid, "expiresAt must be in the future")
	}
	return note, nil
}

// KeyRequest is what a caller may choose of a new API key.
type KeyRequest struct {
	Note      string
	ExpiresAt *time.Time
	// PublicKey and SecretKey import a pair made elsewhere; empty: generated.
	PublicKey, SecretKey string
}

// CreateOrgKeyFrom issues (or imports) an organization API key pair. The secret is returned
// once and only its digest is stored.
func (s *Service) CreateOrgKeyFrom(ctx context.Context, actor roster.Actor, orgID string, req KeyRequest) (*roster.APIKey, string, error) {
	note, err := s.checkKeyFields(req.Note, req.ExpiresAt)
	if err != nil {
		return nil, "", err
	}
	public, secret, err := keyPair(req.PublicKey, req.SecretKey, OrgPublicPrefix, OrgSecretPrefix, false)
	if err != nil {
		return nil, "", err
	}
	key := &roster.APIKey{OrgID: orgID, PublicKey: public, DisplaySecretKey: Display(secret, OrgSecretPrefix),
		Note: note, ExpiresAt: req.ExpiresAt, SecretHash: Hash(secret)}
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrgKey(ctx, key) }); err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return nil, "", roster.Wrap(roster.Conflict, err, "an API key with this public key already exists")
		}
		return nil, "", err
	}
	return key, secret, nil
}

// CreateProjectKey issues (or imports) a project API key pair.
func (s *Service) CreateProjectKey(ctx context.Context, actor roster.Actor, orgID, projectID string, req KeyRequest) (*roster.APIKey, string, error) {
	note, err := s.checkKeyFields(req.Note, req.ExpiresAt)
	if err != nil {
		return nil, "", err
	}
	public, secret, err := keyPair(req.PublicKey, req.SecretKey, ProjectPublicPrefix, ProjectSecretPrefix, true)
	if err != nil {
		return nil, "", err
	}
	key := &roster.APIKey{OrgID: orgID, ProjectID: projectID, PublicKey: public,
		DisplaySecretKey: Display(secret, ProjectSecretPrefix), Note: note, ExpiresAt: req.ExpiresAt, SecretHash: Hash(secret)}
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error {
		if _, err := tx.GetProject(ctx, orgID, projectID); err != nil {
			return err
		}
		return tx.CreateProjectKey(ctx, key)
	}); err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// RotateProjectKey issues a new pair for the project of an existing key, with its note and
// expiry, and makes the old key expire at once or after grace (never later than it already
// would).
func (s *Service) RotateProjectKey(ctx context.Context, actor roster.Actor, orgID, projectID, keyID string, grace time.Duration) (*roster.APIKey, string, error) {
	if grace < 0 || grace > MaxGrace {
		return nil, "", roster.E(roster.Invalid, "graceSeconds must be between 0 and %d", int(MaxGrace/time.Second))
	}
	secret := NewSecret(ProjectSecretPrefix)
	var key *roster.APIKey
	err := s.st.Tx(ctx, actor, func(tx store.Tx) error {
		old, err := tx.GetProjectKey(ctx, orgID, projectID, keyID)
		if err != nil {
			return err
		}
		key = &roster.APIKey{OrgID: orgID, ProjectID: projectID, PublicKey: NewSecret(ProjectPublicPrefix),
			DisplaySecretKey: Display(secret, ProjectSecretPrefix), Note: old.Note, ExpiresAt: old.ExpiresAt, SecretHash: Hash(secret)}
		if key.ExpiresAt != nil && !key.ExpiresAt.After(s.now()) {
			key.ExpiresAt = nil // rotating an expired key makes a working one
		}
		if err := tx.CreateProjectKey(ctx, key); err != nil {
			return err
		}
		return tx.ExpireProjectKey(ctx, orgID, projectID, keyID, s.now().Add(grace).UTC().Truncate(time.Microsecond))
	})
	if err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// RotateOrgKey issues a new organization key pair with the old key's note and expiry, and
// makes the old key expire at once or after grace (never later than it already would), as
// RotateProjectKey does for project keys.
func (s *Service) RotateOrgKey(ctx context.Context, actor roster.Actor, orgID, keyID string, grace time.Duration) (*roster.APIKey, string, error) {
	if grace < 0 || grace > MaxGrace {
		return nil, "", roster.E(roster.Invalid, "graceSeconds must be between 0 and %d", int(MaxGrace/time.Second))
	}
	secret := NewSecret(OrgSecretPrefix)
	var key *roster.APIKey
	err := s.st.Tx(ctx, actor, func(tx store.Tx) error {
		old, err := tx.GetOrgKey(ctx, orgID, keyID)
		if err != nil {
			return err
		}
		key = &roster.APIKey{OrgID: orgID, PublicKey: NewSecret(OrgPublicPrefix), DisplaySecretKey: Display(secret, OrgSecretPrefix),
			Note: old.Note, ExpiresAt: old.ExpiresAt, SecretHash: Hash(secret)}
		if key.ExpiresAt != nil && !key.ExpiresAt.After(s.now()) {
			key.ExpiresAt = nil // rotating an expired key makes a working one
		}
		if err := tx.CreateOrgKey(ctx, key); err != nil {
			return err
		}
		return tx.ExpireOrgKey(ctx, orgID, keyID, s.now().Add(grace).UTC().Truncate(time.Microsecond))
	})
	if err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// VerifyProjectKey checks a project key pair for the host application: the key when the
// pair is valid and not expired, else nil. Only a failure to read is an error.
func (s *Service) VerifyProjectKey(ctx context.Context, public, secret string) (*roster.APIKey, error) {
	if !strings.HasPrefix(public, ProjectPublicPrefix) || strings.HasPrefix(public, OrgPublicPrefix) ||
		len(public) > maxImportedKey || len(secret) > maxImportedKey {
		return nil, nil
	}
	key, err := s.st.LookupProjectKey(ctx, public)
	if errors.Is(err, store.ErrNotFound) {
		_ = Equal(Hash(secret), make([]byte, 32))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !Equal(key.SecretHash, Hash(secret)) || key.Expired(now) {
		return nil, nil
	}
	s.uses.Touch(store.ProjectKeyCredential, key.ID, now)
	return key, nil
}

// AuthenticateAPIKey verifies an organization or a project key pair sent as Basic
// credentials.
func (s *Service) AuthenticateAPIKey(ctx context.Context, public, secret string) (Principal, error) {
	if strings.HasPrefix(public, OrgPublicPrefix) || !strings.HasPrefix(public, ProjectPublicPrefix) {
		return s.AuthenticateBasic(ctx, public, secret)
	}
	if len(public) > maxImportedKey || len(secret) > maxImportedKey {
		return Principal{}, errBadCredentials
	}
	key, err := s.verifyKeyPair(ctx, s.st.LookupProjectKey, store.ProjectKeyCredential, public, secret)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: ProjectKey, OrgID: key.OrgID, CredentialID: key.ID, ProjectID: key.ProjectID}, nil
}
