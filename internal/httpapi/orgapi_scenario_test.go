package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The shapes of the organization API's bodies (Langfuse's declared types, DESIGN.md
// section 2).
var (
	orgRefShape            = map[string]any{"id": "string", "name": "string"}
	projectShape           = map[string]any{"id": "string", "name": "string", "metadata": map[string]any{}, "organization": orgRefShape, "createdAt": "time", "updatedAt": "time"}
	membershipShape        = map[string]any{"userId": "string", "role": "string", "email": "string", "name": "string", "status": "string"}
	membershipDeletedShape = map[string]any{"message": "string", "userId": "string"}
	keyDeletedShape        = map[string]any{"success": "bool"}
	verifiedShape          = map[string]any{"valid": "bool", "keyId": "string", "projectId": "string", "orgId": "string", "expiresAt": "null"}
	notVerified            = map[string]any{"valid": false, "keyId": nil, "projectId": nil, "orgId": nil, "expiresAt": nil}
)

func TestTheOrganizationAPIOnEveryBackend(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), auth.Config{}, nil)
			t.Run("projects", func(t *testing.T) { runScenarios(t, e, projectScenarios) })
			t.Run("API keys", func(t *testing.T) { runScenarios(t, e, keyScenarios) })
			t.Run("memberships", func(t *testing.T) { runScenarios(t, e, membershipScenarios) })
			t.Run("group mappings", func(t *testing.T) { runScenarios(t, e, mappingScenarios) })
		})
	}
}

