package oauth

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// authzParams are the authorization request parameters Roster reads (RFC 6749 section 4.1.1,
// RFC 7636 section 4.3, OpenID Connect Core section 3.1.2.1); the consent form carries them
// through unchanged.
var authzParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
	"code_challenge_method", "nonce", "prompt", "login_hint"}

// authzRequest is a validated authorization request.
type authzRequest struct {
	app         *roster.OAuthApp
	redirectURI string
	state       string
	scopes      []string
	challenge   string
	nonce       string
	prompt      []string
	loginHint   string
	values      url.Values // the parameters as received, for the consent form and returnTo
}

// redirectError is an error to send back to the client's redirect URI (RFC 6749 section
// 4.1.2.1): the request named a registered client and redirect URI, so they can be trusted
// with it.
type redirectError struct{ e *Error }

func (r redirectError) Error() string { return r.e.Error() }

// Authorize is the authorization endpoint (RFC 6749 section 3.1), GET and POST. A GET (or a
// POST without a decision) validates the request, signs the member in through an existing
// session or the organization's SSO, and shows the consent screen unless the member already
// granted every scope asked for; the consent form's POST, which passes the cross-origin
// check, records the grant and redirects with the code. A request whose client or redirect
// URI cannot be trusted gets an error page and is never redirected.
func (p *Provider) Authorize(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// The consent screen must never be framed by another site (clickjacking, RFC 9700
	// section 4.16).
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	req, err := p.parseAuthorize(r)
	if err != nil {
		p.authorizeFailed(w, r, req, err)
		return
	}
	if err := p.authorize(w, r, req); err != nil {
		p.authorizeFailed(w, r, req, err)
	}
}

// authorizeFailed answers an error of the authorization endpoint: back to the client when
// its redirect URI was verified, else on a page of ours.
func (p *Provider) authorizeFailed(w http.ResponseWriter, r *http.Request, req *authzRequest, err error) {
	var re redirectError
	if errors.As(err, &re) && req != nil {
		v := url.Values{"error": {re.e.Code}, "error_description": {re.e.Description}}
		p.redirect(w, r, req, v)
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		if roster.KindOf(err) == roster.Forbidden {
			e = oerr(ErrAccessDenied, "%s", roster.MessageOf(err))
			e.Status = http.StatusForbidden
		} else {
			e = p.internal(r, err)
		}
	}
	p.page(w, e.Status, "Sign-in cannot continue", e.Description, nil)
}

// redirect sends the browser to the client's redirect URI with v, the state and the issuer
// (RFC 9207, against mix-up attacks).
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, req *authzRequest, v url.Values) {
	if req.state != "" {
		v.Set("state", req.state)
	}
	v.Set("iss", p.issuer)
	sep := "?"
	if strings.Contains(req.redirectURI, "?") {
		sep = "&"
	}
	http.Redirect(w, r, req.redirectURI+sep+v.Encode(), http.StatusSeeOther)
}

type param struct{ Name, Value string }

func (p *Provider) page(w http.ResponseWriter, status int, title, msg string, params []param) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = templates.ExecuteTemplate(w, "page.html", map[string]any{"Title": title, "Message": msg, "Params": params})
}

