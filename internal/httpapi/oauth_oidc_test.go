package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/oauth"
	"github.com/rosterhq/roster/internal/outbound"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/sso"
	"github.com/rosterhq/roster/internal/sso/ssotest"
	"github.com/rosterhq/roster/internal/store"
)

// liveOAuthEnv is an oauthEnv whose issuer is the URL it listens on, as an OIDC client
// library requires (discovery's issuer must equal the URL it was fetched from).
func liveOAuthEnv(t *testing.T, st store.Store) *oauthEnv {
	t.Helper()
	var h atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o := &oauthEnv{clock: &clock{}, sessions: auth.NewSessions(st, auth.SessionConfig{BaseURL: srv.URL})}
	e := &env{st: st, svc: auth.NewService(st, auth.Config{}), srv: srv}
	e.a = e.newTenant(t, "Acme")
	e.b = e.newTenant(t, "Umbrella")
	kr := keyringtest.New(t)
	o.provider = oauth.New(oauth.Config{Store: st, Keyring: kr, Issuer: srv.URL, Now: o.clock.now, Sessions: o.sessions,
		SSOLogin: httpapi.SSOLogin(st)})
	// The test identity providers listen on loopback, which production refuses.
	ssoSvc := sso.New(sso.Config{Store: st, Sessions: o.sessions, Keyring: kr, BaseURL: srv.URL,
		Outbound: outbound.New(outbound.Options{AllowPrivate: true})})
	h.Store(httpapi.NewServer(httpapi.Deps{Store: st, Auth: e.svc, BaseURL: srv.URL, Keyring: kr, Sessions: o.sessions, OAuth: o.provider,
		SSO: ssoSvc}))
	o.env = e
	o.ann = o.member(t, o.a.orgID, "ann@acme.example", roster.RoleAdmin)
	return o
}

// TestOIDCClientLibrary drives Roster with github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2, unmodified: discovery, sign-in through a session, consent, code
// exchange with PKCE, ID token verification against the JWKS, userinfo, refresh, and
// revocation; for a confidential RS256 app and a public ES256 one.
func TestOIDCClientLibrary(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			o := liveOAuthEnv(t, b.open(t))
			project := &roster.Project{OrgID: o.a.orgID, Name: "Console"}
			if err := o.st.Tx(t.Context(), cli, func(tx store.Tx) error {
				if err := tx.CreateProject(t.Context(), project); err != nil {
					return err
				}
				return tx.SetProjectRoles(t.Context(), o.a.orgID, []store.ProjectRoleChange{{ProjectID: project.ID,
					Member: &o.ann, Role: roster.RoleViewer, Source: roster.SourceAPI}})
			}); err != nil {
				t.Fatal(err)
			}
			conf := o.createApp(t, `{"name":"Host app","redirectUris":["`+confRedirect+`"],
				"scopes":["openid","profile","email","offline_access","org.read","projects.read"]}`, confRedirect)
			pub := o.createApp(t, `{"name":"SPA","public":true,"redirectUris":["`+pubRedirect+`"],
				"scopes":["openid","email","offline_access"],"idTokenSigningAlg":"ES256"}`, pubRedirect)
			browser := o.signInAs(t, o.ann)

			ctx := oidc.ClientContext(t.Context(), o.srv.Client())
			provider, err := oidc.NewProvider(ctx, o.srv.URL)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			for _, c := range []struct {
				name   string
				client oauthClient
				scopes []string
				alg    string
			}{
				{"confidential RS256", conf, []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "org.read", "projects.read"}, "RS256"},
				{"public ES256", pub, []string{oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess}, "ES256"},
			} {
				t.Run(c.name, func(t *testing.T) {
					cfg := oauth2.Config{ClientID: c.client.clientID, ClientSecret: c.client.secret, Endpoint: provider.Endpoint(),
						RedirectURL: c.client.redirect, Scopes: c.scopes}
					verifier := oauth2.GenerateVerifier()
					nonce := "nonce-" + c.alg
					authURL := cfg.AuthCodeURL("st-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
					u, _ := url.Parse(authURL)

					res, page := browser.send(t, "GET", u.RequestURI(), nil)
					if res.StatusCode != 200 {
						t.Fatalf("authorization request answered %d:\n%s", res.StatusCode, page)
					}
					form := consentForm(t, page)
					form.Set("decision", "allow")
					res, _ = browser.send(t, "POST", "/oauth/authorize", form, "Origin", o.srv.URL)
					loc, _ := url.Parse(res.Header.Get("Location"))
					q := loc.Query()
					if q.Get("state") != "st-123" || q.Get("iss") != o.srv.URL {
						t.Errorf("callback state %q, iss %q", q.Get("state"), q.Get("iss"))
					}

					tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
					if err != nil {
						t.Fatalf("code exchange: %v", err)
					}
					raw, _ := tok.Extra("id_token").(string)
					idt, err := provider.Verifier(&oidc.Config{ClientID: c.client.clientID}).Verify(ctx, raw)
					if err != nil {
						t.Fatalf("ID token verification: %v", err)
					}
					var claims struct {
						Email    string            `json:"email"`
						OrgID    string            `json:"org_id"`
						OrgRole  string            `json:"org_role"`
						Projects map[string]string `json:"projects"`
					}
					if err := idt.Claims(&claims); err != nil {
						t.Fatal(err)
					}
					if idt.Nonce != nonce || idt.Subject != o.ann.ID || claims.Email != o.ann.Email || claims.OrgID != o.a.orgID || claims.OrgRole != "ADMIN" {
						t.Errorf("ID token: nonce %q sub %q claims %+v", idt.Nonce, idt.Subject, claims)
					}
					if alg := jwsAlg(t, raw); alg != c.alg {
						t.Errorf("ID token signed with %s, want %s", alg, c.alg)
					}
					if hasProjects := claims.Projects[project.ID] == "VIEWER"; hasProjects != (c.alg == "RS256") {
						t.Errorf("projects claim %v with scopes %v", claims.Projects, c.scopes)
					}

					info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
					if err != nil || info.Subject != o.ann.ID || info.Email != o.ann.Email {
						t.Fatalf("userinfo: %+v, %v", info, err)
					}

					// Refresh: the library refreshes an expired token by itself.
					old := *tok
					tok.Expiry = time.Now().Add(-time.Minute)
					fresh, err := cfg.TokenSource(ctx, tok).Token()
					if err != nil {
						t.Fatalf("refresh: %v", err)
					}
					if fresh.AccessToken == old.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == old.RefreshToken {
						t.Errorf("refresh did not rotate the tokens")
					}
					if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err != nil {
						t.Errorf("userinfo with the refreshed token: %v", err)
					}

					// Revocation (RFC 7009) of the refresh token ends the whole grant.
					v := url.Values{"token": {fresh.RefreshToken}, "token_type_hint": {"refresh_token"}}
					if c.client.secret == "" {
						v.Set("client_id", c.client.clientID)
					}
					res, _ = o.form(t, "/oauth/revoke", v, map[bool]string{true: c.client.clientID}[c.client.secret != ""], c.client.secret)
					if res.StatusCode != 200 {
						t.Fatalf("revocation answered %d", res.StatusCode)
					}
					if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err == nil {
						t.Errorf("userinfo still answers after the grant was revoked")
					}
					fresh.Expiry = time.Now().Add(-time.Minute)
					if _, err := cfg.TokenSource(ctx, fresh).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
						t.Errorf("refresh after revocation: %v, want invalid_grant", err)
					}
				})
			}
		})
	}
}

