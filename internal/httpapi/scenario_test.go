package httpapi_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// scenario is one row of an HTTP scenario table: a request, with the environment's
// placeholders ({orgA}, {basicA}, {tokenB}…) expanded, and what it must answer.
type scenario struct {
	name string
	// setup makes what the row acts on and names it in v.
	setup                    func(t *testing.T, e *env, v vars)
	method, path, auth, body string
	status                   int
	// shape, when set, is the shapeOf the whole body.
	shape any
	// want holds top-level fields that must have exactly these values (strings expanded).
	want map[string]any
	// code is the management API error code of an error answer.
	code string
	// audit, when set, describes the newest audit record of its action in its organization.
	audit *auditWant
	// then checks what the request changed. The body's top-level strings are in v as
	// {body.<name>}.
	then func(t *testing.T, e *env, v vars, r reply)
}

// reply is a response with its body, raw and decoded.
type reply struct {
	res  *http.Response
	raw  []byte
	body map[string]any
}

// auditWant is the audit record a write must leave: who did what to which target (target
// empty: not checked). Request id and client address are checked against the response.
type auditWant struct {
	org, actorType, actorID, action, target string
}

// runScenarios runs rows in order on one environment. A row that changes something makes
// what it changes in its setup, so no row depends on another having run.
func runScenarios(t *testing.T, e *env, rows []scenario) {
	t.Helper()
	for _, sc := range rows {
		t.Run(sc.name, func(t *testing.T) {
			v := e.vars()
			if sc.setup != nil {
				sc.setup(t, e, v)
			}
			path := v.expand(sc.path)
			res, raw := e.do(t, sc.method, path, v.expand(sc.auth), v.expand(sc.body))
			if res.StatusCode != sc.status {
				t.Fatalf("%s %s answered %d, want %d: %s", sc.method, path, res.StatusCode, sc.status, raw)
			}
			if res.StatusCode >= 400 {
				checkError(t, res, raw, isSCIM(path), sc.code)
			} else {
				want := jsonType
				if isSCIM(path) {
					want = scimType
				}
				if ct := res.Header.Get("Content-Type"); ct != want {
					t.Errorf("Content-Type %q, want %q", ct, want)
				}
			}
			body := decodeObject(t, raw)
			if sc.shape != nil {
				if diff := cmp.Diff(sc.shape, shapeOf(body)); diff != "" {
					t.Errorf("body shape (-want +got):\n%s\n%s", diff, raw)
				}
			}
			if sc.want != nil {
				want, got := map[string]any{}, map[string]any{}
				for k, x := range sc.want {
					if s, ok := x.(string); ok {
						x = v.expand(s)
					}
					want[k], got[k] = x, body[k]
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("body fields (-want +got):\n%s", diff)
				}
			}
			for k, x := range body {
				if s, ok := x.(string); ok {
					v["body."+k] = s
				}
			}
			if sc.audit != nil {
				e.checkAudit(t, v, *sc.audit, res)
			}
			if sc.then != nil {
				sc.then(t, e, v, reply{res: res, raw: raw, body: body})
			}
		})
	}
}

// checkAudit finds the newest record of w.action in w.org and compares it with w and with the
// response's request id and the test client's address.
func (e *env) checkAudit(t *testing.T, v vars, w auditWant, res *http.Response) {
	t.Helper()
	org := v.expand(w.org)
	recs, _, err := e.st.ListAudit(context.Background(), org, store.AuditFilter{Action: w.action, Page: store.Page{Limit: 1}})
	if err != nil {
		t.Fatalf("listing the audit log: %v", err)
	}
	if len(recs) == 0 {
		t.Fatalf("no %s audit record in organization %s", w.action, org)
	}
	type record struct{ ActorType, ActorID, Action, Target, RequestID, IP string }
	r := recs[0]
	got := record{string(r.Actor.Type), r.Actor.ID, r.Action, r.Target.ID, r.RequestID, r.IP}
	want := record{w.actorType, v.expand(w.actorID), w.action, v.expand(w.target), res.Header.Get(requestIDHdr), e.clientIP()}
	if w.target == "" {
		got.Target = ""
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit record (-want +got):\n%s", diff)
	}
}

// clientIP is the address the test client connects from: the server's loopback address.
func (e *env) clientIP() string {
	host, _, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	return host
}

// expectStatus makes a request that must answer want.
func expectStatus(t *testing.T, e *env, want int, method, path, authz string) {
	t.Helper()
	if res, raw := e.do(t, method, path, authz, ""); res.StatusCode != want {
		t.Errorf("%s %s answered %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
}

// unknownID is a well-formed id that names nothing.
const unknownID = "0190b3f0-0000-7000-8000-000000000000"

func TestTheHTTPSurfaceOnEveryBackend(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), auth.Config{}, nil)
			t.Run("instance admin API", func(t *testing.T) { runScenarios(t, e, adminScenarios) })
			t.Run("directories API", func(t *testing.T) { runScenarios(t, e, directoryScenarios) })
			t.Run("SCIM authentication", func(t *testing.T) { runScenarios(t, e, scimAuthScenarios) })
		})
	}
}