// listed returns the ids of a listing's objects.
func listed(r map[string]any, field, id string) []string {
	var out []string
	items, _ := r[field].([]any)
	for _, x := range items {
		out = append(out, x.(map[string]any)[id].(string))
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var projectScenarios = []scenario{
	{
		name:   "an org key creates a project with metadata and reads it in both listings",
		method: "POST", path: "/api/public/projects", auth: "{basicA}", body: `{"name":"  Checkout  ","metadata":{"team":"payments","tier":1},"retention":30}`,
		status: 201,
		shape: map[string]any{"id": "string", "name": "string", "metadata": map[string]any{"team": "string", "tier": "number"},
			"organization": orgRefShape, "createdAt": "time", "updatedAt": "time"},
		want:  map[string]any{"name": "Checkout", "metadata": map[string]any{"team": "payments", "tier": float64(1)}},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project.created", target: "{body.id}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			if diff := cmp.Diff(map[string]any{"id": v["orgA"], "name": "Acme"}, r.body["organization"]); diff != "" {
				t.Errorf("organization (-want +got):\n%s", diff)
			}
			if !has(listed(e.json(t, 200, "GET", "/api/public/organizations/projects", v["basicA"], ""), "projects", "id"), v["body.id"]) {
				t.Errorf("the project is not in GET /api/public/organizations/projects")
			}
			if !has(listed(e.json(t, 200, "GET", "/api/public/projects", v["basicA"], ""), "data", "id"), v["body.id"]) {
				t.Errorf("the project is not in GET /api/public/projects for the org key")
			}
			if has(listed(e.json(t, 200, "GET", "/api/public/projects", v["basicB"], ""), "data", "id"), v["body.id"]) {
				t.Errorf("org B lists org A's project")
			}
		},
	},
	{
		name:   "a project without metadata answers metadata {}",
		method: "POST", path: "/api/public/projects", auth: "{basicA}", body: `{"name":"Bare project"}`,
		status: 201, shape: projectShape, want: map[string]any{"metadata": map[string]any{}},
	},
	{
		name: "project names are unique per organization, case-insensitively",
		setup: func(t *testing.T, e *env, v vars) {
			e.json(t, 201, "POST", "/api/public/projects", v["basicA"], `{"name":"Dup Name"}`)
		},
		method: "POST", path: "/api/public/projects", auth: "{basicA}", body: `{"name":"dup name"}`,
		status: 409, code: "conflict",
	},
	{
		name: "another organization may use the same project name",
		setup: func(t *testing.T, e *env, v vars) {
			e.json(t, 201, "POST", "/api/public/projects", v["basicA"], `{"name":"Shared Name"}`)
		},
		method: "POST", path: "/api/public/projects", auth: "{basicB}", body: `{"name":"Shared Name"}`,
		status: 201, shape: projectShape,
	},
	{
		name:   "a project without a name is 400",
		method: "POST", path: "/api/public/projects", auth: "{basicA}", body: `{"metadata":{}}`,
		status: 400, code: "invalid",
	},
	{
		name:   "metadata that is not an object is 400",
		method: "POST", path: "/api/public/projects", auth: "{basicA}", body: `{"name":"Listy","metadata":[1,2]}`,
		status: 400, code: "invalid",
	},
	{
		name: "PUT renames a project and keeps its metadata when none is sent",
		setup: func(t *testing.T, e *env, v vars) {
			v["proj"] = e.json(t, 201, "POST", "/api/public/projects", v["basicA"], `{"name":"Before rename","metadata":{"k":"v"}}`)["id"].(string)
		},
		method: "PUT", path: "/api/public/projects/{proj}", auth: "{basicA}", body: `{"name":"After rename"}`,
		status: 200, want: map[string]any{"id": "{proj}", "name": "After rename", "metadata": map[string]any{"k": "v"}},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project.updated", target: "{proj}"},
	},
	{
		name: "PUT with metadata null clears it",
		setup: func(t *testing.T, e *env, v vars) {
			v["proj"] = e.json(t, 201, "POST", "/api/public/projects", v["basicA"], `{"name":"Clear meta","metadata":{"k":"v"}}`)["id"].(string)
		},
		method: "PUT", path: "/api/public/projects/{proj}", auth: "{basicA}", body: `{"name":"Clear meta","metadata":null}`,
		status: 200, shape: projectShape, want: map[string]any{"metadata": map[string]any{}},
	},
	{
		name:   "PUT of an unknown project is 404",
		method: "PUT", path: "/api/public/projects/" + unknownID, auth: "{basicA}", body: `{"name":"Ghost"}`,
		status: 404, code: "not_found",
	},
	{
		name:   "org A cannot rename org B's project",
		setup:  orgFixtures,
		method: "PUT", path: "/api/public/projects/{projB}", auth: "{basicA}", body: `{"name":"Hijacked"}`,
		status: 404, code: "not_found",
	},
	{
		name:   "DELETE answers 202 and takes the project's keys and memberships with it",
		setup:  orgFixtures,
		method: "DELETE", path: "/api/public/projects/{proj}", auth: "{basicA}",
		status: 202, shape: deletedShape, want: map[string]any{"success": true},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project.deleted", target: "{proj}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/api/public/projects", v["basicProj"])
			expectStatus(t, e, 404, "GET", "/api/public/projects/"+v["proj"]+"/apiKeys", v["basicA"])
			expectStatus(t, e, 404, "DELETE", "/api/public/projects/"+v["proj"], v["basicA"])
			access := e.json(t, 200, "GET", "/api/public/organizations/memberships/"+v["memberEmailPath"], v["basicA"], "")
			for _, p := range access["projects"].([]any) {
				if p.(map[string]any)["projectId"] == v["proj"] {
					t.Errorf("the deleted project is still reachable: %v", access)
				}
			}
		},
	},
	{
		name:   "a project key lists exactly its own project",
		setup:  orgFixtures,
		method: "GET", path: "/api/public/projects", auth: "{basicProj}",
		status: 200, shape: map[string]any{"data": []any{projectShape}},
		then: func(t *testing.T, e *env, v vars, r reply) {
			if got := listed(r.body, "data", "id"); len(got) != 1 || got[0] != v["proj"] {
				t.Errorf("a project key listed %v, want only %s", got, v["proj"])
			}
		},
	},
	{
		name: "projects page with limit and cursor, and with page numbers",
		setup: func(t *testing.T, e *env, v vars) {
			tn := e.newTenant(t, "Paged projects")
			v["basic"] = basicAuth(tn.pk, tn.sk)
			for range 5 {
				e.newProject(t, tn.orgID, "Paged")
			}
		},
		method: "GET", path: "/api/public/organizations/projects?limit=2", auth: "{basic}",
		status: 200, shape: map[string]any{"projects": []any{projectShape, projectShape}, "cursor": "string"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			var all []string
			body := r.body
			for {
				all = append(all, listed(body, "projects", "id")...)
				c := body["cursor"].(string)
				if c == "" {
					break
				}
				body = e.json(t, 200, "GET", "/api/public/organizations/projects?limit=2&cursor="+c, v["basic"], "")
			}
			if len(all) != 5 {
				t.Errorf("paging by cursor saw %d projects, want 5: %v", len(all), all)
			}
			page3 := e.json(t, 200, "GET", "/api/public/projects?page=3&limit=2", v["basic"], "")
			want := map[string]any{"page": float64(3), "limit": float64(2), "totalItems": float64(5), "totalPages": float64(3)}
			if diff := cmp.Diff(want, page3["meta"]); diff != "" {
				t.Errorf("page meta (-want +got):\n%s", diff)
			}
			if got := listed(page3, "data", "id"); len(got) != 1 || got[0] != all[4] {
				t.Errorf("page 3 holds %v, want [%s]", got, all[4])
			}
		},
	},
	{
		name:   "a limit above 1000 is 400",
		method: "GET", path: "/api/public/organizations/projects?limit=1001", auth: "{basicA}",
		status: 400, code: "invalid",
	},
}

