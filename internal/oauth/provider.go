package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Default lifetimes (RFC 9700 section 2.2 and 4.14; RFC 6749 section 4.1.2 recommends codes
// of at most ten minutes).
const (
	DefaultCodeTTL         = time.Minute
	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultKeyRotation     = 90 * 24 * time.Hour
	// clockSkew is how much later than an ID token's expiry its key stays published.
	clockSkew = 5 * time.Minute
)

// Prefixes of the generated credentials, so that a leaked one is recognisable (and secret
// scanners can match it).
const (
	ClientIDPrefix     = "roster_client_"
	ClientSecretPrefix = "roster_cs_"
	codePrefix         = "roster_ac_"
	accessPrefix       = "roster_at_"
	refreshPrefix      = "roster_rt_"
)

// Config configures a Provider.
type Config struct {
	Store   store.Store
	Keyring *keyring.Keyring
	// Issuer is the public base URL (--base-url): the iss of every token and the base of
	// every endpoint in discovery.
	Issuer string
	Logger *slog.Logger
	// Limiter throttles failed client authentication; ClientIP tells the source address.
	Limiter  *auth.FailureLimiter
	ClientIP func(*http.Request) string
	// Sessions reads the signed-in member of a browser request at the authorization endpoint
	// (nil: nobody is ever signed in, and every sign-in goes to SSO).
	Sessions *auth.Sessions
	// SSOLogin says where the browser of a member of orgID, who gave email (possibly ""),
	// starts its organization's SSO login; the authorization endpoint appends returnTo, the
	// same-origin path to come back to once signed in. Nil sends everyone to
	// /saml/authorize/{orgId}?email=…, which routes by email domain.
	SSOLogin func(ctx context.Context, orgID, email string) (string, error)
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	CodeTTL, AccessTokenTTL, IDTokenTTL, RefreshTokenTTL, KeyRotation time.Duration
}

// Provider is the OAuth 2.0 authorization server and OpenID provider.
type Provider struct {
	cfg    Config
	st     store.Store
	log    *slog.Logger
	now    func() time.Time
	issuer string
	Keys   *Keys
}

// New returns a Provider; zero lifetimes take the defaults.
func New(c Config) *Provider {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Limiter == nil {
		c.Limiter = auth.NewFailureLimiter(auth.DefaultFailuresPerMinute)
	}
	if c.ClientIP == nil {
		c.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.CodeTTL, DefaultCodeTTL}, {&c.AccessTokenTTL, DefaultAccessTokenTTL}, {&c.IDTokenTTL, DefaultIDTokenTTL},
		{&c.RefreshTokenTTL, DefaultRefreshTokenTTL}, {&c.KeyRotation, DefaultKeyRotation}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	p := &Provider{cfg: c, st: c.Store, log: c.Logger, now: c.Now, issuer: c.Issuer}
	p.Keys = newKeys(c.Store, c.Keyring, c.Now, c.KeyRotation, c.IDTokenTTL+clockSkew)
	return p
}

// Issuer is the provider's issuer identifier.
func (p *Provider) Issuer() string { return p.issuer }

// internal logs an unexpected error once, with the request id, and returns the server_error
// the client sees (which shows only that id).
func (p *Provider) internal(r *http.Request, err error) *Error {
	id := roster.RequestMetaFrom(r.Context()).RequestID
	p.log.Error("internal error", "request_id", id, "route", r.URL.Path, "err", err)
	return oerr(ErrServerError, "internal error (request id %s)", id)
}

// asOAuth turns an error into an OAuth error: an *Error as it is, anything else a logged
// server_error.
func (p *Provider) asOAuth(r *http.Request, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return p.internal(r, err)
}

// client is the result of client authentication.
type client struct {
	app   *roster.OAuthApp
	basic bool
}

// authenticateClient authenticates the client of a token, revocation or introspection
// request (RFC 6749 section 2.3.1): client_secret_basic, client_secret_post, or, for a
// public app, its client_id alone. Using two methods at once is invalid_request; a failure
// is invalid_client, throttled per source address and client id.
func (p *Provider) authenticateClient(r *http.Request) (*client, error) {
	id, secret, basic, err := clientCredentials(r)
	if err != nil {
		return nil, err
	}
	limitKey := p.cfg.ClientIP(r) + "|oauth:" + prefix(id)
	if blocked, wait := p.cfg.Limiter.Blocked(limitKey); blocked {
		e := oerr(ErrInvalidClient, "too many failed client authentications; retry later")
		e.Status, e.retryAfter, e.basic = http.StatusTooManyRequests, int(wait.Seconds())+1, basic
		return nil, e
	}
	fail := func(msg string) error {
		p.cfg.Limiter.Fail(limitKey)
		e := oerr(ErrInvalidClient, "%s", msg)
		e.basic = basic
		return e
	}
	if id == "" {
		return nil, fail("client authentication failed: no client_id")
	}
	app, err := p.st.LookupOAuthClient(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fail("client authentication failed")
	}
	if err != nil {
		return nil, err
	}
	if app.Public {
		if secret != "" {
			return nil, fail("client authentication failed: a public client has no secret")
		}
		return &client{app: app, basic: basic}, nil
	}
	if secret == "" {
		return nil, fail("client authentication failed: this client must authenticate with its secret")
	}
	if !p.secretMatches(app, secret) {
		return nil, fail("client authentication failed")
	}
	return &client{app: app, basic: basic}, nil
}

// secretMatches compares a presented client secret with the app's current secret, and with
// the previous one while its grace period lasts, in constant time.
func (p *Provider) secretMatches(app *roster.OAuthApp, secret string) bool {
	h := auth.Hash(secret)
	ok := auth.Equal(app.SecretHash, h)
	if app.PrevSecretHash != nil && app.PrevSecretExpiresAt != nil && p.now().Before(*app.PrevSecretExpiresAt) {
		ok = auth.Equal(app.PrevSecretHash, h) || ok
	}
	return ok
}

func prefix(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}

// clientCredentials reads the client id and secret from HTTP Basic (each form-urlencoded
// first, RFC 6749 section 2.3.1) or from the form body.
func clientCredentials(r *http.Request) (id, secret string, basic bool, err error) {
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, pw, ok := r.BasicAuth(); ok {
		if formSecret != "" {
			return "", "", true, oerr(ErrInvalidRequest, "the client authenticated twice: use HTTP Basic or client_secret in the body, not both")
		}
		uid, err1 := url.QueryUnescape(u)
		usec, err2 := url.QueryUnescape(pw)
		if err1 != nil || err2 != nil {
			e := oerr(ErrInvalidClient, "malformed HTTP Basic client credentials")
			e.basic = true
			return "", "", true, e
		}
		if formID != "" && subtle.ConstantTimeCompare([]byte(formID), []byte(uid)) != 1 {
			return "", "", true, oerr(ErrInvalidRequest, "client_id in the body differs from the authenticated client")
		}
		return uid, usec, true, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		e := oerr(ErrInvalidClient, "unsupported client authentication: use HTTP Basic or client_secret_post")
		return "", "", false, e
	}
	return formID, formSecret, false, nil
}

// parseForm reads a POST body as application/x-www-form-urlencoded (RFC 6749 section 3.2)
// and refuses parameters given twice (section 3.1).
func parseForm(r *http.Request) error {
	if r.Method != http.MethodPost {
		return oerr(ErrInvalidRequest, "use POST")
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
		return oerr(ErrInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			e := oerr(ErrInvalidRequest, "request body too large")
			e.Status = http.StatusRequestEntityTooLarge
			return e
		}
		return oerr(ErrInvalidRequest, "malformed form body")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return oerr(ErrInvalidRequest, "parameter %s is repeated", k)
		}
	}
	return nil
}

