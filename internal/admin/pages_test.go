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