var keyScenarios = []scenario{
	{
		name:   "an org key creates a project key that opens its project",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys", auth: "{basicA}", body: `{"note":"ci pipeline"}`,
		status: 201, shape: keyCreatedShape, want: map[string]any{"note": "ci pipeline"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project_api_key.created", target: "{body.id}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			pk, sk := v["body.publicKey"], v["body.secretKey"]
			if !strings.HasPrefix(pk, "pk-") || strings.HasPrefix(pk, "pk-org-") || !strings.HasPrefix(sk, "sk-") {
				t.Fatalf("key pair %q / %q", pk, sk)
			}
			if want := "sk-..." + sk[len(sk)-4:]; v["body.displaySecretKey"] != want {
				t.Errorf("displaySecretKey %q, want %q", v["body.displaySecretKey"], want)
			}
			got := listed(e.json(t, 200, "GET", "/api/public/projects", basicAuth(pk, sk), ""), "data", "id")
			if len(got) != 1 || got[0] != v["proj"] {
				t.Errorf("the new key lists %v", got)
			}
			list := e.json(t, 200, "GET", "/api/public/projects/"+v["proj"]+"/apiKeys", v["basicA"], "")
			for _, k := range list["apiKeys"].([]any) {
				k := k.(map[string]any)
				if diff := cmp.Diff(keyListedKeys, keysOf(k)); diff != "" {
					t.Errorf("listed key fields (-want +got):\n%s", diff)
				}
				if k["id"] == v["body.id"] && k["lastUsedAt"] == nil {
					t.Errorf("a used key is listed without lastUsedAt: %v", k)
				}
			}
		},
	},
	{
		name: "caller-supplied keys are imported as sent",
		setup: func(t *testing.T, e *env, v vars) {
			orgFixtures(t, e, v)
			v["ipk"], v["isk"] = auth.NewSecret("pk-lf-"), auth.NewSecret("sk-lf-")
		},
		method: "POST", path: "/api/public/projects/{proj}/apiKeys", auth: "{basicA}", body: `{"publicKey":"{ipk}","secretKey":"{isk}"}`,
		status: 201, shape: keyCreatedShape, want: map[string]any{"publicKey": "{ipk}", "secretKey": "{isk}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			got := e.json(t, 200, "POST", "/api/admin/apiKeys/verify", "Bearer "+e.adminKey, `{"publicKey":"`+v["ipk"]+`","secretKey":"`+v["isk"]+`"}`)
			if got["valid"] != true || got["projectId"] != v["proj"] {
				t.Errorf("the imported key does not verify: %v", got)
			}
			e.json(t, 409, "POST", "/api/public/projects/"+v["proj2"]+"/apiKeys", v["basicA"], `{"publicKey":"`+v["ipk"]+`","secretKey":"`+v["isk"]+`"}`)
		},
	},
	{
		name:   "importing a public key without its secret is 400",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys", auth: "{basicA}", body: `{"publicKey":"pk-lf-0123456789abcdef0123"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a project key cannot be imported with an org key's prefix",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys", auth: "{basicA}",
		body:   `{"publicKey":"pk-org-0123456789abcdef0123","secretKey":"sk-org-0123456789abcdef0123"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "an expiry in the past is 400",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys", auth: "{basicA}", body: `{"expiresAt":"2001-01-01T00:00:00Z"}`,
		status: 400, code: "invalid",
	},
	{
		name: "an expired project key is 401 and does not verify",
		setup: func(t *testing.T, e *env, v vars) {
			orgFixtures(t, e, v)
			past := auth.NewService(e.st, auth.Config{Now: pastClock(24 * time.Hour)})
			at := time.Now().Add(-time.Hour)
			k, sk, err := past.CreateProjectKey(context.Background(), cli, e.a.orgID, v["proj"], auth.KeyRequest{ExpiresAt: &at})
			if err != nil {
				t.Fatal(err)
			}
			v["basicExpired"], v["epk"], v["esk"] = basicAuth(k.PublicKey, sk), k.PublicKey, sk
		},
		method: "GET", path: "/api/public/projects", auth: "{basicExpired}",
		status: 401, code: "unauthenticated",
		then: func(t *testing.T, e *env, v vars, r reply) {
			got := e.json(t, 200, "POST", "/api/admin/apiKeys/verify", "Bearer "+e.adminKey, `{"publicKey":"`+v["epk"]+`","secretKey":"`+v["esk"]+`"}`)
			if diff := cmp.Diff(notVerified, got); diff != "" {
				t.Errorf("an expired key verifies (-want +got):\n%s", diff)
			}
		},
	},
	{
		name:   "deleting a project key stops it at once",
		setup:  orgFixtures,
		method: "DELETE", path: "/api/public/projects/{proj}/apiKeys/{projKey}", auth: "{basicA}",
		status: 200, shape: keyDeletedShape, want: map[string]any{"success": true},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project_api_key.deleted", target: "{projKey}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/api/public/projects", v["basicProj"])
			expectStatus(t, e, 404, "DELETE", "/api/public/projects/"+v["proj"]+"/apiKeys/"+v["projKey"], v["basicA"])
		},
	},
	{
		name:   "a key id of another project is 404",
		setup:  orgFixtures,
		method: "DELETE", path: "/api/public/projects/{proj2}/apiKeys/{projKey}", auth: "{basicA}",
		status: 404, code: "not_found",
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/api/public/projects", v["basicProj"])
		},
	},
	{
		name:   "rotating without grace revokes the old key at once",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys/{projKey}/rotate", auth: "{basicA}",
		status: 201, shape: keyCreatedShape,
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project_api_key.expiry_set", target: "{projKey}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/api/public/projects", v["basicProj"])
			expectStatus(t, e, 200, "GET", "/api/public/projects", basicAuth(v["body.publicKey"], v["body.secretKey"]))
			if v["body.id"] == v["projKey"] {
				t.Errorf("the rotated key kept its id")
			}
		},
	},
	{
		name:   "rotating with grace keeps the old key working for the grace period",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys/{projKey}/rotate", auth: "{basicA}", body: `{"graceSeconds":3600}`,
		status: 201, shape: keyCreatedShape,
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/api/public/projects", v["basicProj"])
			expectStatus(t, e, 200, "GET", "/api/public/projects", basicAuth(v["body.publicKey"], v["body.secretKey"]))
			for _, k := range e.json(t, 200, "GET", "/api/public/projects/"+v["proj"]+"/apiKeys", v["basicA"], "")["apiKeys"].([]any) {
				if k := k.(map[string]any); k["id"] == v["projKey"] && k["expiresAt"] == nil {
					t.Errorf("the old key shows no expiry after a rotation with grace")
				}
			}
		},
	},
	{
		name:   "a negative grace period is 400",
		setup:  orgFixtures,
		method: "POST", path: "/api/public/projects/{proj}/apiKeys/{projKey}/rotate", auth: "{basicA}", body: `{"graceSeconds":-5}`,
		status: 400, code: "invalid",
	},
	{
		name:   "the host application verifies a project key pair and learns its project",
		setup:  orgFixtures,
		method: "POST", path: "/api/admin/apiKeys/verify", auth: "Bearer {admin}", body: `{"publicKey":"{projPK}","secretKey":"{projSK}"}`,
		status: 200, shape: verifiedShape, want: map[string]any{"valid": true, "keyId": "{projKey}", "projectId": "{proj}", "orgId": "{orgA}"},
	},
	{
		name:   "a wrong secret does not verify",
		setup:  orgFixtures,
		method: "POST", path: "/api/admin/apiKeys/verify", auth: "Bearer {admin}", body: `{"publicKey":"{projPK}","secretKey":"sk-wrong"}`,
		status: 200, want: notVerified,
	},
	{
		name:   "an org key pair is not a project key",
		method: "POST", path: "/api/admin/apiKeys/verify", auth: "Bearer {admin}", body: `{"publicKey":"{pkA}","secretKey":"{skA}"}`,
		status: 200, want: notVerified,
	},
	{
		name:   "verify without a secret is 400",
		method: "POST", path: "/api/admin/apiKeys/verify", auth: "Bearer {admin}", body: `{"publicKey":"pk-x"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "an org key lists the organization's keys",
		method: "GET", path: "/api/public/organizations/apiKeys", auth: "{basicA}",
		status: 200,
		then: func(t *testing.T, e *env, v vars, r reply) {
			if !has(listed(r.body, "apiKeys", "id"), v["keyA"]) {
				t.Errorf("the org key is not listed: %s", r.raw)
			}
			for _, k := range r.body["apiKeys"].([]any) {
				if diff := cmp.Diff(keyListedKeys, keysOf(k.(map[string]any))); diff != "" {
					t.Errorf("listed key fields (-want +got):\n%s", diff)
				}
			}
		},
	},
	{
		name:   "an org key creates another org key that works",
		method: "POST", path: "/api/public/organizations/apiKeys", auth: "{basicA}", body: `{"note":"terraform"}`,
		status: 201, shape: keyCreatedShape, want: map[string]any{"note": "terraform"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "api_key.created", target: "{body.id}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			if !strings.HasPrefix(v["body.publicKey"], "pk-org-") || !strings.HasPrefix(v["body.secretKey"], "sk-org-") {
				t.Fatalf("org key pair %q / %q", v["body.publicKey"], v["body.secretKey"])
			}
			expectStatus(t, e, 200, "GET", "/api/public/organizations/projects", basicAuth(v["body.publicKey"], v["body.secretKey"]))
		},
	},
	{
		name: "deleting an org key stops it at once",
		setup: func(t *testing.T, e *env, v vars) {
			var pk, sk string
			v["key"], pk, sk = e.newKey(t, e.a.orgID)
			v["basic"] = basicAuth(pk, sk)
		},
		method: "DELETE", path: "/api/public/organizations/apiKeys/{key}", auth: "{basicA}",
		status: 200, shape: keyDeletedShape, want: map[string]any{"success": true},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "api_key.deleted", target: "{key}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 401, "GET", "/api/public/organizations/projects", v["basic"])
		},
	},
	{
		name:   "org A cannot delete org B's key",
		method: "DELETE", path: "/api/public/organizations/apiKeys/{keyB}", auth: "{basicA}",
		status: 404, code: "not_found",
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 200, "GET", "/api/public/organizations/apiKeys", v["basicB"])
		},
	},
}