var adminScenarios = []scenario{
	{
		name:   "an admin creates an organization and reads it back",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":"  Globex  "}`,
		status: 201, shape: orgShape, want: map[string]any{"name": "Globex"},
		audit: &auditWant{org: "{body.id}", actorType: "admin_key", actorID: "admin", action: "organization.created", target: "{body.id}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			got := e.json(t, 200, "GET", "/api/admin/organizations/"+v["body.id"], "Bearer "+e.adminKey, "")
			if diff := cmp.Diff(r.body, got); diff != "" {
				t.Errorf("read back (-created +read):\n%s", diff)
			}
		},
	},
	{
		name: "an admin pages through the organizations with limit and cursor",
		setup: func(t *testing.T, e *env, v vars) {
			for _, n := range []string{"page0", "page1", "page2"} {
				v[n] = e.newOrg(t, "Paged "+n)
			}
		},
		method: "GET", path: "/api/admin/organizations?limit=2", auth: "Bearer {admin}",
		status: 200, shape: map[string]any{"organizations": []any{orgShape, orgShape}, "cursor": "string"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			var paged []string
			body := r.body
			for pages := 1; ; pages++ {
				for _, o := range body["organizations"].([]any) {
					paged = append(paged, o.(map[string]any)["id"].(string))
				}
				cursor := body["cursor"].(string)
				if cursor == "" {
					break
				}
				if pages > 50 {
					t.Fatalf("the cursor never ends")
				}
				body = e.json(t, 200, "GET", "/api/admin/organizations?limit=2&cursor="+url.QueryEscape(cursor), "Bearer "+e.adminKey, "")
			}
			all := e.json(t, 200, "GET", "/api/admin/organizations", "Bearer "+e.adminKey, "")
			var whole []string
			for _, o := range all["organizations"].([]any) {
				whole = append(whole, o.(map[string]any)["id"].(string))
			}
			if diff := cmp.Diff(whole, paged); diff != "" {
				t.Errorf("paged listing differs from the one-page listing (-one page +paged):\n%s", diff)
			}
			if all["cursor"] != "" {
				t.Errorf("a complete listing has cursor %q, want empty", all["cursor"])
			}
			if !sort.StringsAreSorted(paged) {
				t.Errorf("organizations are not listed in id order: %v", paged)
			}
			for _, id := range []string{v["orgA"], v["orgB"], v["page0"], v["page1"], v["page2"]} {
				if !strings.Contains(strings.Join(paged, " "), id) {
					t.Errorf("organization %s is missing from the listing", id)
				}
			}
		},
	},
	{
		name:   "an admin reads an organization",
		method: "GET", path: "/api/admin/organizations/{orgA}", auth: "Bearer {admin}",
		status: 200, shape: orgShape, want: map[string]any{"id": "{orgA}", "name": "Acme"},
	},
	{
		name:   "an admin renames an organization",
		setup:  func(t *testing.T, e *env, v vars) { v["org"] = e.newOrg(t, "Initrode") },
		method: "PUT", path: "/api/admin/organizations/{org}", auth: "Bearer {admin}", body: `{"name":" Initech "}`,
		status: 200, shape: orgShape, want: map[string]any{"id": "{org}", "name": "Initech"},
		audit: &auditWant{org: "{org}", actorType: "admin_key", actorID: "admin", action: "organization.updated", target: "{org}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			got := e.json(t, 200, "GET", "/api/admin/organizations/"+v["org"], "Bearer "+e.adminKey, "")
			if diff := cmp.Diff(r.body, got); diff != "" {
				t.Errorf("read back (-renamed +read):\n%s", diff)
			}
		},
	},
	{
		name: "an admin deletes an organization, which is then gone with its credentials",
		setup: func(t *testing.T, e *env, v vars) {
			tn := e.newTenant(t, "Doomed")
			v["org"], v["basic"], v["token"] = tn.orgID, basicAuth(tn.pk, tn.sk), tn.token
		},
		method: "DELETE", path: "/api/admin/organizations/{org}", auth: "Bearer {admin}",
		status: 200, shape: deletedShape, want: map[string]any{"success": true},
		audit: &auditWant{org: "{org}", actorType: "admin_key", actorID: "admin", action: "organization.deleted", target: "{org}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			res, raw := e.do(t, "GET", "/api/admin/organizations/"+v["org"], "Bearer "+e.adminKey, "")
			if res.StatusCode != 404 {
				t.Fatalf("reading a deleted organization answered %d, want 404", res.StatusCode)
			}
			checkError(t, res, raw, false, "not_found")
			expectStatus(t, e, 404, "DELETE", "/api/admin/organizations/"+v["org"], "Bearer "+e.adminKey)
			expectStatus(t, e, 401, "GET", "/scim/directories", v["basic"])
			expectStatus(t, e, 401, "GET", "/scim/v2/Users", "Bearer "+v["token"])
		},
	},
	{
		name:   "an admin creates an organization key and sees its secret once",
		method: "POST", path: "/api/admin/organizations/{orgA}/apiKeys", auth: "Bearer {admin}", body: `{"note":"deploy bot"}`,
		status: 201, shape: keyCreatedShape, want: map[string]any{"note": "deploy bot"},
		audit: &auditWant{org: "{orgA}", actorType: "admin_key", actorID: "admin", action: "api_key.created", target: "{body.id}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			secret, public := v["body.secretKey"], v["body.publicKey"]
			if !strings.HasPrefix(secret, auth.OrgSecretPrefix) || !strings.HasPrefix(public, auth.OrgPublicPrefix) {
				t.Fatalf("key pair %q / %q lacks the pk-org-/sk-org- prefixes", public, secret)
			}
			if want := auth.Display(secret, auth.OrgSecretPrefix); v["body.displaySecretKey"] != want {
				t.Errorf("displaySecretKey %q, want %q", v["body.displaySecretKey"], want)
			}
			expectStatus(t, e, 200, "GET", "/scim/directories", basicAuth(public, secret))
			_, raw := e.do(t, "GET", "/api/admin/organizations/"+v["orgA"]+"/apiKeys", "Bearer "+e.adminKey, "")
			if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(`"secretKey"`)) {
				t.Errorf("the key listing shows the secret: %s", raw)
			}
			if !bytes.Contains(raw, []byte(v["body.id"])) {
				t.Errorf("the key listing lacks the new key %s", v["body.id"])
			}
		},
	},
	{
		name: "an admin lists an organization's keys, with last use and never a secret",
		setup: func(t *testing.T, e *env, v vars) {
			expectStatus(t, e, 200, "GET", "/scim/directories", v["basicA"])
		},
		method: "GET", path: "/api/admin/organizations/{orgA}/apiKeys", auth: "Bearer {admin}",
		status: 200,
		then: func(t *testing.T, e *env, v vars, r reply) {
			if bytes.Contains(r.raw, []byte(v["skA"])) || bytes.Contains(r.raw, []byte(`"secretKey"`)) {
				t.Fatalf("the key listing shows a secret: %s", r.raw)
			}
			keys := r.body["apiKeys"].([]any)
			found := false
			for _, k := range keys {
				k := k.(map[string]any)
				if diff := cmp.Diff(keyListedKeys, keysOf(k)); diff != "" {
					t.Errorf("listed key fields (-want +got):\n%s", diff)
				}
				if k["id"] != v["keyA"] {
					continue
				}
				found = true
				want := map[string]any{"id": v["keyA"], "publicKey": v["pkA"], "displaySecretKey": auth.Display(v["skA"], auth.OrgSecretPrefix),
					"note": "", "expiresAt": "null", "lastUsedAt": "time", "createdAt": "time"}
				got := map[string]any{"id": k["id"], "publicKey": k["publicKey"], "displaySecretKey": k["displaySecretKey"],
					"note": k["note"], "expiresAt": shapeOf(k["expiresAt"]), "lastUsedAt": shapeOf(k["lastUsedAt"]), "createdAt": shapeOf(k["createdAt"])}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("key A as listed (-want +got):\n%s", diff)
				}
			}
			if !found {
				t.Errorf("key A is not listed: %s", r.raw)
			}
		},
	},
	{
		name: "an admin deletes a key, which stops working at once",
		setup: func(t *testing.T, e *env, v vars) {
			id, pk, sk := e.newKey(t, e.a.orgID)
			v["key"], v["basic"] = id, basicAuth(pk, sk)
			expectStatus(t, e, 200, "GET", "/scim/directories", v["basic"])
		},
		method: "DELETE", path: "/api/admin/organizations/{orgA}/apiKeys/{key}", auth: "Bearer {admin}",
		status: 200, shape: deletedShape, want: map[string]any{"success": true},
		audit: &auditWant{org: "{orgA}", actorType: "admin_key", actorID: "admin", action: "api_key.deleted", target: "{key}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/scim/directories", v["basic"])
			expectStatus(t, e, 404, "DELETE", "/api/admin/organizations/"+v["orgA"]+"/apiKeys/"+v["key"], "Bearer "+e.adminKey)
		},
	},
	{
		name:   "an admin cannot delete a key through another organization",
		method: "DELETE", path: "/api/admin/organizations/{orgB}/apiKeys/{keyA}", auth: "Bearer {admin}",
		status: 404, code: "not_found",
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/scim/directories", v["basicA"])
		},
	},
	{
		name:   "reading an unknown organization is 404",
		method: "GET", path: "/api/admin/organizations/" + unknownID, auth: "Bearer {admin}",
		status: 404, code: "not_found",
	},
	{
		name:   "renaming an unknown organization is 404",
		method: "PUT", path: "/api/admin/organizations/" + unknownID, auth: "Bearer {admin}", body: `{"name":"Ghost"}`,
		status: 404, code: "not_found",
	},
	{
		name:   "deleting an unknown organization is 404",
		method: "DELETE", path: "/api/admin/organizations/" + unknownID, auth: "Bearer {admin}",
		status: 404, code: "not_found",
	},
	{
		name:   "listing the keys of an unknown organization is 404",
		method: "GET", path: "/api/admin/organizations/" + unknownID + "/apiKeys", auth: "Bearer {admin}",
		status: 404, code: "not_found",
	},
	{
		name:   "creating a key for an unknown organization is 404",
		method: "POST", path: "/api/admin/organizations/" + unknownID + "/apiKeys", auth: "Bearer {admin}", body: `{}`,
		status: 404, code: "not_found",
	},
	{
		name:   "a wrong admin key is 401",
		method: "GET", path: "/api/admin/organizations", auth: "Bearer not-the-admin-key",
		status: 401, code: "unauthenticated",
		then: func(t *testing.T, e *env, v vars, r reply) {
			got := strings.Join(r.res.Header.Values(wwwAuthHdr), "; ")
			if !strings.Contains(got, "Bearer") {
				t.Errorf("%s %q does not offer Bearer", wwwAuthHdr, got)
			}
		},
	},
	{
		name:   "the admin API without credentials is 401",
		method: "GET", path: "/api/admin/organizations",
		status: 401, code: "unauthenticated",
	},
	{
		name:   "an org key as Basic credentials on the admin API is 401",
		method: "GET", path: "/api/admin/organizations", auth: "{basicA}",
		status: 401, code: "unauthenticated",
	},
	{
		name:   "a directory token on the admin API is 401",
		method: "GET", path: "/api/admin/organizations", auth: "Bearer {tokenA}",
		status: 401, code: "unauthenticated",
	},
	{
		name:   "the admin key on the directories API is 401",
		method: "GET", path: "/scim/directories", auth: "Bearer {admin}",
		status: 401, code: "unauthenticated",
	},
	{
		name:   "a body that is not JSON is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":`,
		status: 400, code: "invalid",
	},
	{
		name:   "a body with data after the JSON object is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":"A"} {"name":"B"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a name of the wrong JSON type is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":42}`,
		status: 400, code: "invalid",
	},
	{
		name:   "an empty body is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}",
		status: 400, code: "invalid",
	},
	{
		name:   "an empty name is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":"   "}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a name with a control character is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":"Ac\u0007me"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a name longer than 200 characters is 400",
		method: "POST", path: "/api/admin/organizations", auth: "Bearer {admin}", body: `{"name":"` + strings.Repeat("n", 201) + `"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a rename to a name with a control character is 400 and changes nothing",
		method: "PUT", path: "/api/admin/organizations/{orgA}", auth: "Bearer {admin}", body: `{"name":"Acme\nCorp"}`,
		status: 400, code: "invalid",
		then: func(t *testing.T, e *env, v vars, r reply) {
			if got := e.json(t, 200, "GET", "/api/admin/organizations/"+v["orgA"], "Bearer "+e.adminKey, ""); got["name"] != "Acme" {
				t.Errorf("name after a refused rename = %q, want Acme", got["name"])
			}
		},
	},
	{
		name:   "a listing limit of zero is 400",
		method: "GET", path: "/api/admin/organizations?limit=0", auth: "Bearer {admin}",
		status: 400, code: "invalid",
	},
	{
		name:   "a listing limit that is not a number is 400",
		method: "GET", path: "/api/admin/organizations?limit=ten", auth: "Bearer {admin}",
		status: 400, code: "invalid",
	},
	{
		name:   "a key that would already have expired is 400",
		method: "POST", path: "/api/admin/organizations/{orgA}/apiKeys", auth: "Bearer {admin}", body: `{"expiresAt":"2001-01-01T00:00:00Z"}`,
		status: 400, code: "invalid",
	},
}

// snapshotB keeps org B's own view of its directory, for checking that org A changed nothing.
func snapshotB(t *testing.T, e *env, v vars) {
	_, raw := e.do(t, "GET", "/scim/directories/"+v["dirB"], v["basicB"], "")
	v["snapshot"] = string(raw)
}

// unchangedB checks org B's directory against its snapshot and that its token still works.
func unchangedB(t *testing.T, e *env, v vars, _ reply) {
	t.Helper()
	now := e.json(t, 200, "GET", "/scim/directories/"+v["dirB"], v["basicB"], "")
	if diff := cmp.Diff(decodeObject(t, []byte(v["snapshot"])), now); diff != "" {
		t.Errorf("org B's directory changed (-before +after):\n%s", diff)
	}
	expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+v["tokenB"])
}

// newDirectoryOfA makes a fresh directory of org A, named {dir} with token {token}.
func newDirectoryOfA(t *testing.T, e *env, v vars) {
	v["dir"], v["token"] = e.newDirectory(t, e.a.orgID, "Okta")
}

var directoryScenarios = []scenario{
	{
		name:   "an org key creates a directory and sees its token once",
		method: "POST", path: "/scim/directories", auth: "{basicA}", body: `{"name":"Entra ID","defaultRole":"member"}`,
		status: 201, shape: directoryCreatedShape,
		want:  map[string]any{"orgId": "{orgA}", "name": "Entra ID", "scimBaseUrl": testBaseURL + "/scim/v2"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "directory.created", target: "{body.id}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			token := v["body.token"]
			if !strings.HasPrefix(token, auth.TokenPrefix) {
				t.Fatalf("token %q lacks the scim_ prefix", token)
			}
			exp, _ := time.Parse(time.RFC3339Nano, v["body.tokenExpiresAt"])
			if d := time.Until(exp) - roster.DefaultTokenTTL; d > time.Minute || d < -time.Minute {
				t.Errorf("tokenExpiresAt %s is not a year from now", exp)
			}
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+token)
			res, raw := e.do(t, "GET", "/scim/directories/"+v["body.id"], v["basicA"], "")
			got := decodeObject(t, raw)
			if res.StatusCode != 200 || bytes.Contains(raw, []byte(token)) {
				t.Fatalf("reading the directory answered %d: %s", res.StatusCode, raw)
			}
			if diff := cmp.Diff(directoryShape, shapeOf(got)); diff != "" {
				t.Errorf("directory shape (-want +got):\n%s", diff)
			}
			want := map[string]any{"defaultRole": "MEMBER", "enabled": true, "isDefault": false,
				"tokenPrefix": auth.TokenDisplayPrefix(token), "tokenExpiresAt": v["body.tokenExpiresAt"]}
			for k := range want {
				if got[k] != want[k] {
					t.Errorf("%s = %v, want %v", k, got[k], want[k])
				}
			}
		},
	},
	{
		name:   "a directory cannot provision owners",
		method: "POST", path: "/scim/directories", auth: "{basicA}", body: `{"name":"Rogue","defaultRole":"OWNER"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "an unknown default role is 400",
		method: "POST", path: "/scim/directories", auth: "{basicA}", body: `{"name":"Rogue","defaultRole":"SUPERUSER"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a directory without a name is 400",
		method: "POST", path: "/scim/directories", auth: "{basicA}", body: `{}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a directory name with a control character is 400",
		method: "POST", path: "/scim/directories", auth: "{basicA}", body: `{"name":"Ok\u001bta"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "the directory list shows token expiry and never a token",
		method: "GET", path: "/scim/directories", auth: "{basicA}",
		status: 200,
		then: func(t *testing.T, e *env, v vars, r reply) {
			if bytes.Contains(r.raw, []byte(v["tokenA"])) || bytes.Contains(r.raw, []byte(`"token"`)) {
				t.Fatalf("the directory list shows a token: %s", r.raw)
			}
			found := false
			for _, d := range r.body["directories"].([]any) {
				d := d.(map[string]any)
				if d["orgId"] != v["orgA"] || d["id"] == v["dirB"] {
					t.Errorf("org A's list shows %v of org %v", d["id"], d["orgId"])
				}
				if d["id"] != v["dirA"] {
					continue
				}
				found = true
				if diff := cmp.Diff(directoryShape, shapeOf(d)); diff != "" {
					t.Errorf("listed directory shape (-want +got):\n%s", diff)
				}
				if d["tokenPrefix"] != auth.TokenDisplayPrefix(v["tokenA"]) {
					t.Errorf("tokenPrefix %v, want %s", d["tokenPrefix"], auth.TokenDisplayPrefix(v["tokenA"]))
				}
			}
			if !found {
				t.Errorf("directory A is not listed: %s", r.raw)
			}
		},
	},
	{
		name:   "PATCH renames a directory, disables it and changes its default role",
		setup:  newDirectoryOfA,
		method: "PATCH", path: "/scim/directories/{dir}", auth: "{basicA}", body: `{"name":"Okta (EU)","enabled":false,"defaultRole":"viewer"}`,
		status: 200, shape: directoryShape,
		want:  map[string]any{"id": "{dir}", "name": "Okta (EU)", "enabled": false, "defaultRole": "VIEWER"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "directory.updated", target: "{dir}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/scim/v2/Users", "Bearer "+v["token"])
			got := e.json(t, 200, "PATCH", "/scim/directories/"+v["dir"], v["basicA"], `{"enabled":true}`)
			if got["name"] != "Okta (EU)" || got["defaultRole"] != "VIEWER" || got["enabled"] != true {
				t.Errorf("a PATCH of enabled alone changed other fields: %v", got)
			}
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+v["token"])
		},
	},
	{
		name:   "PATCH to an OWNER default role is 400 and changes nothing",
		setup:  newDirectoryOfA,
		method: "PATCH", path: "/scim/directories/{dir}", auth: "{basicA}", body: `{"name":"Renamed","defaultRole":"OWNER"}`,
		status: 400, code: "invalid",
		then: func(t *testing.T, e *env, v vars, r reply) {
			got := e.json(t, 200, "GET", "/scim/directories/"+v["dir"], v["basicA"], "")
			if got["defaultRole"] != "NONE" || got["name"] != "Okta" {
				t.Errorf("a refused PATCH changed the directory: %v", got)
			}
		},
	},
	{
		name:   "PATCH with an empty name is 400",
		setup:  newDirectoryOfA,
		method: "PATCH", path: "/scim/directories/{dir}", auth: "{basicA}", body: `{"name":""}`,
		status: 400, code: "invalid",
	},
	{
		name:   "PATCH with enabled of the wrong JSON type is 400",
		setup:  newDirectoryOfA,
		method: "PATCH", path: "/scim/directories/{dir}", auth: "{basicA}", body: `{"enabled":"no"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "PATCH of an unknown directory is 404",
		method: "PATCH", path: "/scim/directories/" + unknownID, auth: "{basicA}", body: `{"enabled":false}`,
		status: 404, code: "not_found",
	},
	{
		name:   "regenerating a token without a body revokes the old one at once",
		setup:  newDirectoryOfA,
		method: "POST", path: "/scim/directories/{dir}/regenerate-token", auth: "{basicA}",
		status: 200, shape: tokenShape, want: map[string]any{"id": "{dir}"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "directory.token_regenerated", target: "{dir}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			if v["body.token"] == v["token"] || !strings.HasPrefix(v["body.token"], auth.TokenPrefix) {
				t.Fatalf("new token %q", v["body.token"])
			}
			expectStatus(t, e, 401, "GET", "/scim/v2/Users", "Bearer "+v["token"])
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+v["body.token"])
			got := e.json(t, 200, "GET", "/scim/directories/"+v["dir"], v["basicA"], "")
			if got["tokenPrefix"] != auth.TokenDisplayPrefix(v["body.token"]) || got["tokenExpiresAt"] != v["body.tokenExpiresAt"] {
				t.Errorf("the directory shows token %v expiring %v, want the new one", got["tokenPrefix"], got["tokenExpiresAt"])
			}
		},
	},
	{
		name:   "regenerating a token with a grace period keeps both tokens working",
		setup:  newDirectoryOfA,
		method: "POST", path: "/scim/directories/{dir}/regenerate-token", auth: "{basicA}", body: `{"graceSeconds":3600}`,
		status: 200, shape: tokenShape, want: map[string]any{"id": "{dir}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+v["token"])
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+v["body.token"])
		},
	},
	{
		name:   "a negative grace period is 400 and the old token keeps working",
		setup:  newDirectoryOfA,
		method: "POST", path: "/scim/directories/{dir}/regenerate-token", auth: "{basicA}", body: `{"graceSeconds":-1}`,
		status: 400, code: "invalid",
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+v["token"])
		},
	},
	{
		name:   "a grace period longer than thirty days is 400",
		setup:  newDirectoryOfA,
		method: "POST", path: "/scim/directories/{dir}/regenerate-token", auth: "{basicA}", body: `{"graceSeconds":2592001}`,
		status: 400, code: "invalid",
	},
	{
		name:   "org A's key cannot read org B's directory",
		setup:  snapshotB,
		method: "GET", path: "/scim/directories/{dirB}", auth: "{basicA}",
		status: 404, code: "not_found", then: unchangedB,
	},
	{
		name:   "org A's key cannot change org B's directory",
		setup:  snapshotB,
		method: "PATCH", path: "/scim/directories/{dirB}", auth: "{basicA}", body: `{"name":"Hijacked","enabled":false}`,
		status: 404, code: "not_found", then: unchangedB,
	},
	{
		name:   "org A's key cannot delete org B's directory",
		setup:  snapshotB,
		method: "DELETE", path: "/scim/directories/{dirB}", auth: "{basicA}",
		status: 404, code: "not_found", then: unchangedB,
	},
	{
		name:   "org A's key cannot regenerate org B's token",
		setup:  snapshotB,
		method: "POST", path: "/scim/directories/{dirB}/regenerate-token", auth: "{basicA}",
		status: 404, code: "not_found", then: unchangedB,
	},
	{
		name:   "org A's key cannot read org B's request log",
		method: "GET", path: "/scim/directories/{dirB}/requests", auth: "{basicA}",
		status: 404, code: "not_found",
	},
	{
		name:   "a directory token on the directories API is 401",
		method: "GET", path: "/scim/directories", auth: "Bearer {tokenA}",
		status: 401, code: "unauthenticated",
	},
	{
		name:   "the directories API without credentials is 401",
		method: "POST", path: "/scim/directories", body: `{"name":"Anonymous"}`,
		status: 401, code: "unauthenticated",
	},
	{
		name:   "deleting a directory refuses its token from then on",
		setup:  newDirectoryOfA,
		method: "DELETE", path: "/scim/directories/{dir}", auth: "{basicA}",
		status: 200, shape: deletedShape, want: map[string]any{"success": true},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "directory.deleted", target: "{dir}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/scim/v2/Users", "Bearer "+v["token"])
			expectStatus(t, e, 404, "GET", "/scim/directories/"+v["dir"], v["basicA"])
			expectStatus(t, e, 404, "DELETE", "/scim/directories/"+v["dir"], v["basicA"])
		},
	},
}

