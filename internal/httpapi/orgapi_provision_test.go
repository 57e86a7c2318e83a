package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// provisioning is one organization with a directory, driven through SCIM and read back
// through the organization API.
type provisioning struct {
	e               *env
	org, basic, tok string
	dir             string
}

func newProvisioning(t *testing.T, e *env, defaultRole string) *provisioning {
	t.Helper()
	tn := e.newTenant(t, "Provisioned")
	p := &provisioning{e: e, org: tn.orgID, basic: basicAuth(tn.pk, tn.sk), tok: "Bearer " + tn.token, dir: tn.dirID}
	if defaultRole != "" {
		e.json(t, 200, "PATCH", "/scim/directories/"+p.dir, p.basic, `{"defaultRole":"`+defaultRole+`"}`)
	}
	return p
}

// user creates a SCIM user with extra JSON attributes and returns its SCIM id and member id.
func (p *provisioning) user(t *testing.T, email, extra string) (scimID, memberID string) {
	t.Helper()
	if extra != "" {
		extra = "," + extra
	}
	u := p.e.json(t, 201, "POST", "/scim/v2/Users", p.tok, `{"schemas":["`+userSchema+`"],"userName":"`+email+`","emails":[{"value":"`+email+`","primary":true}],"active":true`+extra+`}`)
	return u["id"].(string), p.access(t, email)["userId"].(string)
}

func (p *provisioning) patchUser(t *testing.T, id, ops string) {
	t.Helper()
	p.e.json(t, 200, "PATCH", "/scim/v2/Users/"+id, p.tok, `{"schemas":["`+patchSchema+`"],"Operations":[`+ops+`]}`)
}

func (p *provisioning) group(t *testing.T, name string, members ...string) string {
	t.Helper()
	var ms []string
	for _, m := range members {
		ms = append(ms, `{"value":"`+m+`"}`)
	}
	g := p.e.json(t, 201, "POST", "/scim/v2/Groups", p.tok, `{"schemas":["`+groupSchema+`"],"displayName":"`+name+`","members":[`+strings.Join(ms, ",")+`]}`)
	return g["id"].(string)
}

func (p *provisioning) patchGroup(t *testing.T, id, ops string) {
	t.Helper()
	res, raw := p.e.do(t, "PATCH", "/scim/v2/Groups/"+id, p.tok, `{"schemas":["`+patchSchema+`"],"Operations":[`+ops+`]}`)
	if res.StatusCode != 204 {
		t.Fatalf("PATCH group answered %d: %s", res.StatusCode, raw)
	}
}

func (p *provisioning) mappings(t *testing.T, body string) {
	t.Helper()
	p.e.json(t, 200, "PUT", "/scim/directories/"+p.dir+"/group-mappings", p.basic, `{"mappings":[`+body+`]}`)
}

func (p *provisioning) access(t *testing.T, email string) map[string]any {
	t.Helper()
	return p.e.json(t, 200, "GET", "/api/public/organizations/memberships/"+url.PathEscape(email), p.basic, "")
}

func (p *provisioning) orgRole(t *testing.T, email string) any { return p.access(t, email)["orgRole"] }

// projectRole is the member's effective role in project, "" when it reaches nothing there.
func (p *provisioning) projectRole(t *testing.T, email, project string) (role any, inherited any) {
	t.Helper()
	for _, x := range p.access(t, email)["projects"].([]any) {
		if x := x.(map[string]any); x["projectId"] == project {
			return x["role"], x["inheritedFromOrgRole"]
		}
	}
	return "", nil
}

func (p *provisioning) project(t *testing.T, name string) string {
	t.Helper()
	return p.e.json(t, 201, "POST", "/api/public/projects", p.basic, `{"name":"`+name+`"}`)["id"].(string)
}