// memberOf makes a member of org A named {m} with role.
func memberOf(role roster.Role) func(t *testing.T, e *env, v vars) {
	return func(t *testing.T, e *env, v vars) {
		v["email"] = strings.ToLower("m" + auth.NewSecret("")[:8] + "@example.com")
		v["m"] = e.newMember(t, e.a.orgID, v["email"], role)
	}
}

// soleOwner makes an organization with one OWNER {owner} and its key {basic}.
func soleOwner(t *testing.T, e *env, v vars) {
	tn := e.newTenant(t, "Owned")
	v["org"], v["key"], v["basic"] = tn.orgID, tn.keyID, basicAuth(tn.pk, tn.sk)
	v["owner"] = e.newMember(t, tn.orgID, "owner@owned.example", roster.RoleOwner)
}

func roleOf(t *testing.T, e *env, orgID, memberID string) roster.Role {
	t.Helper()
	m, err := e.st.GetMember(context.Background(), orgID, memberID)
	if err != nil {
		t.Fatal(err)
	}
	return m.Role
}

var membershipScenarios = []scenario{
	{
		name:   "the organization's memberships are listed with role and status",
		setup:  memberOf(roster.RoleViewer),
		method: "GET", path: "/api/public/organizations/memberships", auth: "{basicA}",
		status: 200,
		then: func(t *testing.T, e *env, v vars, r reply) {
			for _, x := range r.body["memberships"].([]any) {
				x := x.(map[string]any)
				if diff := cmp.Diff(membershipShape, shapeOf(x)); diff != "" {
					t.Errorf("membership shape (-want +got):\n%s", diff)
				}
				if x["userId"] == v["m"] && (x["role"] != "VIEWER" || x["status"] != "active" || x["email"] != v["email"]) {
					t.Errorf("membership %v", x)
				}
			}
			if !has(listed(r.body, "memberships", "userId"), v["m"]) {
				t.Errorf("the member is not listed")
			}
		},
	},
	{
		name:   "PUT changes a member's org role",
		setup:  memberOf(roster.RoleViewer),
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basicA}", body: `{"userId":"{m}","role":"admin"}`,
		status: 200, shape: membershipShape, want: map[string]any{"userId": "{m}", "role": "ADMIN", "email": "{email}", "status": "active"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "membership.role_changed", target: "{m}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			if got := roleOf(t, e, e.a.orgID, v["m"]); got != roster.RoleAdmin {
				t.Errorf("stored role %s", got)
			}
		},
	},
	{
		name:   "PUT by email creates the member",
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basicA}", body: `{"email":"New.Hire@Example.com","role":"MEMBER"}`,
		status: 200, shape: membershipShape, want: map[string]any{"role": "MEMBER", "email": "new.hire@example.com"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "membership.created", target: "{body.userId}"},
	},
	{
		name:   "PUT for an unknown user is 404",
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basicA}", body: `{"userId":"` + unknownID + `","role":"MEMBER"}`,
		status: 404, code: "not_found",
	},
	{
		name:   "PUT with an unknown role is 400",
		setup:  memberOf(roster.RoleViewer),
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basicA}", body: `{"userId":"{m}","role":"SUPERUSER"}`,
		status: 400, code: "invalid",
	},
	{
		name:   "org B cannot change org A's member",
		setup:  memberOf(roster.RoleViewer),
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basicB}", body: `{"userId":"{m}","role":"ADMIN"}`,
		status: 404, code: "not_found",
		then: func(t *testing.T, e *env, v vars, r reply) {
			if got := roleOf(t, e, e.a.orgID, v["m"]); got != roster.RoleViewer {
				t.Errorf("org B changed the role to %s", got)
			}
		},
	},
	{
		name:   "DELETE with a JSON body removes the member from the organization",
		setup:  memberOf(roster.RoleMember),
		method: "DELETE", path: "/api/public/organizations/memberships", auth: "{basicA}", body: `{"userId":"{m}"}`,
		status: 200, shape: membershipDeletedShape, want: map[string]any{"userId": "{m}"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "membership.deleted", target: "{m}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			expectStatus(t, e, 404, "GET", "/api/public/organizations/memberships/"+v["email"], v["basicA"])
			if has(listed(e.json(t, 200, "GET", "/api/public/organizations/memberships", v["basicA"], ""), "memberships", "userId"), v["m"]) {
				t.Errorf("a deleted member is still listed")
			}
		},
	},
	{
		name:   "the last OWNER cannot be demoted",
		setup:  soleOwner,
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basic}", body: `{"userId":"{owner}","role":"ADMIN"}`,
		status: 409, code: "conflict",
		then: func(t *testing.T, e *env, v vars, r reply) {
			if got := roleOf(t, e, v["org"], v["owner"]); got != roster.RoleOwner {
				t.Errorf("the last owner became %s", got)
			}
		},
	},
	{
		name:   "the last OWNER cannot be removed",
		setup:  soleOwner,
		method: "DELETE", path: "/api/public/organizations/memberships", auth: "{basic}", body: `{"userId":"{owner}"}`,
		status: 409, code: "conflict",
	},
	{
		name: "an OWNER can be demoted while another remains",
		setup: func(t *testing.T, e *env, v vars) {
			soleOwner(t, e, v)
			v["owner2"] = e.newMember(t, v["org"], "second@owned.example", roster.RoleOwner)
		},
		method: "PUT", path: "/api/public/organizations/memberships", auth: "{basic}", body: `{"userId":"{owner}","role":"MEMBER"}`,
		status: 200, want: map[string]any{"role": "MEMBER"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			e.json(t, 409, "PUT", "/api/public/organizations/memberships", v["basic"], `{"userId":"`+v["owner2"]+`","role":"MEMBER"}`)
		},
	},
	{
		name:   "the access summary is found by email in any case, with inherited and explicit project roles",
		setup:  orgFixtures,
		method: "GET", path: "/api/public/organizations/memberships/{memberEmailPath}", auth: "{basicA}",
		status: 200, want: map[string]any{"userId": "{member}", "orgRole": "MEMBER", "status": "active"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			upper := e.json(t, 200, "GET", "/api/public/organizations/memberships/"+url.PathEscape(strings.ToUpper(v["memberEmail"])), v["basicA"], "")
			if upper["userId"] != v["member"] {
				t.Errorf("the upper-case email found %v", upper["userId"])
			}
			roles := map[string]any{}
			for _, p := range r.body["projects"].([]any) {
				p := p.(map[string]any)
				if diff := cmp.Diff(map[string]any{"projectId": "string", "name": "string", "role": "string", "inheritedFromOrgRole": "bool"}, shapeOf(p)); diff != "" {
					t.Errorf("project access shape (-want +got):\n%s", diff)
				}
				roles[p["projectId"].(string)] = []any{p["role"], p["inheritedFromOrgRole"]}
			}
			if diff := cmp.Diff([]any{"VIEWER", false}, roles[v["proj"]]); diff != "" {
				t.Errorf("the explicit project role (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]any{"MEMBER", true}, roles[v["proj2"]]); diff != "" {
				t.Errorf("the inherited project role (-want +got):\n%s", diff)
			}
			if _, ok := roles[v["projB"]]; ok {
				t.Errorf("another organization's project is reachable")
			}
		},
	},
	{
		name: "a suspended member reaches nothing, at once",
		setup: func(t *testing.T, e *env, v vars) {
			orgFixtures(t, e, v)
			ctx := context.Background()
			if err := e.st.Tx(ctx, cli, func(tx store.Tx) error {
				m, err := tx.GetMember(ctx, e.a.orgID, v["member"])
				if err != nil {
					return err
				}
				next := *m
				next.Status = roster.MemberSuspended
				return tx.UpdateMember(ctx, m, &next)
			}); err != nil {
				t.Fatal(err)
			}
		},
		method: "GET", path: "/api/public/organizations/memberships/{memberEmailPath}", auth: "{basicA}",
		status: 200, want: map[string]any{"orgRole": "NONE", "status": "suspended", "projects": []any{}},
	},
	{
		name:   "an unknown email is 404",
		method: "GET", path: "/api/public/organizations/memberships/nobody@example.com", auth: "{basicA}",
		status: 404, code: "not_found",
	},
	{
		name: "a bulk request changes many roles at once and reports each user",
		setup: func(t *testing.T, e *env, v vars) {
			memberOf(roster.RoleViewer)(t, e, v)
			v["m2"] = e.newMember(t, e.a.orgID, "bulk2"+auth.NewSecret("")[:6]+"@example.com", roster.RoleAdmin)
		},
		method: "POST", path: "/api/public/organizations/memberships/bulk", auth: "{basicA}",
		body:   `{"memberships":[{"userId":"{m}","role":"MEMBER"},{"email":"{email}x","role":"VIEWER"},{"userId":"{m2}","role":"ADMIN"}]}`,
		status: 200,
		audit:  &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "membership.role_changed", target: "{m}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			var results []any
			for _, x := range r.body["memberships"].([]any) {
				x := x.(map[string]any)
				results = append(results, []any{x["result"], x["role"], x["previousRole"]})
			}
			want := []any{[]any{"updated", "MEMBER", "VIEWER"}, []any{"created", "VIEWER", nil}, []any{"unchanged", "ADMIN", "ADMIN"}}
			if diff := cmp.Diff(want, results); diff != "" {
				t.Errorf("bulk results (-want +got):\n%s", diff)
			}
			if got := roleOf(t, e, e.a.orgID, v["m"]); got != roster.RoleMember {
				t.Errorf("stored role %s", got)
			}
		},
	},
	{
		name:   "an empty bulk request is 400",
		method: "POST", path: "/api/public/organizations/memberships/bulk", auth: "{basicA}", body: `{"memberships":[]}`,
		status: 400, code: "invalid",
	},
	{
		name:   "PUT gives a member a project role that overrides its org role",
		setup:  orgFixtures,
		method: "PUT", path: "/api/public/projects/{proj2}/memberships", auth: "{basicA}", body: `{"userId":"{member}","role":"ADMIN"}`,
		status: 200, shape: membershipShape, want: map[string]any{"userId": "{member}", "role": "ADMIN"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project_membership.set"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			list := e.json(t, 200, "GET", "/api/public/projects/"+v["proj2"]+"/memberships", v["basicA"], "")
			if got := listed(list, "memberships", "userId"); len(got) != 1 || got[0] != v["member"] {
				t.Errorf("project members %v", got)
			}
			for _, p := range e.json(t, 200, "GET", "/api/public/organizations/memberships/"+v["memberEmailPath"], v["basicA"], "")["projects"].([]any) {
				if p := p.(map[string]any); p["projectId"] == v["proj2"] && (p["role"] != "ADMIN" || p["inheritedFromOrgRole"] != false) {
					t.Errorf("project access %v", p)
				}
			}
		},
	},
	{
		name:   "a project membership requires an organization membership",
		setup:  orgFixtures,
		method: "PUT", path: "/api/public/projects/{proj}/memberships", auth: "{basicA}", body: `{"userId":"` + unknownID + `","role":"VIEWER"}`,
		status: 404, code: "not_found",
	},
	{
		name:   "DELETE removes a project membership",
		setup:  orgFixtures,
		method: "DELETE", path: "/api/public/projects/{proj}/memberships", auth: "{basicA}", body: `{"userId":"{member}"}`,
		status: 200, shape: membershipDeletedShape, want: map[string]any{"userId": "{member}"},
		audit: &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "project_membership.deleted"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			e.json(t, 404, "DELETE", "/api/public/projects/"+v["proj"]+"/memberships", v["basicA"], `{"userId":"`+v["member"]+`"}`)
		},
	},
}

