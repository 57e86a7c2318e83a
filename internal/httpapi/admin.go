package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The instance admin API: organizations and their API keys, for the operator of a Roster
// installation (Bearer ROSTER_ADMIN_API_KEY).

func (s *server) adminCreateOrg(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	org, err := s.Auth.CreateOrganization(r.Context(), principal(r).Actor(), body.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, org)
	return nil
}

func (s *server) adminListOrgs(w http.ResponseWriter, r *http.Request) error {
	n := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			return roster.E(roster.Invalid, "limit must be a number from 1 to 1000")
		}
	}
	orgs, next, err := s.Store.ListOrganizations(r.Context(), store.Page{After: r.URL.Query().Get("cursor"), Limit: n})
	if err != nil {
		return err
	}
	if orgs == nil {
		orgs = []roster.Organization{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": orgs, "cursor": next})
	return nil
}

func (s *server) adminGetOrg(w http.ResponseWriter, r *http.Request) error {
	org, err := s.Store.GetOrganization(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}

func (s *server) adminUpdateOrg(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	name, err := roster.CleanName("name", body.Name)
	if err != nil {
		return err
	}
	org := &roster.Organization{ID: r.PathValue("id"), Name: name}
	if err := s.Store.Tx(r.Context(), principal(r).Actor(), func(tx store.Tx) error {
		return tx.UpdateOrganization(r.Context(), org)
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}

func (s *server) adminDeleteOrg(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Store.Tx(r.Context(), principal(r).Actor(), func(tx store.Tx) error {
		return tx.DeleteOrganization(r.Context(), id)
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "organization deleted"})
	return nil
}

// orgExists answers NotFound for an unknown organization before a nested read.
func (s *server) orgExists(r *http.Request, orgID string) error {
	_, err := s.Store.GetOrganization(r.Context(), orgID)
	return err
}

func (s *server) adminListKeys(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("id")
	if err := s.orgExists(r, orgID); err != nil {
		return err
	}
	return s.writeKeyList(w, r, orgID)
}

// writeKeyList answers {apiKeys: [...]} for an organization, with last-use times that the
// coalescer has not written yet.
func (s *server) writeKeyList(w http.ResponseWriter, r *http.Request, orgID string) error {
	keys, err := s.Store.ListOrgKeys(r.Context(), orgID)
	if err != nil {
		return err
	}
	out := make([]APIKeySummary, 0, len(keys))
	for i := range keys {
		k := &keys[i]
		k.LastUsedAt = s.Auth.LastUsed().Overlay(store.OrgKeyCredential, k.ID, k.LastUsedAt)
		out = append(out, NewKeySummary(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiKeys": out})
	return nil
}

func (s *server) adminCreateKey(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("id")
	var body struct {
		Note      string     `json:"note"`
		ExpiresAt *time.Time `json:"expiresAt"`
	}
	if err := decodeJSON(r, &body, true); err != nil {
		return err
	}
	if err := s.orgExists(r, orgID); err != nil {
		return err
	}
	key, secret, err := s.Auth.CreateOrgKey(r.Context(), principal(r).Actor(), orgID, body.Note, body.ExpiresAt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, KeyCreated{APIKeySummary: NewKeySummary(key), SecretKey: secret})
	return nil
}

func (s *server) adminDeleteKey(w http.ResponseWriter, r *http.Request) error {
	orgID, keyID := r.PathValue("id"), r.PathValue("keyId")
	if err := s.Store.Tx(r.Context(), principal(r).Actor(), func(tx store.Tx) error {
		return tx.DeleteOrgKey(r.Context(), orgID, keyID)
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "API key deleted"})
	return nil
}
