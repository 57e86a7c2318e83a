package oauth

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// bearer reads an access token from the Authorization header (RFC 6750 section 2.1) or,
// for a form POST, the access_token parameter (section 2.2); not both.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
			return "", &Error{Code: ErrInvalidRequest, Description: "use Authorization: Bearer <access token>", Status: http.StatusBadRequest, bearer: true}
		}
		return strings.TrimSpace(tok), nil
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			if v := r.PostForm.Get("access_token"); v != "" {
				return v, nil
			}
		}
	}
	// RFC 6750 section 3.1: a request without credentials gets the bare challenge.
	return "", &Error{Status: http.StatusUnauthorized, bearer: true, Description: "an access token is required"}
}

// UserInfo is the OpenID Connect UserInfo endpoint (Core section 5.3): the claims of the
// member the access token is for, as its scopes allow. It answers a live token of an active
// member that holds openid or user.read.
func (p *Provider) UserInfo(w http.ResponseWriter, r *http.Request) {
	claims, app, err := p.userInfo(r)
	cors(w, r, app)
	if err != nil {
		e := p.asOAuth(r, err)
		if e.Code == ErrInvalidToken || e.Code == ErrInsufficientScope || e.Status == http.StatusUnauthorized {
			e.bearer = true
		}
		writeError(w, e)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, claims)
}

func (p *Provider) userInfo(r *http.Request) (map[string]any, *roster.OAuthApp, error) {
	ctx := r.Context()
	value, err := bearer(r)
	if err != nil {
		return nil, nil, err
	}
	invalid := &Error{Code: ErrInvalidToken, Description: "the access token is invalid, expired or revoked", Status: http.StatusUnauthorized}
	tok, m, err := p.st.LookupOAuthToken(ctx, hashOf(value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, err
	}
	// The app is read only for CORS: a deleted app's tokens are deleted with it.
	var app *roster.OAuthApp
	if r.Header.Get("Origin") != "" {
		if app, err = p.st.GetOAuthApp(ctx, tok.OrgID, tok.AppID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
	}
	if tok.Kind != roster.AccessToken || !tok.Active(p.now()) {
		return nil, app, invalid
	}
	if !slices.Contains(tok.Scopes, roster.ScopeOpenID) && !slices.Contains(tok.Scopes, roster.ScopeUserRead) {
		return nil, app, &Error{Code: ErrInsufficientScope, Description: "userinfo needs the openid or user.read scope", Status: http.StatusForbidden}
	}
	if m.Status != roster.MemberActive {
		return nil, app, invalid
	}
	claims, err := p.claims(ctx, p.st, m, tok.Scopes)
	return claims, app, err
}

// Revoke is the revocation endpoint (RFC 7009). The client authenticates; a token that is
// unknown, already revoked, or another client's answers 200 like a revoked one (section 2.2),
// so the endpoint tells nobody whether a token exists. Revoking a refresh token revokes
// every token of its grant (section 2.1).
func (p *Provider) Revoke(w http.ResponseWriter, r *http.Request) {
	app, err := p.revoke(r)
	cors(w, r, app)
	if err != nil {
		writeError(w, p.asOAuth(r, err))
		return
	}
	noStore(w)
	w.WriteHeader(http.StatusOK)
}

func (p *Provider) revoke(r *http.Request) (*roster.OAuthApp, error) {
	ctx := r.Context()
	if err := parseForm(r); err != nil {
		return nil, err
	}
	c, err := p.authenticateClient(r)
	if err != nil {
		return nil, err
	}
	value := r.PostForm.Get("token")
	if value == "" {
		return c.app, oerr(ErrInvalidRequest, "token is required")
	}
	switch h := r.PostForm.Get("token_type_hint"); h {
	case "", "access_token", "refresh_token":
	default:
		return c.app, oerr(ErrUnsupportedTokenType, "token_type_hint %q is not supported", h)
	}
	tok, _, err := p.st.LookupOAuthToken(ctx, hashOf(value))
	if errors.Is(err, store.ErrNotFound) {
		return c.app, nil
	}
	if err != nil {
		return c.app, err
	}
	if tok.AppID != c.app.ID || tok.OrgID != c.app.OrgID || tok.RevokedAt != nil {
		return c.app, nil
	}
	err = p.st.Tx(ctx, roster.SystemActor("oauth"), func(tx store.Tx) error {
		if tok.Kind == roster.RefreshToken {
			_, err := tx.RevokeOAuthFamily(ctx, tok.OrgID, tok.FamilyID, "revoked_by_client")
			return err
		}
		return tx.RevokeOAuthToken(ctx, tok.OrgID, tok.ID)
	})
	return c.app, err
}

// Introspect is the introspection endpoint (RFC 7662) for the host app's resource servers.
// Only the app that holds a token may introspect it: for any other client, and for a token
// that is expired, revoked, used up or whose member is no longer active, the answer is
// {"active": false}.
func (p *Provider) Introspect(w http.ResponseWriter, r *http.Request) {
	res, err := p.introspect(r)
	if err != nil {
		writeError(w, p.asOAuth(r, err))
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, res)
}

func (p *Provider) introspect(r *http.Request) (map[string]any, error) {
	ctx := r.Context()
	if err := parseForm(r); err != nil {
		return nil, err
	}
	c, err := p.authenticateClient(r)
	if err != nil {
		return nil, err
	}
	if c.app.Public {
		e := oerr(ErrInvalidClient, "a public client cannot introspect tokens")
		e.basic = c.basic
		return nil, e
	}
	value := r.PostForm.Get("token")
	if value == "" {
		return nil, oerr(ErrInvalidRequest, "token is required")
	}
	inactive := map[string]any{"active": false}
	tok, m, err := p.st.LookupOAuthToken(ctx, hashOf(value))
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, err
	}
	if tok.AppID != c.app.ID || tok.OrgID != c.app.OrgID || !tok.Active(p.now()) || (tok.Kind == roster.RefreshToken && tok.UsedAt != nil) {
		return inactive, nil
	}
	if m.Status != roster.MemberActive {
		return inactive, nil
	}
	res := map[string]any{
		"active":     true,
		"scope":      strings.Join(tok.Scopes, " "),
		"client_id":  c.app.ClientID,
		"sub":        tok.UserID,
		"aud":        c.app.ClientID,
		"iss":        p.issuer,
		"exp":        tok.ExpiresAt.Unix(),
		"iat":        tok.CreatedAt.Unix(),
		"token_type": "Bearer",
		"org_id":     tok.OrgID,
		"org_role":   string(roster.EffectiveOrgRole(m.Status, m.Role)),
	}
	if tok.Kind == roster.RefreshToken {
		res["token_type"] = "refresh_token"
	}
	if slices.Contains(tok.Scopes, roster.ScopeEmail) {
		res["username"] = m.Email
	}
	return res, nil
}
