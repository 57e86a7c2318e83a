package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// The walkthrough of ../shared/seeds/abv-org-api-and-scim.txt, end to end against `roster
// serve`, in the order an enterprise admin follows it: an organization-scoped key, projects,
// project keys for pipelines and their rotation, memberships with roles (one and in bulk), an
// access audit, Okta-style SCIM provisioning with the org key and a roles attribute,
// deactivation, and the troubleshooting answers (wrong key type, revoked keys).
func TestTheABVWalkthroughEndToEnd(t *testing.T) {
	const adminKey = "admin-key-for-the-abv-walkthrough-0123"
	backends := []struct {
		name string
		env  func(t *testing.T) func(string) string
	}{
		{"sqlite", func(t *testing.T) func(string) string {
			return env("ROSTER_DATABASE", filepath.Join(t.TempDir(), "roster.db"), "ROSTER_ADMIN_API_KEY", adminKey)
		}},
		{"postgres", func(t *testing.T) func(string) string {
			dsn := sqltest.PostgresDSN(t)
			secret, err := keyring.Generate()
			if err != nil {
				t.Fatal(err)
			}
			return env("ROSTER_DATABASE", dsn, "ROSTER_SECRET_KEY", secret, "ROSTER_ADMIN_API_KEY", adminKey)
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			org := cliJSON(t, e, "org", "create", "--name", "ABV Enterprise")
			orgID := org["id"].(string)
			key := cliJSON(t, e, "org", "key", "create", "--org", orgID, "--note", "automation")
			orgKey := basic(key["publicKey"].(string), key["secretKey"].(string))
			srv := serve(t, e)
			api := srv.url + "/api/public"
			must := func(want int, method, path, authz string, body any) map[string]any {
				t.Helper()
				code, got := call(t, method, path, authz, body)
				if code != want {
					t.Fatalf("%s %s = %d %v, want %d", method, path, code, got, want)
				}
				return got
			}

			// "Create organization-scoped API key … Authenticate with Basic Auth: Username: Public
			// key (pk-org-...), Password: Secret key (sk-org-...)".
			if !strings.HasPrefix(key["publicKey"].(string), "pk-org-") || !strings.HasPrefix(key["secretKey"].(string), "sk-org-") {
				t.Fatalf("org key %v", key)
			}
			keys := must(200, "GET", api+"/organizations/apiKeys", orgKey, nil)["apiKeys"].([]any)
			if len(keys) != 1 || keys[0].(map[string]any)["note"] != "automation" || keys[0].(map[string]any)["lastUsedAt"] == nil {
				t.Errorf("organization API keys %v", keys)
			}

			// "Example: Programmatically Create a Project" (infrastructure-as-code, staging and
			// production environments).
			staging := must(201, "POST", api+"/projects", orgKey, map[string]any{"name": "checkout-staging", "metadata": map[string]any{"env": "staging"}})
			prod := must(201, "POST", api+"/projects", orgKey, map[string]any{"name": "checkout-prod"})
			if staging["organization"].(map[string]any)["id"] != orgID || staging["metadata"].(map[string]any)["env"] != "staging" {
				t.Errorf("created project %v", staging)
			}
			stagingID, prodID := staging["id"].(string), prod["id"].(string)
			renamed := must(200, "PUT", api+"/projects/"+stagingID, orgKey, map[string]any{"name": "checkout-stage"})
			if renamed["name"] != "checkout-stage" || renamed["metadata"].(map[string]any)["env"] != "staging" {
				t.Errorf("renamed project %v", renamed)
			}
			if n := len(must(200, "GET", api+"/organizations/projects", orgKey, nil)["projects"].([]any)); n != 2 {
				t.Errorf("%d projects, want 2", n)
			}

			// "API Keys: Generate project-scoped API keys for applications" (CI/CD) and "Key
			// rotation: Programmatically rotate project keys on schedule".
			ci := must(201, "POST", api+"/projects/"+prodID+"/apiKeys", orgKey, map[string]any{"note": "github-actions"})
			ciKey := basic(ci["publicKey"].(string), ci["secretKey"].(string))
			own := must(200, "GET", api+"/projects", ciKey, nil)["data"].([]any)
			if len(own) != 1 || own[0].(map[string]any)["id"] != prodID {
				t.Errorf("the project key sees %v", own)
			}
			v := must(200, "POST", srv.url+"/api/admin/apiKeys/verify", "Bearer "+adminKey, map[string]any{"publicKey": ci["publicKey"], "secretKey": ci["secretKey"]})
			if v["valid"] != true || v["projectId"] != prodID || v["orgId"] != orgID {
				t.Errorf("verify %v", v)
			}
			rotated := must(201, "POST", api+"/projects/"+prodID+"/apiKeys/"+ci["id"].(string)+"/rotate", orgKey, map[string]any{"graceSeconds": 300})
			newKey := basic(rotated["publicKey"].(string), rotated["secretKey"].(string))
			must(200, "GET", api+"/projects", ciKey, nil) // still inside the grace period
			must(200, "GET", api+"/projects", newKey, nil)
			must(200, "DELETE", api+"/projects/"+prodID+"/apiKeys/"+ci["id"].(string), orgKey, nil)
			must(401, "GET", api+"/projects", ciKey, nil)

			// "Wrong key type: Using project-scoped key instead of organization-scoped key".
			must(403, "POST", api+"/projects", newKey, map[string]any{"name": "sneaky"})
			must(403, "GET", api+"/organizations/memberships", newKey, nil)
			must(404, "GET", api+"/projects/"+stagingID+"/apiKeys", newKey, nil)
			must(401, "GET", api+"/scim/Users", newKey, nil)

			// "SCIM endpoints use HTTP Basic Authentication with organization-scoped API keys";
			// "Create user … NONE by default".
			scimUser := func(email, extra string) map[string]any {
				body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": email,
					"name":   map[string]any{"givenName": strings.Split(email, "@")[0], "familyName": "Doe"},
					"emails": []any{map[string]any{"value": email, "primary": true, "type": "work"}}, "active": true}
				if extra != "" {
					body["roles"] = []any{extra}
				}
				return must(201, "POST", api+"/scim/Users", orgKey, body)
			}
			jane := scimUser("jane@abv.example", "")
			access := func(email string) map[string]any {
				return must(200, "GET", api+"/organizations/memberships/"+url.PathEscape(email), orgKey, nil)
			}
			if a := access("jane@abv.example"); a["orgRole"] != "NONE" {
				t.Errorf("a provisioned user starts at %v, want NONE", a["orgRole"])
			}
			// "Check ABV Organization Settings > Members for users with NONE role": they are listed.
			found := false
			for _, m := range must(200, "GET", api+"/organizations/memberships", orgKey, nil)["memberships"].([]any) {
				if m := m.(map[string]any); m["email"] == "jane@abv.example" && m["role"] == "NONE" && m["status"] == "active" {
					found = true
				}
			}
			if !found {
				t.Errorf("the NONE member is not listed")
			}
			// Okta's "ABV Roles" attribute (roles, a string array) with default value MEMBER.
			scimUser("john@abv.example", "MEMBER")
			if a := access("JOHN@abv.example"); a["orgRole"] != "MEMBER" {
				t.Errorf("a user pushed with roles [MEMBER] has %v", a["orgRole"])
			}

			// "Example: Assign User to Project with Role" (OWNER, ADMIN, MEMBER, VIEWER, NONE).
			janeID := access("jane@abv.example")["userId"].(string)
			johnID := access("john@abv.example")["userId"].(string)
			pm := must(200, "PUT", api+"/projects/"+prodID+"/memberships", orgKey, map[string]any{"userId": janeID, "role": "ADMIN"})
			if pm["role"] != "ADMIN" || pm["email"] != "jane@abv.example" {
				t.Errorf("project membership %v", pm)
			}

			// "Bulk role assignments: Update roles for multiple users at once".
			bulk := must(200, "POST", api+"/organizations/memberships/bulk", orgKey, map[string]any{"memberships": []any{
				map[string]any{"userId": janeID, "role": "VIEWER"},
				map[string]any{"userId": johnID, "role": "ADMIN"},
				map[string]any{"email": "contractor@abv.example", "role": "VIEWER"},
			}})
			if n := len(bulk["memberships"].([]any)); n != 3 {
				t.Errorf("bulk report of %d users", n)
			}

			// "Access audits: Programmatically review and adjust access levels".
			a := access("jane@abv.example")
			roles := map[string]any{}
			for _, p := range a["projects"].([]any) {
				p := p.(map[string]any)
				roles[p["name"].(string)] = []any{p["role"], p["inheritedFromOrgRole"]}
			}
			if a["orgRole"] != "VIEWER" || roles["checkout-prod"] == nil || roles["checkout-prod"].([]any)[0] != "ADMIN" ||
				roles["checkout-stage"] == nil || roles["checkout-stage"].([]any)[1] != true {
				t.Errorf("jane's access %v", a)
			}

			// "Deactivate Users": access ends at once, the data stays.
			must(200, "PATCH", api+"/scim/Users/"+jane["id"].(string), orgKey, map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}})
			if a := access("jane@abv.example"); a["status"] != "suspended" || a["orgRole"] != "NONE" || len(a["projects"].([]any)) != 0 {
				t.Errorf("a deactivated user's access %v", a)
			}

			// "Test deprovisioning (user removal)" and "Verify audit logs capture all operations".
			must(200, "DELETE", api+"/organizations/memberships", orgKey, map[string]any{"userId": johnID})
			must(404, "GET", api+"/organizations/memberships/john@abv.example", orgKey, nil)

			// "Revoked keys: Keys were deleted or expired".
			second := must(201, "POST", api+"/organizations/apiKeys", orgKey, map[string]any{"note": "quarterly rotation"})
			secondKey := basic(second["publicKey"].(string), second["secretKey"].(string))
			must(200, "DELETE", api+"/organizations/apiKeys/"+key["id"].(string), secondKey, nil)
			must(401, "GET", api+"/organizations/projects", orgKey, nil)
			must(200, "GET", api+"/organizations/projects", secondKey, nil)
			must(202, "DELETE", api+"/projects/"+stagingID, secondKey, nil)
		})
	}
}
