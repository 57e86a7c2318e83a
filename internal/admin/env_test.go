package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// backends are the databases every console test runs on.
var backends = []struct {
	name string
	open func(testing.TB) *sqlstore.Store
}{
	{"sqlite", func(tb testing.TB) *sqlstore.Store { return sqltest.SQLite(tb) }},
	{"postgres", func(tb testing.TB) *sqlstore.Store { return sqltest.Postgres(tb) }},
}

// cheap argon2id parameters keep the tests fast; the code path is the production one.
var cheap = auth.PasswordConfig{Params: auth.ArgonParams{Memory: 64, Time: 1, Threads: 1}}

// env is a running server with two organizations, A and B.
type env struct {
	st     store.Store
	srv    *httptest.Server
	people *auth.People
	orgA   *roster.Organization
	orgB   *roster.Organization
	mailer *fakeMailer
}

// fakeMailer records the messages the console sends, or fails with err.
type fakeMailer struct {
	mu   sync.Mutex
	sent []mail.Message
	err  error
}

func (f *fakeMailer) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

const password = "correct horse battery"

func newEnv(t testing.TB, st store.Store) *env {
	t.Helper()
	kr := keyringtest.New(t)
	e := &env{st: st, mailer: &fakeMailer{}, people: auth.NewPeople(st, auth.PeopleConfig{Passwords: auth.NewPasswords(cheap), Keyring: kr})}
	e.srv = httptest.NewUnstartedServer(nil)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	svc := auth.NewService(st, auth.Config{})
	rl := scim.NewRequestLog(st)
	e.srv.Config.Handler = httpapi.NewServer(httpapi.Deps{Store: st, Auth: svc, BaseURL: e.srv.URL, People: e.people,
		Events: events.NewService(st, kr, nil), RequestLog: rl, Mailer: e.mailer})
	actor := roster.SystemActor("test")
	var err error
	if e.orgA, err = svc.CreateOrganization(t.Context(), actor, "Acme"); err != nil {
		t.Fatal(err)
	}
	if e.orgB, err = svc.CreateOrganization(t.Context(), actor, "Beta"); err != nil {
		t.Fatal(err)
	}
	return e
}

// user makes a member of org with role that signs in with password.
func (e *env) user(t testing.TB, org *roster.Organization, email string, role roster.Role) *roster.Member {
	t.Helper()
	m, err := e.people.CreateUser(t.Context(), roster.SystemActor("test"), org.ID, email, "", role, password)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so tests see
// each 303.
type browser struct {
	t   testing.TB
	e   *env
	c   *http.Client
	org string
}

func (e *env) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn is a browser signed in as email through POST /login.
func (e *env) signedIn(t testing.TB, email string) *browser {
	t.Helper()
	b := e.browser(t)
	resp, body := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d %s", email, resp.StatusCode, body)
	}
	return b
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form as a same-origin browser would (Sec-Fetch-Site: same-origin).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	return b.postFrom(path, form, "same-origin")
}

// postFrom submits a form with the given Sec-Fetch-Site.
func (b *browser) postFrom(path string, form url.Values, site string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	return b.do(req)
}

// find returns the first submatch of pattern in body, or fails.
func find(t testing.TB, body, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %q in the page:\n%s", pattern, body)
	}
	return m[1]
}
