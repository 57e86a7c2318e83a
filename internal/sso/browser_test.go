package sso_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/browsertest"
	"github.com/rosterhq/roster/internal/sso/ssotest"
)

// waitForPath waits until the browser's page is at path and returns the page's text.
func waitForPath(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("reading the location: %v", err)
		}
		last = loc
		if i := strings.Index(loc, "://"); i >= 0 {
			if rest := loc[i+3:]; strings.Contains(rest, "/") && strings.HasPrefix(rest[strings.Index(rest, "/"):], path) {
				text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
				if err != nil {
					t.Fatalf("reading the page: %v", err)
				}
				if text != "" {
					return text
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the browser never reached %s; last at %s", path, last)
	return ""
}

// TestBrowserLogins drives a real headless chromium through both protocols: Roster sends
// it to the IdP, the IdP's page posts (SAML) or redirects (OIDC) it back, and the session
// cookie it ends with makes GET /session name the member.
func TestBrowserLogins(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	idp := ssotest.NewSAMLIdP(t)
	idp.SetEmail("ada@acme.test")
	samlConn := e.samlConnection(t, idp, `"attributeMapping":{"preset":"okta"}`)
	op := ssotest.NewOIDCProvider(t)
	op.SetEmail("ada@acme.test")
	oidcConn := e.oidcConnection(t, op, "")

	for _, c := range []struct{ name, start string }{
		{"SAML: the IdP's auto-submitting form posts the signed response and the browser ends signed in",
			e.base + "/saml/authorize/" + e.orgID + "?connection=" + samlConn + "&returnTo=/session"},
		{"OIDC: the code flow redirects the browser back and it ends signed in",
			e.base + "/oidc/authorize/" + e.orgID + "?connection=" + oidcConn},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := browsertest.New(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(c.start)); err != nil {
				t.Fatalf("navigating: %v", err)
			}
			text := waitForPath(t, ctx, "/session")
			var who map[string]string
			if err := json.Unmarshal([]byte(text), &who); err != nil {
				t.Fatalf("GET /session page is not JSON: %q", text)
			}
			if who["email"] != "ada@acme.test" || who["orgId"] != e.orgID || who["id"] != e.memberID {
				t.Errorf("GET /session in the browser = %v; want ada of %s", who, e.orgID)
			}
			// The cookie is HttpOnly: the page's scripts cannot read it.
			cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(cookies, "roster_session") {
				t.Errorf("document.cookie shows the session cookie: %q", cookies)
			}
		})
	}
}