// cors lets a browser of an origin the app allows read the response (public clients calling
// the token, revocation and userinfo endpoints).
func cors(w http.ResponseWriter, r *http.Request, app *roster.OAuthApp) {
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" && app != nil && app.AllowsOrigin(o) {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
}

// Preflight answers a CORS preflight (OPTIONS) for the token, revocation and userinfo
// endpoints. It carries no credentials, so it is allowed for an origin that any app allows;
// the response to the real request is readable only by the origins of the app it is for.
func (p *Provider) Preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	ok := false
	if o != "" {
		var err error
		if ok, err = p.st.OAuthOriginAllowed(r.Context(), o); err != nil {
			writeError(w, p.internal(r, err))
			return
		}
	}
	if ok {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// Discovery serves the OpenID Provider metadata (OpenID Connect Discovery 1.0 section 3;
// RFC 8414).
func (p *Provider) Discovery(w http.ResponseWriter, r *http.Request) {
	b := p.issuer
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                        b,
		"authorization_endpoint":                        b + "/oauth/authorize",
		"token_endpoint":                                b + "/oauth/token",
		"userinfo_endpoint":                             b + "/oauth/userinfo",
		"jwks_uri":                                      b + "/oauth/jwks",
		"revocation_endpoint":                           b + "/oauth/revoke",
		"introspection_endpoint":                        b + "/oauth/introspect",
		"scopes_supported":                              roster.Scopes,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":              []string{"S256"},
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"id_token_signing_alg_values_supported":         Algs,
		"subject_types_supported":                       []string{"public"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp",
			"email", "name", "org_id", "org_role", "projects"},
		"authorization_response_iss_parameter_supported": true,
	})
}

// JWKS serves the published signing keys (RFC 7517).
func (p *Provider) JWKS(w http.ResponseWriter, r *http.Request) {
	b, err := p.Keys.JWKS(r.Context())
	if err != nil {
		writeError(w, p.internal(r, err))
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// Maintain rotates due signing keys and purges expired codes and tokens, at start and every
// interval, until ctx ends. Every replica may run it: rotations collide safely.
func (p *Provider) Maintain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := p.Keys.Ensure(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("rotating OAuth signing keys", "err", err)
		}
		// Expired refresh tokens are kept a day, so that a late reuse is still recognised as one.
		n := p.now()
		if _, err := p.st.PurgeOAuth(ctx, n.Add(-24*time.Hour), n.Add(-p.Keys.publishFor)); err != nil && ctx.Err() == nil {
			p.log.Warn("purging expired OAuth codes and tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
