package httpapi_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// browser is a member's browser: its session cookie, no redirects followed.
type browser struct {
	o      *oauthEnv
	cookie *http.Cookie
}

// signInAs starts a session for m through the server's own auth.Sessions, as an SSO login
// does when it succeeds.
func (o *oauthEnv) signInAs(t testing.TB, m roster.Member) *browser {
	t.Helper()
	w := httptest.NewRecorder()
	if _, err := o.sessions.Start(w, httptest.NewRequest("POST", "/saml/callback", nil), &m, roster.SessionSAML, ""); err != nil {
		t.Fatalf("starting a session: %v", err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			return &browser{o: o, cookie: c}
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// get and post send a browser request (hdr: header pairs) and return the response and body.
func (b *browser) send(t testing.TB, method, path string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.o.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b != nil && b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm reads the hidden fields of a consent page.
func consentForm(t testing.TB, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if len(v) == 0 {
		t.Fatalf("no consent form in the page:\n%s", page)
	}
	return v
}

// authzQuery is an authorization request of client c.
func authzQuery(c oauthClient, scope, challenge string, extra ...string) string {
	v := url.Values{"response_type": {"code"}, "client_id": {c.clientID}, "redirect_uri": {c.redirect}, "scope": {scope},
		"state": {"st-123"}}
	if challenge != "" {
		v.Set("code_challenge", challenge)
		v.Set("code_challenge_method", "S256")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "/oauth/authorize?" + v.Encode()
}

// redirectedTo parses the Location of a redirect to the client and checks state and iss.
func (o *oauthEnv) redirectedTo(t testing.TB, res *http.Response, c oauthClient) url.Values {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Fatalf("answered %d, want a redirect to the client", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), c.redirect+"?") {
		t.Fatalf("redirected to %q, want %s", res.Header.Get("Location"), c.redirect)
	}
	q := loc.Query()
	if q.Get("state") != "st-123" || q.Get("iss") != o.provider.Issuer() {
		t.Errorf("redirect carries state %q and iss %q, want st-123 and %s", q.Get("state"), q.Get("iss"), o.provider.Issuer())
	}
	return q
}

func TestAuthorizeRefusesUntrustedClientsAndRedirectURIsWithoutRedirecting(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		b := o.signInAs(t, o.ann)
		p := newPKCE()
		for _, c := range []struct{ name, path string }{
			{"an unknown client", strings.Replace(authzQuery(o.conf, "openid", p.challenge), o.conf.clientID, "roster_client_unknown", 1)},
			{"a redirect URI that is not registered (attack)", authzQuery(o.conf, "openid", p.challenge, "redirect_uri", "https://evil.example/callback")},
			{"a redirect URI that only shares a prefix (attack)", authzQuery(o.conf, "openid", p.challenge, "redirect_uri", confRedirect+"/../evil")},
			{"a redirect URI with another case (attack)", authzQuery(o.conf, "openid", p.challenge, "redirect_uri", strings.ToUpper(confRedirect))},
			{"no client_id", "/oauth/authorize?response_type=code"},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, page := b.send(t, "GET", c.path, nil)
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
					t.Fatalf("answered %d (Location %q), want 400 without a redirect", res.StatusCode, res.Header.Get("Location"))
				}
				if !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "cannot continue") {
					t.Errorf("error page %q", page)
				}
			})
		}
	})
}

func TestAuthorizeErrorsGoBackToTheClient(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		b := o.signInAs(t, o.ann)
		p := newPKCE()
		plain := url.Values{"response_type": {"code"}, "client_id": {o.pub.clientID}, "redirect_uri": {pubRedirect}, "scope": {"openid"},
			"state": {"st-123"}, "code_challenge": {p.verifier}, "code_challenge_method": {"plain"}}
		for _, c := range []struct {
			name, path, code string
			client           oauthClient
		}{
			{"PKCE plain is refused (downgrade)", "/oauth/authorize?" + plain.Encode(), "invalid_request", o.pub},
			{"a public client without PKCE is refused", authzQuery(o.pub, "openid", ""), "invalid_request", o.pub},
			{"a confidential client that requires PKCE without it is refused", authzQuery(o.conf, "openid", ""), "invalid_request", o.conf},
			{"a scope the client may not ask for is invalid_scope (escalation)", authzQuery(o.pub, "openid org.read", p.challenge), "invalid_scope", o.pub},
			{"an unknown scope is invalid_scope", authzQuery(o.conf, "openid admin", p.challenge), "invalid_scope", o.conf},
			{"no scope is invalid_scope", authzQuery(o.conf, "", p.challenge), "invalid_scope", o.conf},
			{"the implicit flow is unsupported_response_type", authzQuery(o.conf, "openid", p.challenge, "response_type", "token"), "unsupported_response_type", o.conf},
			{"a malformed challenge is invalid_request", authzQuery(o.conf, "openid", "short"), "invalid_request", o.conf},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, _ := b.send(t, "GET", c.path, nil)
				q := o.redirectedTo(t, res, c.client)
				if q.Get("error") != c.code || q.Get("code") != "" {
					t.Errorf("redirect query %v, want error %s and no code", q, c.code)
				}
			})
		}
	})
}

