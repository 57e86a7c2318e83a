package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// tokenResponse is the successful token response (RFC 6749 section 5.1; OpenID Connect Core
// section 3.1.3.3).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
	// idClaims are the claims of the ID token to sign once the tokens are stored.
	idClaims map[string]any
}

// Token is the token endpoint (RFC 6749 section 3.2): the authorization_code and
// refresh_token grants.
func (p *Provider) Token(w http.ResponseWriter, r *http.Request) {
	res, app, err := p.token(r)
	cors(w, r, app)
	if err != nil {
		writeError(w, p.asOAuth(r, err))
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, res)
}

func (p *Provider) token(r *http.Request) (*tokenResponse, *roster.OAuthApp, error) {
	if err := parseForm(r); err != nil {
		return nil, nil, err
	}
	c, err := p.authenticateClient(r)
	if err != nil {
		return nil, nil, err
	}
	if err := p.Keys.Ready(r.Context()); err != nil {
		return nil, c.app, err
	}
	var res *tokenResponse
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		res, err = p.exchangeCode(r, c.app)
	case "refresh_token":
		res, err = p.refresh(r, c.app)
	case "":
		err = oerr(ErrInvalidRequest, "grant_type is required")
	default:
		err = oerr(ErrUnsupportedGrantType, "grant_type %q is not supported: use authorization_code or refresh_token", gt)
	}
	if err == nil {
		err = p.signID(r.Context(), c.app, res)
	}
	return res, c.app, err
}

// hashOf is the at-rest form of a code or token.
func hashOf(v string) []byte { return auth.Hash(v) }

// s256 is the PKCE S256 transformation (RFC 7636 section 4.2).
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// validVerifier checks a code_verifier's form (RFC 7636 section 4.1): 43 to 128 characters
// of [A-Z a-z 0-9 - . _ ~].
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// outcome carries a grant's OAuth error out of a transaction that must still commit (a
// reuse revokes tokens, and the revocation must stick).
type outcome struct{ err error }

