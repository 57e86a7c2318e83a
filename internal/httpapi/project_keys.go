package httpapi

import (
	"net/http"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// API keys of projects and of the organization, by org key, and the verification of a
// project key pair by the host application (admin key).

// keyBody is a key creation request. publicKey and secretKey import a pair made by another
// system (both or neither).
type keyBody struct {
	Note      string     `json:"note"`
	PublicKey string     `json:"publicKey"`
	SecretKey string     `json:"secretKey"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

func (b keyBody) request() auth.KeyRequest {
	return auth.KeyRequest{Note: b.Note, ExpiresAt: b.ExpiresAt, PublicKey: b.PublicKey, SecretKey: b.SecretKey}
}

// keyDeleted is Langfuse's ApiKeyDeletionResponse.
type keyDeleted struct {
	Success bool `json:"success"`
}

func (s *server) listProjectKeys(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	id := r.PathValue("projectId")
	if _, err := s.Store.GetProject(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	keys, err := s.Store.ListProjectKeys(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	out := make([]APIKeySummary, len(keys))
	for i := range keys {
		k := &keys[i]
		k.LastUsedAt = s.Auth.LastUsed().Overlay(store.ProjectKeyCredential, k.ID, k.LastUsedAt)
		out[i] = NewKeySummary(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiKeys": out})
	return nil
}

func (s *server) createProjectKey(w http.ResponseWriter, r *http.Request) error {
	var body keyBody
	if err := decodeJSON(r, &body, true); err != nil {
		return err
	}
	p := principal(r)
	key, secret, err := s.Auth.CreateProjectKey(r.Context(), p.Actor(), p.OrgID, r.PathValue("projectId"), body.request())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, KeyCreated{APIKeySummary: NewKeySummary(key), SecretKey: secret})
	return nil
}

func (s *server) deleteProjectKey(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		return tx.DeleteProjectKey(r.Context(), p.OrgID, r.PathValue("projectId"), r.PathValue("apiKeyId"))
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyDeleted{Success: true})
	return nil
}

func (s *server) rotateProjectKey(w http.ResponseWriter, r *http.Request) error {
	grace, err := decodeGrace(r)
	if err != nil {
		return err
	}
	p := principal(r)
	key, secret, err := s.Auth.RotateProjectKey(r.Context(), p.Actor(), p.OrgID, r.PathValue("projectId"), r.PathValue("apiKeyId"),
		grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, KeyCreated{APIKeySummary: NewKeySummary(key), SecretKey: secret})
	return nil
}

// Organization keys at /api/public/organizations/apiKeys.

func (s *server) listOrgKeys(w http.ResponseWriter, r *http.Request) error {
	return s.writeKeyList(w, r, principal(r).OrgID)
}

func (s *server) createOrgKey(w http.ResponseWriter, r *http.Request) error {
	var body keyBody
	if err := decodeJSON(r, &body, true); err != nil {
		return err
	}
	p := principal(r)
	key, secret, err := s.Auth.CreateOrgKeyFrom(r.Context(), p.Actor(), p.OrgID, body.request())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, KeyCreated{APIKeySummary: NewKeySummary(key), SecretKey: secret})
	return nil
}

func (s *server) deleteOrgKey(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		return tx.DeleteOrgKey(r.Context(), p.OrgID, r.PathValue("apiKeyId"))
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyDeleted{Success: true})
	return nil
}

// verifyKey answers POST /api/admin/apiKeys/verify: whether a project key pair is valid
// (known, secret matching, not expired) and which project and organization it opens. An
// invalid pair is a 200 with valid false: the caller's own credential was fine.
func (s *server) verifyKey(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		PublicKey string `json:"publicKey"`
		SecretKey string `json:"secretKey"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.PublicKey == "" || body.SecretKey == "" {
		return roster.E(roster.Invalid, "publicKey and secretKey are required")
	}
	key, err := s.Auth.VerifyProjectKey(r.Context(), body.PublicKey, body.SecretKey)
	if err != nil {
		return err
	}
	if key == nil {
		writeJSON(w, http.StatusOK, KeyVerified{})
		return nil
	}
	writeJSON(w, http.StatusOK, KeyVerified{Valid: true, KeyID: &key.ID, ProjectID: &key.ProjectID, OrgID: &key.OrgID, ExpiresAt: key.ExpiresAt})
	return nil
}
