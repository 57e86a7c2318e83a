package httpapi

import (
	"net/http"

	"github.com/rosterhq/roster/internal/sso"
)

// SSO connection management (org key). The login flows themselves are sso.Service's
// handlers, routed in routes.go.

func (s *server) listSAMLConnections(w http.ResponseWriter, r *http.Request) error {
	out, err := s.SSO.ListSAML(r.Context(), principal(r).OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

func (s *server) createSAMLConnection(w http.ResponseWriter, r *http.Request) error {
	var in sso.SAMLInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	p := principal(r)
	v, err := s.SSO.CreateSAML(r.Context(), p.Actor(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *server) updateSAMLConnection(w http.ResponseWriter, r *http.Request) error {
	var in sso.SAMLInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	p := principal(r)
	v, err := s.SSO.UpdateSAML(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) deleteSAMLConnection(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.SSO.DeleteSAML(r.Context(), p.Actor(), p.OrgID, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "SAML connection deleted"})
	return nil
}

func (s *server) listOIDCConnections(w http.ResponseWriter, r *http.Request) error {
	out, err := s.SSO.ListOIDC(r.Context(), principal(r).OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

func (s *server) createOIDCConnection(w http.ResponseWriter, r *http.Request) error {
	var in sso.OIDCInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	p := principal(r)
	v, err := s.SSO.CreateOIDC(r.Context(), p.Actor(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *server) updateOIDCConnection(w http.ResponseWriter, r *http.Request) error {
	var in sso.OIDCInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	p := principal(r)
	v, err := s.SSO.UpdateOIDC(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) deleteOIDCConnection(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.SSO.DeleteOIDC(r.Context(), p.Actor(), p.OrgID, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "OIDC connection deleted"})
	return nil
}

// enforceSSO is PATCH /saml/enforce {enforced?}: checks the DNS challenges of the claimed
// domains, and turns enforcement on (needs a verified domain and an enabled connection) or
// off.
func (s *server) enforceSSO(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Enforced *bool `json:"enforced"`
	}
	if err := decodeJSON(r, &in, true); err != nil {
		return err
	}
	p := principal(r)
	v, err := s.SSO.SetEnforcement(r.Context(), p.Actor(), p.OrgID, in.Enforced)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// adminVerifyDomain is POST /api/admin/organizations/{id}/sso/domains/{domain}/verify: the
// instance admin vouches for a domain the organization claimed.
func (s *server) adminVerifyDomain(w http.ResponseWriter, r *http.Request) error {
	v, err := s.SSO.VerifyDomainAsAdmin(r.Context(), principal(r).Actor(), r.PathValue("id"), r.PathValue("domain"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
