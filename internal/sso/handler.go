package sso

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The browser-facing routes of SSO (DESIGN.md section 2). They return only errors that are
// not the person's fault (the database is down); a refused sign-in is answered here with an
// HTML page and recorded in the audit log.

// Metadata is GET /saml/metadata/{orgId}: the SP metadata to register at the IdP.
func (s *Service) HandleMetadata(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Metadata(r.Context(), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
	return nil
}

// HandleCheck is GET /saml/check?email=: does this email's domain require SSO, and where
// does its sign-in start.
func (s *Service) HandleCheck(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Check(r.Context(), r.URL.Query().Get("email"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(res)
}

// HandleSAMLAuthorize is GET /saml/authorize/{orgId}?connection=&email=&returnTo=.
func (s *Service) HandleSAMLAuthorize(w http.ResponseWriter, r *http.Request) error {
	return s.authorize(w, r, roster.ProtocolSAML)
}

// HandleOIDCAuthorize is GET /oidc/authorize/{orgId}?connection=&email=&returnTo=.
func (s *Service) HandleOIDCAuthorize(w http.ResponseWriter, r *http.Request) error {
	return s.authorize(w, r, roster.ProtocolOIDC)
}

func (s *Service) authorize(w http.ResponseWriter, r *http.Request, protocol string) error {
	ctx := r.Context()
	orgID := r.PathValue("orgId")
	q := r.URL.Query()
	if _, err := s.cfg.Store.GetOrganization(ctx, orgID); err != nil {
		return err
	}
	rt, err := s.route(ctx, orgID, q.Get("connection"), q.Get("email"), protocol)
	if err != nil {
		return err
	}
	returnTo := safeReturnTo(q.Get("returnTo"))
	secure := r.TLS != nil || strings.HasPrefix(s.cfg.BaseURL, "https://")
	maxAge := int(LoginStateTTL / time.Second)
	if rt.saml != nil {
		// The IdP's POST back is cross-site, where only a SameSite=None cookie travels, and
		// browsers take those only when Secure: over plain HTTP the login is not bound.
		var bindValue string
		to, bindValue, err := s.samlAuthorize(ctx, rt.saml, returnTo, secure)
		if err != nil {
			return err
		}
		if bindValue != "" {
			http.SetCookie(w, &http.Cookie{Name: samlStateCookie, Value: bindValue, Path: "/saml/callback", MaxAge: maxAge,
				HttpOnly: true, SameSite: http.SameSiteNoneMode, Secure: true})
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusFound)
		return nil
	}
	to, stateID, err := s.oidcAuthorize(ctx, rt.oidc, returnTo)
	if err != nil {
		return err
	}
	// The callback must come back to the browser that started the login (login CSRF): the
	// provider's redirect is a top-level GET, which carries a SameSite=Lax cookie.
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: stateID, Path: "/oidc/callback", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}

// oidcStateCookie and samlStateCookie tie a login to the browser that started it.
const (
	oidcStateCookie = "roster_oidc_state"
	samlStateCookie = "roster_saml_state"
)

// samlForm reads the HTTP-POST binding's fields from a body capped at MaxCallbackBytes.
func samlForm(w http.ResponseWriter, r *http.Request) (response, relay string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxCallbackBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", "", roster.E(roster.TooLarge, "the SAML response is larger than %d bytes", MaxCallbackBytes)
		}
		return "", "", roster.E(roster.Invalid, "the callback body is not a form")
	}
	response = r.PostForm.Get("SAMLResponse")
	if response == "" {
		return "", "", roster.E(roster.Invalid, "SAMLResponse is missing")
	}
	return response, r.PostForm.Get("RelayState"), nil
}

// inResponseTo reads, without trusting it, the InResponseTo of an encoded response: only to
// find a login state, which the verified response must then match.
func inResponseTo(encoded string) string {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return ""
	}
	var probe struct {
		InResponseTo string `xml:"InResponseTo,attr"`
	}
	if err := xml.NewDecoder(bytes.NewReader(raw)).Decode(&probe); err != nil {
		return ""
	}
	return probe.InResponseTo
}