// groupOfA makes a SCIM group {group} in org A's directory {dirA}, and {proj}.
func groupOfA(t *testing.T, e *env, v vars) {
	orgFixtures(t, e, v)
	g := e.json(t, 201, "POST", "/scim/v2/Groups", "Bearer "+v["tokenA"], `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineers `+auth.NewSecret("")[:6]+`"}`)
	v["group"] = g["id"].(string)
}

var mappingScenarios = []scenario{
	{
		name:   "a directory starts without group mappings",
		setup:  newDirectoryOfA,
		method: "GET", path: "/scim/directories/{dir}/group-mappings", auth: "{basicA}",
		status: 200, want: map[string]any{"mappings": []any{}},
	},
	{
		name:   "PUT maps a group to an org role and to a project role",
		setup:  groupOfA,
		method: "PUT", path: "/scim/directories/{dirA}/group-mappings", auth: "{basicA}",
		body:   `{"mappings":[{"groupId":"{group}","role":"MEMBER"},{"groupId":"{group}","projectId":"{proj}","role":"ADMIN"}]}`,
		status: 200,
		audit:  &auditWant{org: "{orgA}", actorType: "org_key", actorID: "{keyA}", action: "directory.group_mappings_replaced", target: "{dirA}"},
		then: func(t *testing.T, e *env, v vars, r reply) {
			ms := r.body["mappings"].([]any)
			if len(ms) != 2 {
				t.Fatalf("mappings %s", r.raw)
			}
			for _, m := range ms {
				m := m.(map[string]any)
				if m["groupId"] != v["group"] || !strings.HasPrefix(m["groupDisplayName"].(string), "Engineers") {
					t.Errorf("mapping %v", m)
				}
			}
			got := e.json(t, 200, "GET", "/scim/directories/"+v["dirA"]+"/group-mappings", v["basicA"], "")
			if diff := cmp.Diff(r.body, got); diff != "" {
				t.Errorf("read back (-put +get):\n%s", diff)
			}
		},
	},
	{
		name:   "a mapping to OWNER is 400",
		setup:  groupOfA,
		method: "PUT", path: "/scim/directories/{dirA}/group-mappings", auth: "{basicA}", body: `{"mappings":[{"groupId":"{group}","role":"OWNER"}]}`,
		status: 400, code: "invalid",
	},
	{
		name:   "a mapping of an unknown group is 404",
		setup:  newDirectoryOfA,
		method: "PUT", path: "/scim/directories/{dir}/group-mappings", auth: "{basicA}", body: `{"mappings":[{"groupId":"` + unknownID + `","role":"VIEWER"}]}`,
		status: 404, code: "not_found",
	},
	{
		name:   "a group of another directory cannot be mapped",
		setup:  func(t *testing.T, e *env, v vars) { groupOfA(t, e, v); newDirectoryOfA(t, e, v) },
		method: "PUT", path: "/scim/directories/{dir}/group-mappings", auth: "{basicA}", body: `{"mappings":[{"groupId":"{group}","role":"VIEWER"}]}`,
		status: 404, code: "not_found",
	},
	{
		name:   "a mapping to another organization's project is 404",
		setup:  groupOfA,
		method: "PUT", path: "/scim/directories/{dirA}/group-mappings", auth: "{basicA}", body: `{"mappings":[{"groupId":"{group}","projectId":"{projB}","role":"VIEWER"}]}`,
		status: 404, code: "not_found",
	},
}

