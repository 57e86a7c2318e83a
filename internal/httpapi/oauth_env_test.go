package httpapi_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/oauth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// oauthEnv is a server with an OAuth provider on a settable clock, tenant A's member Ann
// (VIEWER) and two apps of A: a confidential one and a public one.
type oauthEnv struct {
	*env
	clock    *clock
	provider *oauth.Provider
	sessions *auth.Sessions
	ann      roster.Member
	conf     oauthClient
	pub      oauthClient
}

// oauthClient is an app as its developer holds it.
type oauthClient struct {
	id, clientID, secret string
	redirect             string
}

const (
	confRedirect = "https://app.example/callback"
	pubRedirect  = "http://127.0.0.1:7777/callback"
	appOrigin    = "https://spa.example"
)

// newOAuthEnv serves NewServer on st with an OAuth provider whose authorization endpoint reads
// the sessions of o.sessions.
func newOAuthEnv(t testing.TB, st store.Store) *oauthEnv {
	t.Helper()
	o := &oauthEnv{clock: &clock{}}
	kr := keyringtest.New(t)
	o.sessions = auth.NewSessions(st, auth.SessionConfig{})
	o.env = newEnv(t, st, auth.Config{}, func(d *httpapi.Deps) {
		d.Keyring = kr
		d.Sessions = o.sessions
		o.provider = oauth.New(oauth.Config{Store: st, Keyring: kr, Issuer: testBaseURL, Now: o.clock.now, Sessions: o.sessions,
			SSOLogin: httpapi.SSOLogin(st),
			Limiter:  auth.NewFailureLimiter(1000)})
		d.OAuth = o.provider
	})
	o.ann = o.member(t, o.a.orgID, "ann@acme.example", roster.RoleViewer)
	o.conf = o.createApp(t, `{"name":"Host app","redirectUris":["`+confRedirect+`"],
		"scopes":["openid","profile","email","offline_access","user.read","org.read","projects.read"]}`, confRedirect)
	o.pub = o.createApp(t, `{"name":"SPA","public":true,"redirectUris":["`+pubRedirect+`"],
		"scopes":["openid","email","offline_access"],"allowedOrigins":["`+appOrigin+`"],"idTokenSigningAlg":"ES256"}`, pubRedirect)
	return o
}

func (o *oauthEnv) member(t testing.TB, orgID, email string, role roster.Role) roster.Member {
	t.Helper()
	m := &roster.Member{OrgID: orgID, Email: email, Name: "Ann Example", Role: role}
	if err := o.st.Tx(t.Context(), cli, func(tx store.Tx) error { return tx.CreateMember(t.Context(), m) }); err != nil {
		t.Fatal(err)
	}
	return *m
}

func (o *oauthEnv) createApp(t testing.TB, body, redirect string) oauthClient {
	t.Helper()
	got := o.json(t, http.StatusCreated, "POST", "/oauth/apps", basicAuth(o.a.pk, o.a.sk), body)
	secret, _ := got["clientSecret"].(string)
	return oauthClient{id: got["id"].(string), clientID: got["clientId"].(string), secret: secret, redirect: redirect}
}

// pkce is a code verifier with its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := rand.Text() + rand.Text()
	h := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(h[:])}
}

// issueCode stores an authorization code for member m and app c, as the authorization
// endpoint does after consent, and returns it.
func (o *oauthEnv) issueCode(t testing.TB, c oauthClient, m roster.Member, scopes []string, challenge string) string {
	t.Helper()
	app, err := o.st.LookupOAuthClient(t.Context(), c.clientID)
	if err != nil {
		t.Fatal(err)
	}
	code := "test-code-" + rand.Text()
	h := sha256.Sum256([]byte(code))
	n := o.clock.now()
	oc := &roster.OAuthCode{OrgID: app.OrgID, AppID: app.ID, UserID: m.ID, Hash: h[:], RedirectURI: c.redirect, Scopes: scopes,
		CodeChallenge: challenge, Nonce: "n-0S6_WzA2Mj", AuthTime: n, ExpiresAt: n.Add(oauth.DefaultCodeTTL)}
	if err := o.st.Tx(t.Context(), cli, func(tx store.Tx) error { return tx.CreateOAuthCode(t.Context(), oc) }); err != nil {
		t.Fatal(err)
	}
	return code
}

// form posts an application/x-www-form-urlencoded body, with HTTP Basic client credentials
// when user is set; hdr are header name and value pairs.
func (o *oauthEnv) form(t testing.TB, path string, v url.Values, user, pass string, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", o.srv.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := o.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("POST %s: the body is not JSON: %q", path, raw)
		}
	}
	return res, m
}

// exchange redeems a code as client c (Basic for a confidential one, client_id for a
// public one).
func (o *oauthEnv) exchange(t testing.TB, c oauthClient, code, redirect, verifier string) (*http.Response, map[string]any) {
	t.Helper()
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		v.Set("code_verifier", verifier)
	}
	if c.secret == "" {
		v.Set("client_id", c.clientID)
		return o.form(t, "/oauth/token", v, "", "")
	}
	return o.form(t, "/oauth/token", v, c.clientID, c.secret)
}

func (o *oauthEnv) refresh(t testing.TB, c oauthClient, token string, extra ...string) (*http.Response, map[string]any) {
	t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if c.secret == "" {
		v.Set("client_id", c.clientID)
		return o.form(t, "/oauth/token", v, "", "")
	}
	return o.form(t, "/oauth/token", v, c.clientID, c.secret)
}

// tokens redeems a fresh code of scopes for Ann as the confidential app and returns the
// token response.
func (o *oauthEnv) tokens(t testing.TB, scopes ...string) map[string]any {
	t.Helper()
	p := newPKCE()
	code := o.issueCode(t, o.conf, o.ann, scopes, p.challenge)
	res, body := o.exchange(t, o.conf, code, o.conf.redirect, p.verifier)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("code exchange answered %d: %v", res.StatusCode, body)
	}
	return body
}

// userinfo calls the userinfo endpoint with an access token.
func (o *oauthEnv) userinfo(t testing.TB, access string, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	res, raw := o.do(t, "GET", "/oauth/userinfo", "Bearer "+access, "", hdr...)
	var m map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return res, m
}

// wantOAuthError checks an RFC 6749 section 5.2 error.
func wantOAuthError(t testing.TB, res *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if res.StatusCode != status || body["error"] != code {
		t.Fatalf("answered %d %v, want %d with error %q", res.StatusCode, body, status, code)
	}
	if _, ok := body["error_description"].(string); !ok {
		t.Errorf("error without error_description: %v", body)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// suspend suspends a member as SCIM active=false does.
func (o *oauthEnv) suspend(t testing.TB, m roster.Member) {
	t.Helper()
	err := o.st.Tx(t.Context(), cli, func(tx store.Tx) error {
		cur, err := tx.GetMember(t.Context(), m.OrgID, m.ID)
		if err != nil {
			return err
		}
		next := *cur
		next.Status = roster.MemberSuspended
		return tx.UpdateMember(t.Context(), cur, &next)
	})
	if err != nil {
		t.Fatal(err)
	}
}