func TestAuthorizeSendsTheBrowserToSSOWhenNotSignedIn(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		anon := &browser{o: o}
		p := newPKCE()
		path := authzQuery(o.conf, "openid email", p.challenge, "login_hint", "ann@acme.example")
		res, _ := anon.send(t, "GET", path, nil)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || loc == nil || loc.Path != "/saml/authorize/"+o.a.orgID {
			t.Fatalf("answered %d to %q, want 302 to the organization's SSO login", res.StatusCode, res.Header.Get("Location"))
		}
		if loc.Query().Get("email") != "ann@acme.example" {
			t.Errorf("SSO login without the email to route by: %s", loc)
		}
		back, err := url.Parse(loc.Query().Get("returnTo"))
		if err != nil || back.Path != "/oauth/authorize" || back.Host != "" || back.Query().Get("client_id") != o.conf.clientID ||
			back.Query().Get("code_challenge") != p.challenge || back.Query().Get("state") != "st-123" {
			t.Fatalf("returnTo %q: want this same-origin authorization request", loc.Query().Get("returnTo"))
		}
		// Signed in by SSO, the browser comes back to returnTo and reaches consent.
		b := o.signInAs(t, o.ann)
		res, page := b.send(t, "GET", back.String(), nil)
		if res.StatusCode != 200 || !strings.Contains(page, "wants to access your Acme account") {
			t.Errorf("back from SSO: %d\n%s", res.StatusCode, page)
		}

		t.Run("without an email it asks for one first", func(t *testing.T) {
			res, page := anon.send(t, "GET", authzQuery(o.conf, "openid", p.challenge), nil)
			if res.StatusCode != 200 || !strings.Contains(page, `name="login_hint"`) || !strings.Contains(page, "Sign in to Acme") {
				t.Errorf("answered %d:\n%s", res.StatusCode, page)
			}
		})
		t.Run("prompt=none is login_required", func(t *testing.T) {
			res, _ := anon.send(t, "GET", authzQuery(o.conf, "openid", p.challenge, "prompt", "none"), nil)
			if q := o.redirectedTo(t, res, o.conf); q.Get("error") != "login_required" {
				t.Errorf("redirect query %v, want login_required", q)
			}
		})
		t.Run("a member of another organization is sent to this one's SSO", func(t *testing.T) {
			stranger := o.member(t, o.b.orgID, "eve@umbrella.example", roster.RoleOwner)
			res, _ := o.signInAs(t, stranger).send(t, "GET", path, nil)
			if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "/saml/authorize/"+o.a.orgID) {
				t.Errorf("answered %d to %q, want the SSO login of the app's organization", res.StatusCode, res.Header.Get("Location"))
			}
		})
	})
}

func TestConsentTrimsScopesByRoleAndReturnsTheGrantedSet(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		none := o.member(t, o.a.orgID, "nobody@acme.example", roster.RoleNone)
		b := o.signInAs(t, none)
		p := newPKCE()
		res, page := b.send(t, "GET", authzQuery(o.conf, "openid email org.read projects.read", p.challenge), nil)
		if res.StatusCode != 200 || !strings.Contains(page, "Not granted, because your role does not allow it: org.read, projects.read") {
			t.Fatalf("consent page %d:\n%s", res.StatusCode, page)
		}
		if res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("consent page may be framed: X-Frame-Options %q", res.Header.Get("X-Frame-Options"))
		}
		form := consentForm(t, page)
		form.Set("decision", "allow")
		res, _ = b.send(t, "POST", "/oauth/authorize", form, "Origin", o.srv.URL)
		code := o.redirectedTo(t, res, o.conf).Get("code")
		res, tok := o.exchange(t, o.conf, code, confRedirect, p.verifier)
		if res.StatusCode != 200 || tok["scope"] != "openid email" {
			t.Errorf("token response %d %v, want scope \"openid email\"", res.StatusCode, tok)
		}
		recs, _, _ := o.st.ListAudit(t.Context(), o.a.orgID, auditFilter("oauth.consent_granted"))
		if len(recs) != 1 || recs[0].Actor.Type != roster.ActorMember || recs[0].Actor.ID != none.ID {
			t.Errorf("consent audit %+v, want one record by the member", recs)
		}

		t.Run("asking only for scopes the role cannot have is invalid_scope", func(t *testing.T) {
			res, _ := b.send(t, "GET", authzQuery(o.conf, "org.read projects.read", p.challenge), nil)
			if q := o.redirectedTo(t, res, o.conf); q.Get("error") != "invalid_scope" || q.Get("code") != "" {
				t.Errorf("redirect query %v, want invalid_scope", q)
			}
		})
		t.Run("a remembered consent skips the screen", func(t *testing.T) {
			res, _ := b.send(t, "GET", authzQuery(o.conf, "openid email", p.challenge), nil)
			if q := o.redirectedTo(t, res, o.conf); q.Get("code") == "" {
				t.Errorf("no code without consent screen: %v", q)
			}
		})
		t.Run("prompt=consent shows it again", func(t *testing.T) {
			res, page := b.send(t, "GET", authzQuery(o.conf, "openid email", p.challenge, "prompt", "consent"), nil)
			if res.StatusCode != 200 || !strings.Contains(page, "Allow") {
				t.Errorf("answered %d", res.StatusCode)
			}
		})
		t.Run("denying is access_denied", func(t *testing.T) {
			form.Set("decision", "deny")
			res, _ := b.send(t, "POST", "/oauth/authorize", form, "Origin", o.srv.URL)
			if q := o.redirectedTo(t, res, o.conf); q.Get("error") != "access_denied" || q.Get("code") != "" {
				t.Errorf("redirect query %v, want access_denied", q)
			}
		})
		t.Run("a consent posted from another site is refused (CSRF)", func(t *testing.T) {
			form.Set("decision", "allow")
			for _, hdr := range [][]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
				res, _ := b.send(t, "POST", "/oauth/authorize", form, hdr...)
				if res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "" {
					t.Errorf("cross-site consent (%s) answered %d to %q, want 403 without a code", hdr[0], res.StatusCode, res.Header.Get("Location"))
				}
			}
		})
	})
}
