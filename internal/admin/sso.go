package admin

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/sso"
)

// The SSO page: the values to paste into the identity provider (ACS URL, SP entity id,
// metadata URL, OIDC redirect URI) with copy buttons; SAML connections from uploaded or
// pasted IdP metadata, a metadata URL, or the IdP's fields; OIDC connections; their email
// domains with the DNS records that verify them; enforcement; and a "test connection"
// sign-in. Connections are made by sso.Service, as through the connections API.

type ssoPage struct {
	SPEntityID, ACSURL, MetadataURL, RedirectURI string
	SAML                                         []sso.SAMLView
	OIDC                                         []sso.OIDCView
	Enforced                                     bool
	Domains                                      []sso.DomainView
	Presets                                      []string
	OrgID                                        string
}

func (c *Console) ssoView(q *req) (*view, error) {
	saml, err := c.SSO.ListSAML(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	oidc, err := c.SSO.ListOIDC(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	st, err := c.Store.GetSSOSettings(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	var domains []sso.DomainView
	for _, s := range saml {
		domains = append(domains, s.Domains...)
	}
	for _, o := range oidc {
		domains = append(domains, o.Domains...)
	}
	return q.view("sso", "Single sign-on", &ssoPage{SPEntityID: c.SSO.SPEntityID(q.org.ID), ACSURL: c.SSO.ACSURL(),
		MetadataURL: c.SSO.SPEntityID(q.org.ID), RedirectURI: c.SSO.OIDCRedirectURL(), SAML: saml, OIDC: oidc,
		Enforced: st.Enforced, Domains: domains, Presets: []string{"okta", "entra", "google"}, OrgID: q.org.ID}), nil
}

// SSOPage answers GET /orgs/{orgId}/sso.
func (c *Console) SSOPage(q *req) error {
	v, err := c.ssoView(q)
	if err != nil {
		return err
	}
	return c.show(q, "sso", v, "")
}

// formDomains reads a comma- or space-separated list of email domains.
func formDomains(v string) *[]string {
	out := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	return &out
}

// optional is nil for an empty form value, so the service sees "not given".
func optional(v string) *string {
	if v = strings.TrimSpace(v); v == "" {
		return nil
	}
	return &v
}

// CreateSAMLConnection answers POST /orgs/{orgId}/sso/saml (multipart or urlencoded: name,
// metadataFile or metadataXml or metadataUrl, or entityId, ssoUrl and certificate; domains;
// preset; idpInitiated).
func (c *Console) CreateSAMLConnection(q *req) error {
	r := q.r
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return roster.E(roster.Invalid, "the form could not be read")
		}
	}
	f := r.Form
	in := sso.SAMLInput{Name: optional(f.Get("name")), MetadataXML: optional(f.Get("metadataXml")), MetadataURL: optional(f.Get("metadataUrl")),
		EntityID: optional(f.Get("entityId")), SSOURL: optional(f.Get("ssoUrl")), Domains: formDomains(f.Get("domains"))}
	if in.Name == nil {
		empty := ""
		in.Name = &empty
	}
	if file, _, err := r.FormFile("metadataFile"); err == nil {
		raw, err := io.ReadAll(io.LimitReader(file, 1<<20))
		file.Close()
		if err != nil {
			return roster.E(roster.Invalid, "the metadata file could not be read")
		}
		if len(strings.TrimSpace(string(raw))) > 0 {
			s := string(raw)
			in.MetadataXML = &s
		}
	}
	if cert := strings.TrimSpace(f.Get("certificate")); cert != "" {
		in.Certificates = &[]string{cert}
	}
	if f.Get("idpInitiated") == "true" {
		on := true
		in.IdPInitiated = &on
	}
	if p := f.Get("preset"); p != "" {
		in.AttributeMapping = &roster.AttributeMapping{Preset: p}
	}
	if _, err := c.SSO.CreateSAML(q.ctx(), q.actor(), q.org.ID, in); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/sso", "saved")
}

// CreateOIDCConnection answers POST /orgs/{orgId}/sso/oidc (name, issuer, clientId,
// clientSecret, domains).
func (c *Console) CreateOIDCConnection(q *req) error {
	f := q.r.PostForm
	in := sso.OIDCInput{Name: optional(f.Get("name")), Issuer: optional(f.Get("issuer")), ClientID: optional(f.Get("clientId")),
		ClientSecret: optional(f.Get("clientSecret")), Domains: formDomains(f.Get("domains"))}
	if _, err := c.SSO.CreateOIDC(q.ctx(), q.actor(), q.org.ID, in); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/sso", "saved")
}

func connID(q *req) (string, error) {
	id := q.r.PathValue("connId")
	if !roster.ValidID(id) {
		return "", roster.E(roster.NotFound, "no such connection")
	}
	return id, nil
}

// ToggleConnection answers POST /orgs/{orgId}/sso/{protocol}/{connId}/toggle (enabled).
func (c *Console) ToggleConnection(q *req) error {
	id, err := connID(q)
	if err != nil {
		return err
	}
	on := q.r.PostForm.Get("enabled") == "true"
	switch q.r.PathValue("protocol") {
	case "saml":
		_, err = c.SSO.UpdateSAML(q.ctx(), q.actor(), q.org.ID, id, sso.SAMLInput{Enabled: &on})
	case "oidc":
		_, err = c.SSO.UpdateOIDC(q.ctx(), q.actor(), q.org.ID, id, sso.OIDCInput{Enabled: &on})
	default:
		err = roster.E(roster.NotFound, "no such connection")
	}
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/sso", "saved")
}

// DeleteConnection answers POST /orgs/{orgId}/sso/{protocol}/{connId}/delete.
func (c *Console) DeleteConnection(q *req) error {
	id, err := connID(q)
	if err != nil {
		return err
	}
	switch q.r.PathValue("protocol") {
	case "saml":
		err = c.SSO.DeleteSAML(q.ctx(), q.actor(), q.org.ID, id)
	case "oidc":
		err = c.SSO.DeleteOIDC(q.ctx(), q.actor(), q.org.ID, id)
	default:
		err = roster.E(roster.NotFound, "no such connection")
	}
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/sso", "deleted")
}

// Enforce answers POST /orgs/{orgId}/sso/enforce (enforced: true, false, or empty to check
// the domains' DNS records only). Turning it on needs a verified domain and an enabled
// connection.
func (c *Console) Enforce(q *req) error {
	var want *bool
	switch q.r.PostForm.Get("enforced") {
	case "true":
		t := true
		want = &t
	case "false":
		f := false
		want = &f
	}
	if _, err := c.SSO.SetEnforcement(q.ctx(), q.actor(), q.org.ID, want); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/sso", "saved")
}

// LoginSSO answers GET /login/sso?email=…: the sign-in through the SSO connection of the
// email's verified domain.
func (c *Console) LoginSSO(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	page := loginPage{Email: email, SSO: true}
	res, err := c.SSO.Check(r.Context(), email)
	if err == nil && !res.SSOAvailable {
		err = roster.E(roster.NotFound, "no single sign-on is set up for this email's domain: sign in with your password")
	}
	if err != nil {
		v := &view{Title: "Sign in", Data: page, Error: roster.MessageOf(err)}
		if rerr := c.render(w, r, status(err), "login", v); rerr != nil {
			c.fail(w, r, nil, rerr)
		}
		return
	}
	u := res.AuthorizeURL + "&email=" + url.QueryEscape(res.Email)
	http.Redirect(w, r, u, http.StatusSeeOther)
}