// HandleSAMLCallback is POST /saml/callback, the ACS of SP-initiated logins. The login state
// is found by RelayState, else by InResponseTo; it names the organization and connection
// the response must verify against.
func (s *Service) HandleSAMLCallback(w http.ResponseWriter, r *http.Request) error {
	encoded, relay, err := samlForm(w, r)
	if err != nil {
		return s.refused(w, r, "", roster.Target{}, "", err)
	}
	st, err := s.consumeState(r, relay, inResponseTo(encoded), roster.ProtocolSAML)
	if err != nil {
		return s.refused(w, r, "", roster.Target{}, "", err)
	}
	c, err := s.cfg.Store.GetSAMLConnection(r.Context(), st.OrgID, st.ConnectionID)
	target := roster.Target{Type: "saml_connection", ID: st.ConnectionID}
	if err != nil {
		return s.refused(w, r, st.OrgID, target, "", refuse(400, "connection_gone", "the connection of this login was deleted", err))
	}
	if err := boundToBrowser(r, st); err != nil {
		return s.refused(w, r, st.OrgID, target, "", err)
	}
	return s.finishSAML(w, r, c, s.ACSURL(), encoded, st.RequestID, st.ReturnTo)
}

// HandleSAMLConnectionCallback is POST /saml/callback/{connectionId}: IdP-initiated logins
// of a connection that allows them, and SP-initiated ones of IdPs configured with this ACS.
func (s *Service) HandleSAMLConnectionCallback(w http.ResponseWriter, r *http.Request) error {
	encoded, relay, err := samlForm(w, r)
	if err != nil {
		return s.refused(w, r, "", roster.Target{}, "", err)
	}
	c, err := s.cfg.Store.LookupSAMLConnection(r.Context(), r.PathValue("connectionId"))
	if err != nil {
		return err
	}
	target := roster.Target{Type: "saml_connection", ID: c.ID}
	if irt := inResponseTo(encoded); irt != "" {
		st, err := s.consumeState(r, "", irt, roster.ProtocolSAML)
		if err != nil || st.ConnectionID != c.ID {
			return s.refused(w, r, c.OrgID, target, "", refuse(401, "in_response_to_mismatch",
				"the response answers a login request this connection did not make", err))
		}
		if err := boundToBrowser(r, st); err != nil {
			return s.refused(w, r, c.OrgID, target, "", err)
		}
		return s.finishSAML(w, r, c, s.ConnectionACSURL(c.ID), encoded, st.RequestID, st.ReturnTo)
	}
	if !c.IdPInitiated {
		return s.refused(w, r, c.OrgID, target, "", refuse(403, "unsolicited_not_allowed",
			"this connection does not accept IdP-initiated sign-in: start from Roster's sign-in page", nil))
	}
	return s.finishSAML(w, r, c, s.ConnectionACSURL(c.ID), encoded, "", safeReturnTo(relay))
}

// boundToBrowser checks that a login state bound to a browser (over HTTPS) comes back with
// that browser's cookie.
func boundToBrowser(r *http.Request, st *roster.LoginState) error {
	if st.Nonce == "" {
		return nil
	}
	c, err := r.Cookie(samlStateCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(st.Nonce)) != 1 {
		return refuse(400, "state_mismatch", "this sign-in was started in another browser: start again", err)
	}
	return nil
}

func (s *Service) finishSAML(w http.ResponseWriter, r *http.Request, c *roster.SAMLConnection, acs, encoded, requestID, returnTo string) error {
	target := roster.Target{Type: "saml_connection", ID: c.ID}
	if !c.Enabled {
		return s.refused(w, r, c.OrgID, target, "", refuse(403, "connection_disabled", "this connection is disabled", nil))
	}
	id, err := s.verifySAML(r.Context(), c, acs, encoded, requestID)
	if err != nil {
		return s.refused(w, r, c.OrgID, target, "", err)
	}
	doms, err := s.connectionDomains(r, c.OrgID, c.ID)
	if err != nil {
		return err
	}
	err = s.signIn(w, r, c.OrgID, identity{protocol: roster.ProtocolSAML, connID: c.ID, email: id.email, name: id.name, jit: c.JIT, domains: doms})
	if err != nil {
		return s.refused(w, r, c.OrgID, target, id.email, err)
	}
	return redirectAfter(w, r, returnTo)
}

