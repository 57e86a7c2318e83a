package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
)

func TestEveryPageRendersForAnOwner(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "owner@acme.example", roster.RoleOwner)
	b := e.signedIn(t, "owner@acme.example")
	base := "/orgs/" + e.orgA.ID
	for _, p := range []string{"/members", "/projects", "/api-keys", "/scim", "/webhooks", "/audit", "/account"} {
		resp, body := b.get(base + p)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>") {
			t.Errorf("GET %s = %d:\n%s", p, resp.StatusCode, body)
		}
	}
}

func TestStaticAssetsAreServedWithoutListings(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	b := e.browser(t)
	for _, c := range []struct {
		path string
		want int
		kind string
	}{
		{"/static/console.css", 200, "text/css"},
		{"/static/console.js", 200, "javascript"},
		{"/static/htmx-2.0.11.min.js", 200, "javascript"},
		{"/static/", 404, ""},
		{"/static/nothing.js", 404, ""},
	} {
		resp, _ := b.get(c.path)
		if resp.StatusCode != c.want || !strings.Contains(resp.Header.Get("Content-Type"), c.kind) {
			t.Errorf("GET %s = %d %q; want %d %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.want, c.kind)
		}
	}
}

func TestPagesCarryProtectiveHeaders(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	for _, path := range []string{"/login", "/orgs/" + e.orgA.ID + "/members"} {
		resp, _ := e.browser(t).get(path)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s headers %v", path, h)
		}
	}
}