var (
	scimListShape = map[string]any{"schemas": []any{"string"}, "totalResults": "number", "startIndex": "number",
		"itemsPerPage": "number", "Resources": []any{}}
	emptyUserList = map[string]any{"schemas": []any{listSchema}, "totalResults": float64(0)}
	spcWant       = map[string]any{"schemas": []any{spcSchema}}
)

var scimAuthScenarios = []scenario{
	{
		name:   "a directory token lists its users",
		method: "GET", path: "/scim/v2/Users", auth: "Bearer {tokenA}",
		status: 200, shape: scimListShape, want: emptyUserList,
	},
	{
		name: "an org key acts on the organization's default directory, made on first use",
		setup: func(t *testing.T, e *env, v vars) {
			tn := e.newTenant(t, "Hooli")
			v["org"], v["key"], v["basic"] = tn.orgID, tn.keyID, basicAuth(tn.pk, tn.sk)
		},
		method: "GET", path: "/scim/v2/Users", auth: "{basic}",
		status: 200, shape: scimListShape, want: emptyUserList,
		audit: &auditWant{org: "{org}", actorType: "org_key", actorID: "{key}", action: "directory.created"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/scim/v2/Users", v["basic"])
			expectStatus(t, e, 200, "GET", "/api/public/scim/Groups", v["basic"])
			dirs := e.json(t, 200, "GET", "/scim/directories", v["basic"], "")["directories"].([]any)
			var defaults []any
			for _, d := range dirs {
				if d := d.(map[string]any); d["isDefault"] == true {
					defaults = append(defaults, map[string]any{"name": d["name"], "enabled": d["enabled"], "tokenExpiresAt": d["tokenExpiresAt"]})
				}
			}
			want := []any{map[string]any{"name": "Default directory", "enabled": true, "tokenExpiresAt": nil}}
			if diff := cmp.Diff(want, defaults); diff != "" {
				t.Errorf("default directories after three requests (-want +got):\n%s", diff)
			}
		},
	},
	{
		name:   "an org key works on the ABV base path too",
		method: "GET", path: "/api/public/scim/Users", auth: "{basicA}",
		status: 200, shape: scimListShape, want: emptyUserList,
	},
	{
		name: "a disabled directory's token is 401",
		setup: func(t *testing.T, e *env, v vars) {
			newDirectoryOfA(t, e, v)
			off := false
			if _, err := e.svc.UpdateDirectory(context.Background(), cli, e.a.orgID, v["dir"], auth.DirectoryPatch{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		},
		method: "GET", path: "/scim/v2/Users", auth: "Bearer {token}",
		status: 401,
	},
	{
		name: "an org key whose default directory is disabled is 401",
		setup: func(t *testing.T, e *env, v vars) {
			tn := e.newTenant(t, "Pied Piper")
			v["basic"] = basicAuth(tn.pk, tn.sk)
			d, err := e.svc.DefaultDirectory(context.Background(), cli, tn.orgID)
			if err != nil {
				t.Fatal(err)
			}
			off := false
			if _, err := e.svc.UpdateDirectory(context.Background(), cli, tn.orgID, d.ID, auth.DirectoryPatch{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		},
		method: "GET", path: "/scim/v2/Users", auth: "{basic}",
		status: 401,
	},
	{
		name:   "no credentials is 401",
		method: "GET", path: "/scim/v2/Users",
		status: 401,
	},
	{
		name:   "an empty bearer token is 401",
		method: "GET", path: "/scim/v2/Users", auth: "Bearer ",
		status: 401,
	},
	{
		name:   "Basic credentials that are not base64 are 401",
		method: "GET", path: "/scim/v2/Users", auth: "Basic %%%not-base64",
		status: 401,
	},
	{
		name:   "Basic credentials without a colon are 401",
		method: "GET", path: "/scim/v2/Users", auth: "Basic cGstb3JnLW5vY29sb24=",
		status: 401,
	},
	{
		name:   "an unsupported authorization scheme is 401",
		method: "GET", path: "/scim/v2/Users", auth: `Digest username="okta"`,
		status: 401,
	},
	{
		name:   "a token without the scim_ prefix is 401",
		method: "GET", path: "/scim/v2/Users", auth: "Bearer hunter2",
		status: 401,
	},
	{
		name:   "an unknown token is 401",
		setup:  func(t *testing.T, e *env, v vars) { v["token"] = auth.NewSecret(auth.TokenPrefix) },
		method: "GET", path: "/scim/v2/Users", auth: "Bearer {token}",
		status: 401,
	},
	{
		name: "an expired token is 401",
		setup: func(t *testing.T, e *env, v vars) {
			past := auth.NewService(e.st, auth.Config{Now: pastClock(2 * roster.DefaultTokenTTL)})
			_, token, err := past.CreateDirectory(context.Background(), cli, e.a.orgID, "Lapsed", roster.RoleNone)
			if err != nil {
				t.Fatal(err)
			}
			v["token"] = token
		},
		method: "GET", path: "/scim/v2/Users", auth: "Bearer {token}",
		status: 401,
	},
	{
		name: "a revoked token is 401",
		setup: func(t *testing.T, e *env, v vars) {
			newDirectoryOfA(t, e, v)
			if _, _, err := e.svc.RegenerateToken(context.Background(), cli, e.a.orgID, v["dir"], 0); err != nil {
				t.Fatal(err)
			}
		},
		method: "GET", path: "/scim/v2/Users", auth: "Bearer {token}",
		status: 401,
	},
	{
		name: "an unknown org key is 401",
		setup: func(t *testing.T, e *env, v vars) {
			v["basic"] = basicAuth(auth.NewSecret("pk-org-"), auth.NewSecret("sk-org-"))
		},
		method: "GET", path: "/scim/v2/Users", auth: "{basic}",
		status: 401,
	},
	{
		name:   "an org key with the wrong secret is 401",
		setup:  func(t *testing.T, e *env, v vars) { v["basic"] = basicAuth(e.a.pk, auth.NewSecret("sk-org-")) },
		method: "GET", path: "/scim/v2/Users", auth: "{basic}",
		status: 401,
	},
	{
		name: "an expired org key is 401",
		setup: func(t *testing.T, e *env, v vars) {
			past := auth.NewService(e.st, auth.Config{Now: pastClock(24 * time.Hour)})
			expired := time.Now().Add(-time.Hour)
			key, sk, err := past.CreateOrgKey(context.Background(), cli, e.a.orgID, "lapsed", &expired)
			if err != nil {
				t.Fatal(err)
			}
			v["basic"] = basicAuth(key.PublicKey, sk)
		},
		method: "GET", path: "/scim/v2/Users", auth: "{basic}",
		status: 401,
	},
	{
		name:   "ServiceProviderConfig answers without credentials",
		method: "GET", path: "/scim/v2/ServiceProviderConfig",
		status: 200, want: spcWant,
	},
	{
		name:   "ServiceProviderConfig answers a valid token",
		method: "GET", path: "/scim/v2/ServiceProviderConfig", auth: "Bearer {tokenA}",
		status: 200, want: spcWant,
	},
	{
		name:   "ServiceProviderConfig refuses a bad token",
		setup:  func(t *testing.T, e *env, v vars) { v["token"] = auth.NewSecret(auth.TokenPrefix) },
		method: "GET", path: "/scim/v2/ServiceProviderConfig", auth: "Bearer {token}",
		status: 401,
	},
	{
		name:   "Schemas refuses a bad org key",
		method: "GET", path: "/scim/v2/Schemas", auth: "Basic cGstb3JnLXg6c2stb3JnLXk=",
		status: 401,
	},
	{
		name:   "a lower-case resource segment is matched",
		method: "GET", path: "/scim/v2/users", auth: "Bearer {tokenA}",
		status: 200, shape: scimListShape, want: emptyUserList,
	},
	{
		name:   "a trailing slash is accepted",
		method: "GET", path: "/scim/v2/Users/", auth: "Bearer {tokenA}",
		status: 200, shape: scimListShape, want: emptyUserList,
	},
	{
		name:   "an upper-case segment with a trailing slash is matched",
		method: "GET", path: "/scim/v2/USERS/", auth: "Bearer {tokenA}",
		status: 200, shape: scimListShape, want: emptyUserList,
	},
	{
		name:   "serviceConfiguration is an alias of ServiceProviderConfig",
		method: "GET", path: "/scim/v2/serviceConfiguration",
		status: 200, want: spcWant,
	},
	{
		name:   "the ABV base path answers a directory token",
		method: "GET", path: "/api/public/scim/Users", auth: "Bearer {tokenA}",
		status: 200, shape: scimListShape, want: emptyUserList,
	},
	{
		name:   "the ABV base path matches segments case-insensitively",
		method: "GET", path: "/api/public/scim/serviceproviderconfig/",
		status: 200, want: spcWant,
	},
}

func TestConcurrentFirstUsesOfAnOrgKeyMakeOneDefaultDirectory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), auth.Config{}, nil)
			basic := basicAuth(e.a.pk, e.a.sk)
			const n = 8
			codes := make(chan int, n)
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("GET", e.srv.URL+"/scim/v2/Users", nil)
					req.Header.Set("Authorization", basic)
					res, err := e.srv.Client().Do(req)
					if err != nil {
						codes <- 0
						return
					}
					res.Body.Close()
					codes <- res.StatusCode
				}()
			}
			wg.Wait()
			close(codes)
			for c := range codes {
				if c != 200 {
					t.Errorf("a concurrent first use answered %d, want 200", c)
				}
			}
			defaults := 0
			for _, d := range e.json(t, 200, "GET", "/scim/directories", basic, "")["directories"].([]any) {
				if d.(map[string]any)["isDefault"] == true {
					defaults++
				}
			}
			if defaults != 1 {
				t.Errorf("%d default directories, want 1", defaults)
			}
		})
	}
}