func (s *Service) connectionDomains(r *http.Request, orgID, connID string) ([]string, error) {
	all, err := s.cfg.Store.ListSSODomains(r.Context(), orgID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range all {
		if d.ConnectionID == connID {
			out = append(out, d.Domain)
		}
	}
	return out, nil
}

// consumeState takes the login state named by id (RelayState or OIDC state), else the one
// whose request is requestID, once.
func (s *Service) consumeState(r *http.Request, id, requestID, protocol string) (*roster.LoginState, error) {
	ctx := r.Context()
	now := s.now()
	if id == "" && requestID != "" {
		st, err := s.cfg.Store.FindLoginState(ctx, requestID, now)
		if err != nil {
			return nil, refuse(400, "unknown_login_state", "this sign-in is unknown or took too long: start again", err)
		}
		id = st.ID
	}
	if id == "" {
		return nil, refuse(400, "unknown_login_state", "this sign-in is unknown or took too long: start again", nil)
	}
	var st *roster.LoginState
	err := s.cfg.Store.Tx(ctx, roster.SystemActor("sso"), func(tx store.Tx) error {
		var err error
		st, err = tx.ConsumeLoginState(ctx, id, now)
		return err
	})
	if err != nil {
		if roster.KindOf(err) == roster.NotFound {
			return nil, refuse(400, "unknown_login_state", "this sign-in is unknown, already used or took too long: start again", err)
		}
		return nil, err
	}
	if st.Protocol != protocol {
		return nil, refuse(400, "unknown_login_state", "this sign-in was started for another protocol", nil)
	}
	return st, nil
}

func redirectAfter(w http.ResponseWriter, r *http.Request, returnTo string) error {
	if returnTo == "" {
		returnTo = "/session"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
	return nil
}

// HandleOIDCCallback is GET /oidc/callback: the provider's answer, matched to its login
// state by the state parameter.
func (s *Service) HandleOIDCCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if c, err := r.Cookie(oidcStateCookie); err != nil || q.Get("state") == "" ||
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(q.Get("state"))) != 1 {
		return s.refused(w, r, "", roster.Target{}, "", refuse(400, "state_mismatch",
			"this sign-in was started in another browser or has expired: start again", nil))
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: "", Path: "/oidc/callback", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	st, err := s.consumeState(r, q.Get("state"), "", roster.ProtocolOIDC)
	if err != nil {
		return s.refused(w, r, "", roster.Target{}, "", err)
	}
	target := roster.Target{Type: "oidc_connection", ID: st.ConnectionID}
	c, err := s.cfg.Store.GetOIDCConnection(r.Context(), st.OrgID, st.ConnectionID)
	if err != nil {
		return s.refused(w, r, st.OrgID, target, "", refuse(400, "connection_gone", "the connection of this login was deleted", err))
	}
	if e := q.Get("error"); e != "" {
		return s.refused(w, r, c.OrgID, target, "", refuse(401, "idp_refused", "the identity provider did not sign you in ("+e+")", nil))
	}
	if !c.Enabled {
		return s.refused(w, r, c.OrgID, target, "", refuse(403, "connection_disabled", "this connection is disabled", nil))
	}
	code := q.Get("code")
	if code == "" {
		return s.refused(w, r, c.OrgID, target, "", refuse(400, "code_missing", "the identity provider sent no authorization code", nil))
	}
	id, err := s.oidcExchange(r.Context(), c, st, code)
	if err != nil {
		return s.refused(w, r, c.OrgID, target, "", err)
	}
	doms, err := s.connectionDomains(r, c.OrgID, c.ID)
	if err != nil {
		return err
	}
	err = s.signIn(w, r, c.OrgID, identity{protocol: roster.ProtocolOIDC, connID: c.ID, email: id.email, name: id.name, jit: c.JIT, domains: doms})
	if err != nil {
		return s.refused(w, r, c.OrgID, target, id.email, err)
	}
	return redirectAfter(w, r, st.ReturnTo)
}

// HandleLogout is GET /saml/logout/{orgId}: ends the browser's session in that organization
// and, when its connection has a single logout URL, sends the browser there.
func (s *Service) HandleLogout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	orgID := r.PathValue("orgId")
	sess, _, err := s.cfg.Sessions.Read(r)
	if err != nil && roster.KindOf(err) != roster.Unauthenticated {
		return err
	}
	if sess == nil || sess.OrgID != orgID {
		writePage(w, http.StatusOK, "Signed out", "You are signed out.")
		return nil
	}
	if err := s.cfg.Sessions.End(w, r); err != nil {
		return err
	}
	if sess.Method == roster.SessionSAML && sess.ConnectionID != "" {
		if c, err := s.cfg.Store.GetSAMLConnection(ctx, orgID, sess.ConnectionID); err == nil && c.SLOURL != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, c.SLOURL, http.StatusFound)
			return nil
		}
	}
	writePage(w, http.StatusOK, "Signed out", "You are signed out.")
	return nil
}

// HandleLogoutCallback is GET and POST /saml/logout/callback, where IdPs send the browser
// after single logout (or to start it): the browser's session here ends too.
func (s *Service) HandleLogoutCallback(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxCallbackBytes)
	if err := s.cfg.Sessions.End(w, r); err != nil {
		return err
	}
	writePage(w, http.StatusOK, "Signed out", "You are signed out.")
	return nil
}