// bulkFailures are refused bulk requests: their error body carries every line besides the
// error, so they are checked here rather than by the shared error-shape check.
var bulkFailures = []scenario{
	{
		name:   "a bulk request naming an unknown user changes nothing",
		setup:  memberOf(roster.RoleViewer),
		method: "POST", path: "/api/public/organizations/memberships/bulk", auth: "{basicA}",
		body:   `{"memberships":[{"userId":"{m}","role":"ADMIN"},{"userId":"` + unknownID + `","role":"ADMIN"}]}`,
		status: 404,
		then: func(t *testing.T, e *env, v vars, r reply) {
			lines := r.body["memberships"].([]any)
			if lines[0].(map[string]any)["result"] != "not_applied" || lines[1].(map[string]any)["result"] != "failed" {
				t.Errorf("bulk report %s", r.raw)
			}
			if got := roleOf(t, e, e.a.orgID, v["m"]); got != roster.RoleViewer {
				t.Errorf("a refused bulk request changed a role to %s", got)
			}
		},
	},
	{
		name:   "a bulk request with an unknown role changes nothing",
		setup:  memberOf(roster.RoleViewer),
		method: "POST", path: "/api/public/organizations/memberships/bulk", auth: "{basicA}",
		body:   `{"memberships":[{"userId":"{m}","role":"ADMIN"},{"userId":"{m}","role":"GOD"}]}`,
		status: 400,
		then: func(t *testing.T, e *env, v vars, r reply) {
			if got := roleOf(t, e, e.a.orgID, v["m"]); got != roster.RoleViewer {
				t.Errorf("a refused bulk request changed a role to %s", got)
			}
		},
	},
	{
		name:   "a bulk request demoting the last OWNER is 409",
		setup:  soleOwner,
		method: "POST", path: "/api/public/organizations/memberships/bulk", auth: "{basic}",
		body:   `{"memberships":[{"userId":"{owner}","role":"ADMIN"}]}`,
		status: 409,
	},
}

func TestRefusedBulkRequestsChangeNothingOnEveryBackend(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), auth.Config{}, nil)
			for _, sc := range bulkFailures {
				t.Run(sc.name, func(t *testing.T) {
					v := e.vars()
					sc.setup(t, e, v)
					res, raw := e.do(t, sc.method, v.expand(sc.path), v.expand(sc.auth), v.expand(sc.body))
					if res.StatusCode != sc.status {
						t.Fatalf("answered %d, want %d: %s", res.StatusCode, sc.status, raw)
					}
					body := decodeObject(t, raw)
					if diff := cmp.Diff(apiErrorShape["error"], shapeOf(body["error"])); diff != "" {
						t.Errorf("error (-want +got):\n%s", diff)
					}
					for _, l := range body["memberships"].([]any) {
						if r := l.(map[string]any)["result"]; r != "failed" && r != "not_applied" {
							t.Errorf("a line of a refused request is %v", r)
						}
					}
					if sc.then != nil {
						sc.then(t, e, v, reply{res: res, raw: raw, body: body})
					}
				})
			}
		})
	}
}