// parseAuthorize reads and validates an authorization request. Until the client and its
// redirect URI are verified the errors are plain; after, they are redirectErrors.
func (p *Provider) parseAuthorize(r *http.Request) (*authzRequest, error) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			return nil, oerr(ErrInvalidRequest, "malformed form body")
		}
	}
	all := r.URL.Query()
	if r.Method == http.MethodPost {
		all = r.Form
	}
	values := url.Values{}
	for _, k := range authzParams {
		if len(all[k]) > 1 {
			return nil, oerr(ErrInvalidRequest, "parameter %s is repeated", k)
		}
		if v := all.Get(k); v != "" {
			values.Set(k, v)
		}
	}
	clientID := values.Get("client_id")
	if clientID == "" {
		return nil, oerr(ErrInvalidRequest, "client_id is required")
	}
	app, err := p.st.LookupOAuthClient(r.Context(), clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr(ErrInvalidRequest, "unknown client_id")
	}
	if err != nil {
		return nil, err
	}
	req := &authzRequest{app: app, redirectURI: values.Get("redirect_uri"), state: values.Get("state"), values: values,
		nonce: values.Get("nonce"), loginHint: values.Get("login_hint"), prompt: strings.Fields(values.Get("prompt"))}
	if req.redirectURI == "" {
		if len(app.RedirectURIs) != 1 {
			return nil, oerr(ErrInvalidRequest, "redirect_uri is required: the client has several")
		}
		req.redirectURI = app.RedirectURIs[0]
	}
	if !app.AllowsRedirect(req.redirectURI) {
		// RFC 9700 section 4.1: exact match only, and never a redirect to an unverified URI.
		return nil, oerr(ErrInvalidRequest, "redirect_uri is not registered for this client")
	}
	// From here the redirect URI is trusted with errors.
	bad := func(code, format string, args ...any) (*authzRequest, error) {
		return req, redirectError{oerr(code, format, args...)}
	}
	if rt := values.Get("response_type"); rt != "code" {
		if rt == "" {
			return bad(ErrInvalidRequest, "response_type is required")
		}
		return bad(ErrUnsupportedResponseType, "response_type %q is not supported: use code", rt)
	}
	req.challenge = values.Get("code_challenge")
	switch m := values.Get("code_challenge_method"); {
	case req.challenge == "" && m != "":
		return bad(ErrInvalidRequest, "code_challenge_method without code_challenge")
	case req.challenge != "" && m != "S256":
		// RFC 7636 section 4.3 defaults to plain; RFC 9700 section 2.1.1 says use S256, and
		// plain would let a stolen authorization request redeem the code.
		return bad(ErrInvalidRequest, "code_challenge_method must be S256 (plain is not accepted)")
	case req.challenge == "" && app.NeedsPKCE():
		return bad(ErrInvalidRequest, "this client must use PKCE: send code_challenge with code_challenge_method=S256")
	case req.challenge != "" && !validChallenge(req.challenge):
		return bad(ErrInvalidRequest, "code_challenge must be the 43-character base64url SHA-256 of the code verifier")
	}
	req.scopes = roster.ParseScope(values.Get("scope"))
	if len(req.scopes) == 0 {
		return bad(ErrInvalidScope, "scope is required")
	}
	for _, s := range req.scopes {
		if !roster.KnownScope(s) {
			return bad(ErrInvalidScope, "unknown scope %q", s)
		}
		if !slices.Contains(app.Scopes, s) {
			return bad(ErrInvalidScope, "scope %q is not allowed for this client", s)
		}
	}
	for _, pr := range req.prompt {
		if pr != "none" && pr != "consent" && pr != "login" {
			return bad(ErrInvalidRequest, "prompt %q is not supported", pr)
		}
	}
	if len(req.nonce) > 512 || len(req.state) > 2048 {
		return bad(ErrInvalidRequest, "state or nonce is too long")
	}
	return req, nil
}

