package httpapi

import (
	"net/http"
	"time"

	"github.com/rosterhq/roster/internal/oauth"
	"github.com/rosterhq/roster/internal/roster"
)

// oauthAppBody is the body of POST and PATCH /oauth/apps…: every field optional on PATCH.
type oauthAppBody struct {
	Name              *string   `json:"name"`
	RedirectURIs      *[]string `json:"redirectUris"`
	Scopes            *[]string `json:"scopes"`
	PKCERequired      *bool     `json:"pkceRequired"`
	Public            *bool     `json:"public"`
	AllowedOrigins    *[]string `json:"allowedOrigins"`
	IDTokenSigningAlg *string   `json:"idTokenSigningAlg"`
}

func (b oauthAppBody) input() oauth.AppInput {
	return oauth.AppInput{Name: b.Name, RedirectURIs: b.RedirectURIs, Scopes: b.Scopes, PKCERequired: b.PKCERequired,
		Public: b.Public, AllowedOrigins: b.AllowedOrigins, IDTokenAlg: b.IDTokenSigningAlg}
}

// oauthAppJSON is an app in the management API; clientSecret appears only in the answers
// that create it (POST and rotate-secret).
type oauthAppJSON struct {
	ID                      string     `json:"id"`
	ClientID                string     `json:"clientId"`
	ClientSecret            string     `json:"clientSecret,omitempty"`
	Name                    string     `json:"name"`
	RedirectURIs            []string   `json:"redirectUris"`
	Scopes                  []string   `json:"scopes"`
	PKCERequired            bool       `json:"pkceRequired"`
	Public                  bool       `json:"public"`
	AllowedOrigins          []string   `json:"allowedOrigins"`
	IDTokenSigningAlg       string     `json:"idTokenSigningAlg"`
	PreviousSecretExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
	CreatedAt               time.Time  `json:"createdAt"`
	UpdatedAt               time.Time  `json:"updatedAt"`
}

func oauthAppOut(a *roster.OAuthApp, secret string) oauthAppJSON {
	nn := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return oauthAppJSON{ID: a.ID, ClientID: a.ClientID, ClientSecret: secret, Name: a.Name, RedirectURIs: nn(a.RedirectURIs),
		Scopes: nn(a.Scopes), PKCERequired: a.PKCERequired, Public: a.Public, AllowedOrigins: nn(a.AllowedOrigins),
		IDTokenSigningAlg: a.IDTokenAlg, PreviousSecretExpiresAt: a.PrevSecretExpiresAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func (s *server) listOAuthApps(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	apps, err := s.Store.ListOAuthApps(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	out := make([]oauthAppJSON, 0, len(apps))
	for i := range apps {
		out = append(out, oauthAppOut(&apps[i], ""))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (s *server) createOAuthApp(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var body oauthAppBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	app, secret, err := s.OAuth.CreateApp(r.Context(), p.Actor(), p.OrgID, body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, oauthAppOut(app, secret))
	return nil
}

func (s *server) getOAuthApp(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	app, err := s.Store.GetOAuthApp(r.Context(), p.OrgID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oauthAppOut(app, ""))
	return nil
}

func (s *server) updateOAuthApp(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var body oauthAppBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	app, err := s.OAuth.UpdateApp(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oauthAppOut(app, ""))
	return nil
}

func (s *server) deleteOAuthApp(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.OAuth.DeleteApp(r.Context(), p.Actor(), p.OrgID, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "OAuth app deleted"})
	return nil
}

func (s *server) rotateOAuthAppSecret(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	grace, err := decodeGrace(r)
	if err != nil {
		return err
	}
	app, secret, err := s.OAuth.RotateSecret(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oauthAppOut(app, secret))
	return nil
}