func TestProvisioningIntoRolesOnEveryBackend(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), auth.Config{}, nil)

			t.Run("a user gets the directory's default role, NONE unless configured", func(t *testing.T) {
				p := newProvisioning(t, e, "")
				p.user(t, "none@example.com", "")
				if got := p.orgRole(t, "none@example.com"); got != "NONE" {
					t.Errorf("org role %v, want NONE", got)
				}
				p = newProvisioning(t, e, "VIEWER")
				p.user(t, "viewer@example.com", "")
				if got := p.orgRole(t, "viewer@example.com"); got != "VIEWER" {
					t.Errorf("org role %v, want the default VIEWER", got)
				}
			})

			t.Run("an explicit roles value overrides the default, as strings or {value} objects, never OWNER", func(t *testing.T) {
				p := newProvisioning(t, e, "VIEWER")
				for _, c := range []struct{ email, roles, want string }{
					{"admin@example.com", `"roles":["ADMIN"]`, "ADMIN"},
					{"member@example.com", `"roles":[{"value":"member"}]`, "MEMBER"},
					{"lower@example.com", `"roles":["NONE"]`, "NONE"},
					{"owner@example.com", `"roles":["OWNER"]`, "ADMIN"},
				} {
					p.user(t, c.email, c.roles)
					if got := p.orgRole(t, c.email); got != c.want {
						t.Errorf("%s with %s: org role %v, want %s", c.email, c.roles, got, c.want)
					}
				}
			})

			t.Run("an admin's change stays until the IdP next sends roles", func(t *testing.T) {
				p := newProvisioning(t, e, "MEMBER")
				id, member := p.user(t, "kept@example.com", "")
				e.json(t, 200, "PUT", "/api/public/organizations/memberships", p.basic, `{"userId":"`+member+`","role":"ADMIN"}`)
				p.patchUser(t, id, `{"op":"replace","path":"displayName","value":"Kept Person"}`)
				if got := p.orgRole(t, "kept@example.com"); got != "ADMIN" {
					t.Errorf("after an update without roles: %v, want the admin's ADMIN", got)
				}
				p.patchUser(t, id, `{"op":"replace","path":"roles","value":[{"value":"VIEWER"}]}`)
				if got := p.orgRole(t, "kept@example.com"); got != "VIEWER" {
					t.Errorf("after the IdP sent roles: %v, want VIEWER", got)
				}
			})

			t.Run("a mapped group raises its members' org role, and leaving it recomputes", func(t *testing.T) {
				p := newProvisioning(t, e, "")
				alice, _ := p.user(t, "alice@example.com", "")
				bob, _ := p.user(t, "bob@example.com", `"roles":["MEMBER"]`)
				g := p.group(t, "Admins")
				p.mappings(t, `{"groupId":"`+g+`","role":"ADMIN"}`)
				p.patchGroup(t, g, `{"op":"add","path":"members","value":[{"value":"`+alice+`"},{"value":"`+bob+`"}]}`)
				for _, email := range []string{"alice@example.com", "bob@example.com"} {
					if got := p.orgRole(t, email); got != "ADMIN" {
						t.Errorf("%s in the mapped group: %v, want ADMIN", email, got)
					}
				}
				// The change is the directory's, recorded with it.
				recs, _, err := e.st.ListAudit(context.Background(), p.org, store.AuditFilter{Action: "membership.role_changed", TargetID: p.access(t, "alice@example.com")["userId"].(string)})
				if err != nil || len(recs) == 0 || recs[0].Actor.Type != roster.ActorDirectory || recs[0].Actor.ID != p.dir {
					t.Errorf("audit of the mapped role: %+v, %v; want the directory %s as actor", recs, err, p.dir)
				}
				p.patchGroup(t, g, `{"op":"remove","path":"members[value eq \"`+alice+`\"]"}`)
				if got := p.orgRole(t, "alice@example.com"); got != "NONE" {
					t.Errorf("alice after leaving: %v, want the default NONE", got)
				}
				if got := p.orgRole(t, "bob@example.com"); got != "ADMIN" {
					t.Errorf("bob still in the group: %v, want ADMIN", got)
				}
				// A replace of the whole member list recomputes who left.
				res, raw := e.do(t, "PUT", "/scim/v2/Groups/"+g, p.tok, `{"schemas":["`+groupSchema+`"],"displayName":"Admins","members":[{"value":"`+alice+`"}]}`)
				if res.StatusCode != 200 {
					t.Fatalf("PUT group %d %s", res.StatusCode, raw)
				}
				if a, b := p.orgRole(t, "alice@example.com"), p.orgRole(t, "bob@example.com"); a != "ADMIN" || b != "MEMBER" {
					t.Errorf("after PUT: alice %v bob %v, want ADMIN and bob's explicit MEMBER", a, b)
				}
				// Deleting the group takes its mapped role away.
				if res, raw := e.do(t, "DELETE", "/scim/v2/Groups/"+g, p.tok, ""); res.StatusCode != 204 {
					t.Fatalf("DELETE group %d %s", res.StatusCode, raw)
				}
				if got := p.orgRole(t, "alice@example.com"); got != "NONE" {
					t.Errorf("alice after the group was deleted: %v, want NONE", got)
				}
			})

			t.Run("the highest of explicit roles and mapped groups wins", func(t *testing.T) {
				p := newProvisioning(t, e, "")
				id, _ := p.user(t, "carol@example.com", `"roles":["ADMIN"]`)
				g := p.group(t, "Viewers", id)
				p.mappings(t, `{"groupId":"`+g+`","role":"VIEWER"}`)
				if got := p.orgRole(t, "carol@example.com"); got != "ADMIN" {
					t.Errorf("explicit ADMIN with a VIEWER group: %v, want ADMIN", got)
				}
				p.patchUser(t, id, `{"op":"replace","path":"roles","value":["NONE"]}`)
				if got := p.orgRole(t, "carol@example.com"); got != "VIEWER" {
					t.Errorf("explicit NONE with a VIEWER group: %v, want VIEWER", got)
				}
			})

			t.Run("changing the mappings recomputes the groups' members", func(t *testing.T) {
				p := newProvisioning(t, e, "")
				id, _ := p.user(t, "dave@example.com", "")
				g := p.group(t, "Engineering", id)
				p.mappings(t, `{"groupId":"`+g+`","role":"MEMBER"}`)
				if got := p.orgRole(t, "dave@example.com"); got != "MEMBER" {
					t.Errorf("after mapping: %v, want MEMBER", got)
				}
				p.mappings(t, ``)
				if got := p.orgRole(t, "dave@example.com"); got != "NONE" {
					t.Errorf("after unmapping: %v, want NONE", got)
				}
			})

			t.Run("a group mapped to a project role gives and takes back that project membership", func(t *testing.T) {
				p := newProvisioning(t, e, "VIEWER")
				proj := p.project(t, "Data")
				id, member := p.user(t, "erin@example.com", "")
				g := p.group(t, "Data team")
				p.mappings(t, `{"groupId":"`+g+`","projectId":"`+proj+`","role":"ADMIN"}`)
				if role, inherited := p.projectRole(t, "erin@example.com", proj); role != "VIEWER" || inherited != true {
					t.Errorf("before joining: %v inherited %v, want the org role VIEWER", role, inherited)
				}
				p.patchGroup(t, g, `{"op":"add","path":"members","value":[{"value":"`+id+`"}]}`)
				if role, inherited := p.projectRole(t, "erin@example.com", proj); role != "ADMIN" || inherited != false {
					t.Errorf("in the group: %v inherited %v, want ADMIN from the mapping", role, inherited)
				}
				list := e.json(t, 200, "GET", "/api/public/projects/"+proj+"/memberships", p.basic, "")
				if got := listed(list, "memberships", "userId"); len(got) != 1 || got[0] != member {
					t.Errorf("project members %v", got)
				}
				p.patchGroup(t, g, `{"op":"remove","path":"members"}`)
				if role, inherited := p.projectRole(t, "erin@example.com", proj); role != "VIEWER" || inherited != true {
					t.Errorf("after leaving: %v inherited %v, want the org role again", role, inherited)
				}
			})

			t.Run("SCIM never demotes nor removes the last OWNER", func(t *testing.T) {
				p := newProvisioning(t, e, "")
				e.newMember(t, p.org, "boss@example.com", roster.RoleOwner)
				id, _ := p.user(t, "boss@example.com", `"roles":["VIEWER"]`) // linked, not duplicated
				if got := p.orgRole(t, "boss@example.com"); got != "OWNER" {
					t.Fatalf("linking the owner: %v, want OWNER kept", got)
				}
				p.patchUser(t, id, `{"op":"replace","path":"roles","value":["NONE"]}`)
				g := p.group(t, "Staff", id)
				p.mappings(t, `{"groupId":"`+g+`","role":"VIEWER"}`)
				if got := p.orgRole(t, "boss@example.com"); got != "OWNER" {
					t.Errorf("after roles and a mapped group: %v, want OWNER", got)
				}
				if res, raw := e.do(t, "DELETE", "/scim/v2/Users/"+id, p.tok, ""); res.StatusCode != 204 {
					t.Fatalf("DELETE user %d %s", res.StatusCode, raw)
				}
				if got := p.orgRole(t, "boss@example.com"); got != "OWNER" {
					t.Errorf("after the IdP deleted the user: %v, want the last OWNER kept", got)
				}
			})

			t.Run("deactivation suspends the member and takes its access at once; reactivation restores it", func(t *testing.T) {
				p := newProvisioning(t, e, "MEMBER")
				proj := p.project(t, "Web")
				id, member := p.user(t, "frank@example.com", "")
				e.json(t, 200, "PUT", "/api/public/projects/"+proj+"/memberships", p.basic, `{"userId":"`+member+`","role":"ADMIN"}`)
				p.patchUser(t, id, `{"op":"replace","value":{"active":false}}`)
				a := p.access(t, "frank@example.com")
				if a["status"] != "suspended" || a["orgRole"] != "NONE" || len(a["projects"].([]any)) != 0 {
					t.Errorf("a deactivated member's access: %v", a)
				}
				for _, m := range e.json(t, 200, "GET", "/api/public/organizations/memberships", p.basic, "")["memberships"].([]any) {
					if m := m.(map[string]any); m["userId"] == member && (m["status"] != "suspended" || m["role"] != "MEMBER") {
						t.Errorf("listed as %v, want suspended with its role kept", m)
					}
				}
				p.patchUser(t, id, `{"op":"replace","path":"active","value":true}`)
				if role, _ := p.projectRole(t, "frank@example.com", proj); role != "ADMIN" || p.orgRole(t, "frank@example.com") != "MEMBER" {
					t.Errorf("after reactivation: %v", p.access(t, "frank@example.com"))
				}
			})
		})
	}
}