func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for _, ch := range c {
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request, req *authzRequest) error {
	ctx := r.Context()
	m, authTime, err := p.signedIn(r, req.app.OrgID)
	if err != nil {
		return err
	}
	// prompt=login asks for a fresh sign-in; the way back from SSO drops it (sendToSSO).
	if m == nil || slices.Contains(req.prompt, "login") && r.Method == http.MethodGet {
		if slices.Contains(req.prompt, "none") {
			return redirectError{oerr(ErrLoginRequired, "the member is not signed in")}
		}
		return p.sendToSSO(w, r, req)
	}
	role := roster.EffectiveOrgRole(m.Status, m.Role)
	granted := roster.TrimScopes(req.scopes, role)
	var trimmed []string
	for _, s := range req.scopes {
		if !slices.Contains(granted, s) {
			trimmed = append(trimmed, s)
		}
	}
	if len(granted) == 0 {
		return redirectError{oerr(ErrInvalidScope, "the member's role allows none of the scopes asked for")}
	}
	decision := ""
	if r.Method == http.MethodPost {
		decision = r.PostForm.Get("decision")
	}
	switch decision {
	case "":
		consent, err := p.st.GetOAuthConsent(ctx, req.app.OrgID, req.app.ID, m.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		covered := consent != nil && !slices.Contains(req.prompt, "consent")
		for _, s := range granted {
			covered = covered && slices.Contains(consent.Scopes, s)
		}
		if covered {
			return p.issueCode(w, r, req, m, granted, authTime, false)
		}
		if slices.Contains(req.prompt, "none") {
			return redirectError{oerr(ErrConsentRequired, "the member has not consented to these scopes")}
		}
		return p.consentPage(w, r, req, m, role, granted, trimmed)
	case "allow", "deny":
		// The consent form posts here: it must come from this site, not a page that
		// submits it on the member's behalf.
		if p.cfg.Sessions != nil {
			if err := p.cfg.Sessions.CheckOrigin(r); err != nil {
				return err
			}
		}
		if decision == "deny" {
			return redirectError{oerr(ErrAccessDenied, "the member denied the request")}
		}
		return p.issueCode(w, r, req, m, granted, authTime, true)
	}
	return redirectError{oerr(ErrInvalidRequest, "decision must be allow or deny")}
}

// signedIn returns the member signed in to the browser when it belongs to orgID and is
// active, else nil.
func (p *Provider) signedIn(r *http.Request, orgID string) (*roster.Member, int64, error) {
	if p.cfg.Sessions == nil {
		return nil, 0, nil
	}
	sess, m, err := p.cfg.Sessions.Read(r)
	if roster.KindOf(err) == roster.Unauthenticated {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if m.OrgID != orgID || m.Status != roster.MemberActive {
		return nil, 0, nil
	}
	return m, sess.CreatedAt.Unix(), nil
}

// sendToSSO sends a browser that is not signed in to its organization's SSO login, with
// returnTo set to this request, so that it comes back here signed in. Without an email to
// route by, it first asks for one.
func (p *Provider) sendToSSO(w http.ResponseWriter, r *http.Request, req *authzRequest) error {
	ctx := r.Context()
	back := url.Values{}
	for k, v := range req.values {
		back[k] = v
	}
	if req.loginHint == "" {
		var params []param
		for _, k := range authzParams {
			if v := back.Get(k); v != "" && k != "login_hint" {
				params = append(params, param{k, v})
			}
		}
		org, err := p.st.GetOrganization(ctx, req.app.OrgID)
		if err != nil {
			return err
		}
		p.page(w, http.StatusOK, "Sign in to "+org.Name, "Enter your work email to sign in with your organization's identity provider and continue to "+req.app.Name+".", params)
		return nil
	}
	back.Del("prompt") // once back, prompt=login is satisfied
	returnTo := "/oauth/authorize?" + back.Encode()
	login := p.cfg.SSOLogin
	if login == nil {
		login = func(_ context.Context, orgID, email string) (string, error) {
			return "/saml/authorize/" + url.PathEscape(orgID) + "?" + url.Values{"email": {email}}.Encode(), nil
		}
	}
	to, err := login(ctx, req.app.OrgID, req.loginHint)
	if err != nil {
		return err
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+url.Values{"returnTo": {returnTo}}.Encode(), http.StatusFound)
	return nil
}

// scopeText describes each scope on the consent screen.
var scopeText = map[string]string{
	roster.ScopeOpenID:        "Know who you are (sign you in)",
	roster.ScopeProfile:       "See your name",
	roster.ScopeEmail:         "See your email address",
	roster.ScopeOfflineAccess: "Stay signed in when you are away (refresh tokens)",
	roster.ScopeUserRead:      "Read your profile",
	roster.ScopeOrgRead:       "Read your organization",
	roster.ScopeProjectsRead:  "Read your projects and your roles in them",
}

func (p *Provider) consentPage(w http.ResponseWriter, r *http.Request, req *authzRequest, m *roster.Member, role roster.Role, granted, trimmed []string) error {
	org, err := p.st.GetOrganization(r.Context(), req.app.OrgID)
	if err != nil {
		return err
	}
	var params []param
	for _, k := range authzParams {
		if v := req.values.Get(k); v != "" {
			params = append(params, param{k, v})
		}
	}
	if req.values.Get("redirect_uri") == "" {
		params = append(params, param{"redirect_uri", req.redirectURI})
	}
	text := make([]string, 0, len(granted))
	for _, s := range granted {
		text = append(text, scopeText[s])
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	return templates.ExecuteTemplate(w, "consent.html", map[string]any{"App": req.app.Name, "Org": org.Name, "Email": m.Email,
		"Role": string(role), "Granted": text, "Trimmed": trimmed, "Params": params, "Redirect": req.redirectURI})
}

// issueCode records the consent (when given now) and the code, and redirects with it.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, req *authzRequest, m *roster.Member, granted []string, authTime int64, consented bool) error {
	ctx := r.Context()
	code := auth.NewSecret(codePrefix)
	n := p.now()
	c := &roster.OAuthCode{OrgID: req.app.OrgID, AppID: req.app.ID, UserID: m.ID, Hash: hashOf(code), RedirectURI: req.redirectURI,
		Scopes: granted, CodeChallenge: req.challenge, Nonce: req.nonce, AuthTime: unixTime(authTime), ExpiresAt: n.Add(p.cfg.CodeTTL)}
	actor := roster.Actor{Type: roster.ActorMember, ID: m.ID}
	err := p.st.Tx(ctx, actor, func(tx store.Tx) error {
		if consented {
			if err := tx.SaveOAuthConsent(ctx, &roster.OAuthConsent{OrgID: m.OrgID, AppID: req.app.ID, UserID: m.ID, Scopes: granted}); err != nil {
				return err
			}
		}
		return tx.CreateOAuthCode(ctx, c)
	})
	if err != nil {
		return err
	}
	p.redirect(w, r, req, url.Values{"code": {code}})
	return nil
}
