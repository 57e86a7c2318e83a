package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

func TestSecretsAreShownOnceAndNeverAgain(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "owner@acme.example", roster.RoleOwner)
	b := e.signedIn(t, "owner@acme.example")
	base := "/orgs/" + e.orgA.ID
	for _, c := range []struct {
		name, post string
		form       url.Values
		secret     string // pattern of the secret on the page that answers the post
		page       func() string
	}{
		{"a SCIM bearer token", base + "/scim", url.Values{"name": {"Okta"}}, `id="scim-token">(scim_[^<]+)<`, func() string { return base + "/scim" }},
		{"an organization key's secret", base + "/api-keys", url.Values{"note": {"ci"}}, `id="new-secret-key">(sk-org-[^<]+)<`, func() string { return base + "/api-keys" }},
		{"a webhook signing secret", base + "/webhooks", url.Values{"url": {"https://hooks.example.com/a"}}, `id="webhook-secret">([^<]+)<`, func() string { return base + "/webhooks" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.post(c.post, c.form)
			if resp.StatusCode != 200 || !strings.Contains(body, "cannot be shown again") {
				t.Fatalf("POST %s = %d; want the page with the secret and the warning:\n%s", c.post, resp.StatusCode, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("the page with the secret is cacheable: Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			secret := html.UnescapeString(find(t, body, c.secret))
			if _, again := b.get(c.page()); strings.Contains(again, secret) {
				t.Errorf("GET %s shows the secret again", c.page())
			}
		})
	}
	t.Run("the SCIM token from the page works and its regeneration stops it at once", func(t *testing.T) {
		_, body := b.post(base+"/scim", url.Values{"name": {"Entra"}})
		token := find(t, body, `id="scim-token">(scim_[^<]+)<`)
		dirID := find(t, body, `href="/orgs/[^/]+/scim/([0-9a-f-]{36})">Entra<`)
		scim := func(tok string) int {
			req, _ := http.NewRequest("GET", e.srv.URL+"/scim/v2/Users", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := scim(token); got != 200 {
			t.Fatalf("the page's token got %d", got)
		}
		resp, body := b.post(base+"/scim/"+dirID+"/regenerate", url.Values{"graceSeconds": {"0"}})
		if resp.StatusCode != 200 {
			t.Fatalf("regenerate: %d", resp.StatusCode)
		}
		fresh := find(t, body, `id="scim-token">(scim_[^<]+)<`)
		if scim(token) != 401 || scim(fresh) != 200 {
			t.Errorf("after regeneration: old token %d, new token %d; want 401 and 200", scim(token), scim(fresh))
		}
		if resp, _ := b.post(base+"/scim/"+dirID+"/regenerate", url.Values{"graceSeconds": {"-5"}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a negative grace got %d; want 400", resp.StatusCode)
		}
		b.post(base+"/scim/"+dirID+"/settings", url.Values{"name": {"Entra"}, "defaultRole": {"NONE"}})
		if scim(fresh) != 401 {
			t.Errorf("a directory saved without 'enabled' still accepts its token")
		}
	})
}

func TestMembersPagesSearchesAndFilters(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "owner@acme.example", roster.RoleOwner)
	ctx := t.Context()
	if err := e.st.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
		for i := range 60 {
			if err := tx.CreateMember(ctx, &roster.Member{OrgID: e.orgA.ID, Email: fmt.Sprintf("p%02d@acme.example", i), Name: fmt.Sprintf("Person %02d", i), Role: roster.RoleMember}); err != nil {
				return err
			}
		}
		return tx.CreateMember(ctx, &roster.Member{OrgID: e.orgB.ID, Email: "stranger@beta.example", Role: roster.RoleMember})
	}); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(t, "owner@acme.example")
	base := "/orgs/" + e.orgA.ID + "/members"
	_, first := b.get(base)
	if n := strings.Count(first, `<tr id="member-`); n != 50 {
		t.Errorf("the first page has %d rows; want 50", n)
	}
	if strings.Contains(first, "stranger@beta.example") {
		t.Errorf("the page shows another organization's member")
	}
	next := html.UnescapeString(find(t, first, `href="(/orgs/[^"]+/members\?[^"]*after=[^"]+)" rel="next"`))
	_, second := b.get(next)
	if n := strings.Count(second, `<tr id="member-`); n != 11 || strings.Contains(second, `rel="next"`) {
		t.Errorf("the second page has %d rows (want 11) or a next link", n)
	}
	_, found := b.get(base + "?q=PERSON+07")
	if n := strings.Count(found, `<tr id="member-`); n != 1 || !strings.Contains(found, "p07@acme.example") {
		t.Errorf("searching 'PERSON 07' found %d rows", n)
	}
	_, none := b.get(base + "?role=VIEWER&status=bogus&after=not-an-id")
	if !strings.Contains(none, "No member matches.") {
		t.Errorf("filtering on a role nobody has shows members")
	}
	if resp, _ := b.post(base+"/"+strings.Repeat("0", 8)+"/role", url.Values{"role": {"ADMIN"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a role change of a malformed member id got %d; want 404", resp.StatusCode)
	}
	owner, _ := e.st.GetMemberByEmail(ctx, e.orgA.ID, "owner@acme.example")
	if resp, body := b.post(base+"/"+owner.ID+"/role", url.Values{"role": {"ADMIN"}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "last OWNER") {
		t.Errorf("demoting the last owner got %d; want 409 naming the last OWNER", resp.StatusCode)
	}
	if resp, _ := b.post(base+"/"+owner.ID+"/role", url.Values{"role": {"GOD"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown role got %d; want 400", resp.StatusCode)
	}
}

func TestAuditLogFiltersAndExportsJSONLines(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "owner@acme.example", roster.RoleOwner)
	e.user(t, e.orgB, "owner@beta.example", roster.RoleOwner)
	b := e.signedIn(t, "owner@acme.example")
	base := "/orgs/" + e.orgA.ID
	b.post(base+"/projects", url.Values{"name": {"Checkout"}})
	_, page := b.get(base + "/audit?action=project.created")
	if !strings.Contains(page, "project.created") || strings.Contains(page, "membership.created") {
		t.Errorf("the action filter shows other actions or misses project.created")
	}
	if resp, _ := b.get(base + "/audit?from=yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed time got %d; want 400", resp.StatusCode)
	}
	resp, body := b.get(base + "/audit/export")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	lines := bytes.Split(bytes.TrimSpace([]byte(body)), []byte("\n"))
	actions := map[string]bool{}
	for _, l := range lines {
		var rec struct {
			Action string              `json:"action"`
			Target struct{ ID string } `json:"target"`
		}
		if err := json.Unmarshal(l, &rec); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		actions[rec.Action] = true
		if strings.Contains(string(l), "owner@beta.example") {
			t.Errorf("the export carries another organization's record: %s", l)
		}
	}
	if !actions["project.created"] || !actions["member.password_set"] {
		t.Errorf("the export's actions %v lack project.created or member.password_set", actions)
	}
	if strings.Contains(body, "argon2id") {
		t.Error("the audit export carries a password hash")
	}
}

func TestDirectoryPageShowsTheRequestLogAndActivity(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "viewer@acme.example", roster.RoleViewer)
	e.user(t, e.orgA, "admin@acme.example", roster.RoleAdmin)
	admin := e.signedIn(t, "admin@acme.example")
	base := "/orgs/" + e.orgA.ID + "/scim"
	_, body := admin.post(base, url.Values{"name": {"Okta"}, "defaultRole": {"MEMBER"}})
	token := find(t, body, `id="scim-token">(scim_[^<]+)<`)
	dirID := find(t, body, `href="/orgs/[^/]+/scim/([0-9a-f-]{36})">Okta<`)
	scim := func(method, path, body string) int {
		req, _ := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := scim("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.example"}`); got != 201 {
		t.Fatalf("create: %d", got)
	}
	if got := scim("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.example"}`); got != 409 {
		t.Fatalf("duplicate: %d", got)
	}
	scim("GET", "/Users", "")
	viewer := e.signedIn(t, "viewer@acme.example")
	resp, page := viewer.get(base + "/" + dirID)
	if resp.StatusCode != 200 {
		t.Fatalf("directory page: %d", resp.StatusCode)
	}
	if !strings.Contains(page, `aria-label="3 requests and 1 errors in the last 30 days"`) {
		t.Errorf("the chart does not count 3 requests and 1 error:\n%s", find(t, page, `(<svg[^>]*>)`))
	}
	if n := strings.Count(page, `<tr class="error">`); n != 1 || !strings.Contains(page, "uniqueness") {
		t.Errorf("%d highlighted rows in the request log; want the one 409 with its scimType", n)
	}
	if strings.Contains(page, token) {
		t.Error("the directory page shows the bearer token")
	}
	if strings.Contains(page, `action="`+base+"/"+dirID+`/regenerate"`) {
		t.Error("a viewer sees the regenerate form")
	}
}

func TestGroupMappingsFromTheConsoleRecomputeRoles(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "admin@acme.example", roster.RoleAdmin)
	admin := e.signedIn(t, "admin@acme.example")
	base := "/orgs/" + e.orgA.ID + "/scim"
	_, body := admin.post(base, url.Values{"name": {"Okta"}, "defaultRole": {"VIEWER"}})
	token := find(t, body, `id="scim-token">(scim_[^<]+)<`)
	dirID := find(t, body, `href="/orgs/[^/]+/scim/([0-9a-f-]{36})">Okta<`)
	scim := func(path, body string) map[string]any {
		req, _ := http.NewRequest("POST", e.srv.URL+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 201 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	u := scim("/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eng@acme.example"}`)
	g := scim("/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"`+u["id"].(string)+`"}]}`)
	role := func() roster.Role {
		m, err := e.st.GetMemberByEmail(t.Context(), e.orgA.ID, "eng@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		return m.Role
	}
	if r := role(); r != roster.RoleViewer {
		t.Fatalf("before any mapping the member is %s; want the default VIEWER", r)
	}
	_, page := admin.get(base + "/" + dirID)
	if !strings.Contains(page, `<option value="`+g["id"].(string)+`">Engineering</option>`) {
		t.Fatalf("the mapping form does not offer the group")
	}
	if resp, _ := admin.post(base+"/"+dirID+"/group-mappings", url.Values{"groupId": {g["id"].(string)}, "role": {"OWNER"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("mapping a group to OWNER got %d; want 400", resp.StatusCode)
	}
	if resp, _ := admin.post(base+"/"+dirID+"/group-mappings", url.Values{"groupId": {g["id"].(string)}, "role": {"ADMIN"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add mapping: %d", resp.StatusCode)
	}
	if r := role(); r != roster.RoleAdmin {
		t.Errorf("after mapping Engineering to ADMIN the member is %s", r)
	}
	if resp, _ := admin.post(base+"/"+dirID+"/group-mappings/remove", url.Values{"groupId": {g["id"].(string)}, "role": {"ADMIN"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove mapping: %d", resp.StatusCode)
	}
	if r := role(); r != roster.RoleViewer {
		t.Errorf("after removing the mapping the member is %s; want VIEWER again", r)
	}
}

func TestOrganizationKeysRotateFromThePage(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "admin@acme.example", roster.RoleAdmin)
	b := e.signedIn(t, "admin@acme.example")
	base := "/orgs/" + e.orgA.ID + "/api-keys"
	_, body := b.post(base, url.Values{"note": {"ci"}})
	pk, sk := find(t, body, `id="new-public-key">([^<]+)<`), find(t, body, `id="new-secret-key">([^<]+)<`)
	use := func(pk, sk string) int {
		req, _ := http.NewRequest("GET", e.srv.URL+"/scim/directories", nil)
		req.SetBasicAuth(pk, sk)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := use(pk, sk); got != 200 {
		t.Fatalf("the page's key got %d", got)
	}
	_, page := b.get(base)
	keyID := find(t, page, `action="`+base+`/([0-9a-f-]{36})/rotate"`)
	resp, body := b.post(base+"/"+keyID+"/rotate", url.Values{"graceSeconds": {"0"}})
	if resp.StatusCode != 200 {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	npk, nsk := find(t, body, `id="new-public-key">([^<]+)<`), find(t, body, `id="new-secret-key">([^<]+)<`)
	if use(pk, sk) != 401 || use(npk, nsk) != 200 {
		t.Errorf("after a rotation without grace: old key %d, new key %d; want 401 and 200", use(pk, sk), use(npk, nsk))
	}
}