// exchangeCode is the authorization_code grant (RFC 6749 section 4.1.3, RFC 7636 section
// 4.6). The code is spent once the client it was issued to presents it, whatever follows;
// presented again, it revokes every token issued from it (RFC 6749 section 4.1.2).
func (p *Provider) exchangeCode(r *http.Request, app *roster.OAuthApp) (*tokenResponse, error) {
	ctx := r.Context()
	code, redirectURI, verifier := r.PostForm.Get("code"), r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier")
	if code == "" {
		return nil, oerr(ErrInvalidRequest, "code is required")
	}
	invalid := oerr(ErrInvalidGrant, "the authorization code is invalid, expired or was issued to another client")
	// The code and its member are read first, on a reader, and so are the member's claims:
	// the transaction then holds only the code's spending and the inserts (on SQLite every
	// write transaction runs in turn on one writer). A suspension committed in between drops
	// the code, which the transaction then no longer finds.
	pre, m, err := p.st.LookupOAuthCode(ctx, hashOf(code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	if pre.AppID != app.ID || pre.OrgID != app.OrgID {
		return nil, invalid // the code stays usable by the client it was issued to
	}
	var scopes []string
	var claims map[string]any
	if pre.UsedAt == nil && m.Status == roster.MemberActive {
		// The role may have changed since consent: grant no more than it allows now.
		scopes = roster.TrimScopes(pre.Scopes, roster.EffectiveOrgRole(m.Status, m.Role))
		if claims, err = p.idClaims(ctx, p.st, app, m, scopes, pre.AuthTime, pre.Nonce); err != nil {
			return nil, err
		}
	}
	var res *tokenResponse
	var out outcome
	errWrongClient := errors.New("code of another client")
	err = p.st.Tx(ctx, roster.SystemActor("oauth"), func(tx store.Tx) error {
		res, out = nil, outcome{}
		c, err := tx.ConsumeOAuthCode(ctx, hashOf(code))
		if errors.Is(err, store.ErrNotFound) {
			out.err = invalid
			return nil
		}
		if err != nil {
			return err
		}
		if c.ID != pre.ID {
			// Rolled back: not the code read above (only a collision of two codes' hashes
			// could do it); the code stays as it was.
			return errWrongClient
		}
		if c.UsedAt != nil {
			if _, err := tx.RevokeOAuthFamily(ctx, c.OrgID, c.ID, "authorization_code_reuse"); err != nil {
				return err
			}
			out.err = oerr(ErrInvalidGrant, "the authorization code was already used; the tokens issued from it are revoked")
			return nil
		}
		switch {
		case !p.now().Before(c.ExpiresAt):
			out.err = oerr(ErrInvalidGrant, "the authorization code has expired")
		case redirectURI != c.RedirectURI:
			// RFC 6749 section 4.1.3: required, and identical, when the request had one; ours
			// always do.
			out.err = oerr(ErrInvalidGrant, "redirect_uri does not match the authorization request")
		case c.CodeChallenge != "" && verifier == "":
			out.err = oerr(ErrInvalidGrant, "code_verifier is required: the authorization request had a code_challenge")
		case c.CodeChallenge == "" && verifier != "":
			// RFC 9700 section 2.1.1: a verifier without a challenge is a downgrade attempt.
			out.err = oerr(ErrInvalidGrant, "code_verifier sent, but the authorization request had no code_challenge")
		case c.CodeChallenge != "" && (!validVerifier(verifier) || !constantEqual(s256(verifier), c.CodeChallenge)):
			out.err = oerr(ErrInvalidGrant, "code_verifier does not match the code_challenge")
		}
		if out.err != nil {
			return nil
		}
		if _, err := activeMember(m, nil); err != nil {
			out.err = err
			return nil
		}
		res, err = p.store(ctx, tx, app, m, grant{family: c.ID, scopes: scopes, authTime: c.AuthTime})
		return err
	})
	if res != nil {
		res.idClaims = claims
	}
	if errors.Is(err, errWrongClient) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	if out.err != nil {
		return nil, out.err
	}
	return res, nil
}

// refresh is the refresh_token grant (RFC 6749 section 6) with rotation: each refresh token
// is exchanged once for a new pair of the same family. Presented again, it revokes the whole
// family (RFC 9700 section 4.14.2): either the client or an attacker holds a stolen copy.
func (p *Provider) refresh(r *http.Request, app *roster.OAuthApp) (*tokenResponse, error) {
	ctx := r.Context()
	value := r.PostForm.Get("refresh_token")
	if value == "" {
		return nil, oerr(ErrInvalidRequest, "refresh_token is required")
	}
	invalid := oerr(ErrInvalidGrant, "the refresh token is invalid, expired, revoked or was issued to another client")
	tok, m, err := p.st.LookupOAuthToken(ctx, hashOf(value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	if tok.Kind != roster.RefreshToken || tok.AppID != app.ID || tok.OrgID != app.OrgID {
		return nil, invalid
	}
	if tok.RevokedAt != nil || !p.now().Before(tok.ExpiresAt) {
		return nil, invalid
	}
	scopes := tok.Scopes
	if s := r.PostForm.Get("scope"); s != "" {
		asked := roster.ParseScope(s)
		for _, sc := range asked {
			if !slices.Contains(tok.Scopes, sc) {
				return nil, oerr(ErrInvalidScope, "scope %q was not granted to this refresh token", sc)
			}
		}
		scopes = asked
	}
	// The member (read with the token) and its claims are read before the transaction, which
	// then holds only the rotation's compare-and-swap and the inserts (on SQLite every write
	// transaction runs in turn on one writer). A suspension committed in between revokes the
	// token being used, so the compare-and-swap fails and the grant is refused.
	m, err = activeMember(m, nil)
	if err != nil {
		return nil, err
	}
	granted := roster.TrimScopes(scopes, roster.EffectiveOrgRole(m.Status, m.Role))
	claims, err := p.idClaims(ctx, p.st, app, m, granted, tok.AuthTime, "")
	if err != nil {
		return nil, err
	}
	var res *tokenResponse
	var out outcome
	err = p.st.Tx(ctx, roster.SystemActor("oauth"), func(tx store.Tx) error {
		res, out = nil, outcome{}
		ok, err := tx.UseOAuthToken(ctx, tok.OrgID, tok.ID)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := tx.RevokeOAuthFamily(ctx, tok.OrgID, tok.FamilyID, "refresh_token_reuse"); err != nil {
				return err
			}
			out.err = oerr(ErrInvalidGrant, "the refresh token was already used; every token of its grant is revoked")
			return nil
		}
		res, err = p.store(ctx, tx, app, m, grant{family: tok.FamilyID, scopes: granted, authTime: tok.AuthTime})
		return err
	})
	if res != nil {
		res.idClaims = claims
	}
	if err != nil {
		return nil, err
	}
	if out.err != nil {
		return nil, out.err
	}
	return res, nil
}

func constantEqual(a, b string) bool {
	return len(a) == len(b) && auth.Equal(hashOf(a), hashOf(b))
}

// activeMember takes the member a grant is for, as read, and refuses one that is suspended or
// deleted (checked at every use, besides the revocation that suspension does).
func activeMember(m *roster.Member, err error) (*roster.Member, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr(ErrInvalidGrant, "the member of this grant no longer exists")
	}
	if err != nil {
		return nil, err
	}
	if m.Status != roster.MemberActive {
		return nil, oerr(ErrInvalidGrant, "the member of this grant is %s", m.Status)
	}
	return m, nil
}

// grant is what a set of tokens is issued for.
type grant struct {
	family   string
	scopes   []string
	authTime time.Time
}

// store makes an access token, and a refresh token when offline_access was granted, and
// stores them.
func (p *Provider) store(ctx context.Context, tx store.Tx, app *roster.OAuthApp, m *roster.Member, g grant) (*tokenResponse, error) {
	n := p.now()
	access := auth.NewSecret(accessPrefix)
	toks := []*roster.OAuthToken{{OrgID: app.OrgID, AppID: app.ID, UserID: m.ID, Kind: roster.AccessToken, Hash: hashOf(access),
		FamilyID: g.family, Scopes: g.scopes, AuthTime: g.authTime, ExpiresAt: n.Add(p.cfg.AccessTokenTTL)}}
	res := &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(p.cfg.AccessTokenTTL / time.Second),
		Scope: strings.Join(g.scopes, " ")}
	if slices.Contains(g.scopes, roster.ScopeOfflineAccess) {
		res.RefreshToken = auth.NewSecret(refreshPrefix)
		toks = append(toks, &roster.OAuthToken{OrgID: app.OrgID, AppID: app.ID, UserID: m.ID, Kind: roster.RefreshToken,
			Hash: hashOf(res.RefreshToken), FamilyID: g.family, Scopes: g.scopes, AuthTime: g.authTime, ExpiresAt: n.Add(p.cfg.RefreshTokenTTL)})
	}
	if err := tx.CreateOAuthTokens(ctx, toks...); err != nil {
		return nil, err
	}
	return res, nil
}

// idClaims are the claims of the ID token of a grant that has openid (nil without it).
func (p *Provider) idClaims(ctx context.Context, r store.Reader, app *roster.OAuthApp, m *roster.Member, scopes []string, authTime time.Time, nonce string) (map[string]any, error) {
	if !slices.Contains(scopes, roster.ScopeOpenID) {
		return nil, nil
	}
	claims, err := p.claims(ctx, r, m, scopes)
	if err != nil {
		return nil, err
	}
	n := p.now()
	claims["iss"], claims["aud"], claims["azp"] = p.issuer, app.ClientID, app.ClientID
	claims["iat"], claims["exp"] = n.Unix(), n.Add(p.cfg.IDTokenTTL).Unix()
	claims["auth_time"] = authTime.Unix()
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return claims, nil
}

// signID signs the ID token of res, after its transaction has committed: signing (about a
// millisecond for RS256) inside it would hold the SQLite writer, which commits the
// transactions of every request in turn.
func (p *Provider) signID(ctx context.Context, app *roster.OAuthApp, res *tokenResponse) error {
	if res == nil || res.idClaims == nil {
		return nil
	}
	alg := app.IDTokenAlg
	if alg == "" {
		alg = roster.AlgRS256
	}
	var err error
	res.IDToken, err = p.Keys.Sign(ctx, alg, res.idClaims)
	return err
}

// claims are the member's claims that scopes allow, for ID tokens and userinfo (OpenID
// Connect Core section 5.4; DESIGN.md section 5a): sub, org_id and org_role always, email
// with email, name with profile, projects with projects.read.
func (p *Provider) claims(ctx context.Context, r store.Reader, m *roster.Member, scopes []string) (map[string]any, error) {
	c := map[string]any{
		"sub":      m.ID,
		"org_id":   m.OrgID,
		"org_role": string(roster.EffectiveOrgRole(m.Status, m.Role)),
	}
	if slices.Contains(scopes, roster.ScopeEmail) {
		c["email"] = m.Email
	}
	if slices.Contains(scopes, roster.ScopeProfile) {
		c["name"] = m.Name
	}
	if slices.Contains(scopes, roster.ScopeProjectsRead) {
		pms, err := r.MemberProjects(ctx, m.OrgID, m.ID)
		if err != nil {
			return nil, err
		}
		projects := map[string]string{}
		for _, pm := range pms {
			role, _ := roster.EffectiveProjectRole(m.Status, m.Role, pm.Role, true)
			projects[pm.ProjectID] = string(role)
		}
		c["projects"] = projects
	}
	return c, nil
}

func unixTime(s int64) time.Time { return time.Unix(s, 0).UTC() }