// jwsHeader reads the protected header of a compact JWS: its alg and kid.
func jwsHeader(t *testing.T, raw string) (alg, kid string) {
	t.Helper()
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64URL(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := jsonUnmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg, h.Kid
}

// jwsAlg is the alg of a compact JWS.
func jwsAlg(t *testing.T, raw string) string {
	t.Helper()
	alg, _ := jwsHeader(t, raw)
	return alg
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestAuthorizeSignsInThroughTheOrganizationsSSO follows a browser that is not signed in
// from the authorization request to the organization's OIDC connection, through the identity
// provider and Roster's SSO callback, back to the authorization request by returnTo, and on
// to consent and a code that the app exchanges.
func TestAuthorizeSignsInThroughTheOrganizationsSSO(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			o := liveOAuthEnv(t, b.open(t))
			idp := ssotest.NewOIDCProvider(t)
			idp.SetEmail(o.ann.Email)
			body := `{"name":"Okta","issuer":"` + idp.Issuer() + `","clientId":"` + idp.ClientID + `","clientSecret":"` + idp.ClientSecret + `"}`
			o.json(t, http.StatusCreated, "POST", "/oidc/connections", basicAuth(o.a.pk, o.a.sk), body)
			app := o.createApp(t, `{"name":"Host app","redirectUris":["`+confRedirect+`"],"scopes":["openid","email"]}`, confRedirect)

			jar, _ := cookiejar.New(nil)
			var visited []string
			browser := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
				visited = append(visited, r.URL.Path)
				if r.URL.Host == "app.example" {
					return http.ErrUseLastResponse
				}
				return nil
			}}
			p := newPKCE()
			res, err := browser.Get(o.srv.URL + authzQuery(app, "openid email", p.challenge, "login_hint", o.ann.Email))
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := []string{"/oidc/authorize/" + o.a.orgID, "/authorize", "/oidc/callback", "/oauth/authorize"}
			if diff := cmp.Diff(want, visited); diff != "" {
				t.Fatalf("the browser's way (-want +got):\n%s", diff)
			}
			if res.StatusCode != 200 || !strings.Contains(string(page), "wants to access your Acme account") {
				t.Fatalf("back from SSO: %d\n%s", res.StatusCode, page)
			}
			form := consentForm(t, string(page))
			form.Set("decision", "allow")
			req, _ := http.NewRequest("POST", o.srv.URL+"/oauth/authorize", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", o.srv.URL)
			res, err = browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			q := o.redirectedTo(t, res, app)
			res, tok := o.exchange(t, app, q.Get("code"), confRedirect, p.verifier)
			if res.StatusCode != 200 || tok["id_token"] == nil {
				t.Errorf("exchange after SSO sign-in: %d %v", res.StatusCode, tok)
			}
		})
	}
}
