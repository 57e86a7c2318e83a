package sso_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/outbound"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/sso"
	"github.com/rosterhq/roster/internal/sso/ssotest"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// backends are the stores every scenario runs on; PostgreSQL skips with its reason when
// ROSTER_TEST_POSTGRES is unset.
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store { return sqltest.SQLite(tb) }},
	{"postgres", func(tb testing.TB) store.Store { return sqltest.Postgres(tb) }},
}

// dns is a resolver whose TXT records the test sets.
type dns struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (d *dns) lookup(_ context.Context, name string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.txt[name], nil
}

func (d *dns) set(name, value string) {
	d.mu.Lock()
	d.txt[name] = append(d.txt[name], value)
	d.mu.Unlock()
}

// env is a Roster server on a store with one organization, its org key and one active
// member, ada@acme.test.
type env struct {
	st       store.Store
	srv      *httptest.Server
	base     string
	orgID    string
	pk, sk   string
	adminKey string
	memberID string
	dns      *dns
	svc      *auth.Service
	// httpc is the client of management calls (it trusts the test TLS certificate).
	httpc *http.Client
}

func newEnv(t testing.TB, st store.Store) *env { return newEnvTLS(t, st, false) }

// newEnvTLS is newEnv, served over HTTPS when tls is set.
func newEnvTLS(t testing.TB, st store.Store, tls bool) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{st: st, dns: &dns{txt: map[string][]string{}}, svc: auth.NewService(st, auth.Config{}), adminKey: "admin-" + auth.NewSecret("")}
	var h http.Handler
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })
	if tls {
		e.srv = httptest.NewTLSServer(handler)
	} else {
		e.srv = httptest.NewServer(handler)
	}
	e.httpc = e.srv.Client()
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL
	kr := keyringtest.New(t)
	sessions := auth.NewSessions(st, auth.SessionConfig{BaseURL: e.base})
	ssoSvc := sso.New(sso.Config{Store: st, Sessions: sessions, Keyring: kr, BaseURL: e.base, Resolver: e.dns.lookup,
		// The test IdPs listen on loopback, which production refuses (ROSTER_ALLOW_PRIVATE_OUTBOUND).
		Outbound: outbound.New(outbound.Options{AllowPrivate: true})})
	h = httpapi.NewServer(httpapi.Deps{Store: st, Auth: e.svc, BaseURL: e.base, Sessions: sessions, SSO: ssoSvc, AdminKey: auth.Secret(e.adminKey)})

	cli := roster.SystemActor("test")
	org, err := e.svc.CreateOrganization(ctx, cli, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	e.orgID = org.ID
	key, secret, err := e.svc.CreateOrgKey(ctx, cli, org.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.pk, e.sk = key.PublicKey, secret
	e.memberID = e.addMember(t, "ada@acme.test")
	return e
}

func (e *env) addMember(t testing.TB, email string) string {
	t.Helper()
	m := &roster.Member{OrgID: e.orgID, Email: email, Role: roster.RoleMember}
	if err := e.st.Tx(t.Context(), roster.SystemActor("test"), func(tx store.Tx) error { return tx.CreateMember(t.Context(), m) }); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// api calls the management API with the org key and decodes a JSON answer into out.
func (e *env) api(t testing.TB, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
	req.SetBasicAuth(e.pk, e.sk)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// browser is an HTTP client with cookies that does not follow redirects, so a test sees
// every hop.
func browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// browser is a non-following browser that trusts this environment's TLS certificate.
func (e *env) browser() *http.Client {
	c := browser(nil)
	c.Transport = e.srv.Client().Transport
	return c
}

// followingBrowser follows redirects like a browser.
func followingBrowser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// whoami asks GET /session with the browser's cookies.
func (e *env) whoami(t testing.TB, c *http.Client) (int, map[string]string) {
	t.Helper()
	resp, err := c.Get(e.base + "/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// refusals reads the organization's sso.login_refused audit records' reasons.
func (e *env) refusals(t testing.TB) []string {
	t.Helper()
	recs, _, err := e.st.ListAudit(t.Context(), e.orgID, store.AuditFilter{Action: "sso.login_refused", Page: store.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		var d map[string]string
		_ = json.Unmarshal(r.After, &d)
		out = append(out, d["reason"])
	}
	return out
}

// samlConnection creates a SAML connection for idp from its metadata, with extra JSON
// fields merged in (e.g. `"idpInitiated":true`).
func (e *env) samlConnection(t testing.TB, idp *ssotest.SAMLIdP, extra string) string {
	t.Helper()
	md, _ := json.Marshal(idp.Metadata())
	body := `{"name":"Test IdP","metadataXml":` + string(md)
	if extra != "" {
		body += "," + extra
	}
	body += "}"
	var v struct {
		ID string `json:"id"`
	}
	if code := e.api(t, "POST", "/saml/connections", body, &v); code != 201 {
		t.Fatalf("creating the SAML connection: %d", code)
	}
	return v.ID
}

// startSAML begins an SP-initiated login in browser c and returns the AuthnRequest the IdP
// receives and the RelayState.
func (e *env) startSAML(t testing.TB, c *http.Client, connID string) (*ssotest.AuthnRequest, string) {
	t.Helper()
	resp, err := c.Get(e.base + "/saml/authorize/" + e.orgID + "?connection=" + connID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d; want 302 to the IdP", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	ar, err := ssotest.ParseRedirect(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatalf("the redirect carries no readable SAMLRequest: %v", err)
	}
	return ar, loc.Query().Get("RelayState")
}

// post sends a response by the HTTP-POST binding, as the browser does from the IdP's page.
func (e *env) post(t testing.TB, c *http.Client, path, encoded, relay string) *http.Response {
	t.Helper()
	form := url.Values{"SAMLResponse": {encoded}}
	if relay != "" {
		form.Set("RelayState", relay)
	}
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://idp.example") // the IdP's page: a cross-site POST by design
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
