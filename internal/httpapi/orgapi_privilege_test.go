package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
)

// orgRoute is one route of the organization API, with a request that succeeds for the
// credential it is meant for, and what every other kind of credential gets.
type orgRoute struct {
	method, path, body string
	// ok is the status of the intended credential (an org key of the tenant; the admin key
	// for adminOnly routes).
	ok int
	// ownProject is the status of a project key of {proj} (403: wrong scope), and
	// otherProject that of a key of another project of the same organization (404 on the
	// routes of {proj}, which it must not learn exists).
	ownProject, otherProject int
	// otherOrg is the status of org B's key (404: another tenant's ids), 0 to skip: the
	// route names nothing of org A.
	otherOrg  int
	adminOnly bool
}

var orgRoutes = []orgRoute{
	{method: "GET", path: "/api/public/projects", ok: 200, ownProject: 200, otherProject: 200},
	{method: "POST", path: "/api/public/projects", body: `{"name":"Least privilege"}`, ok: 201, ownProject: 403, otherProject: 403},
	{method: "PUT", path: "/api/public/projects/{proj}", body: `{"name":"Renamed by someone"}`, ok: 200, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "DELETE", path: "/api/public/projects/{proj}", ok: 202, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "GET", path: "/api/public/projects/{proj}/apiKeys", ok: 200, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "POST", path: "/api/public/projects/{proj}/apiKeys", body: `{"note":"ci"}`, ok: 201, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "DELETE", path: "/api/public/projects/{proj}/apiKeys/{projKey}", ok: 200, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "POST", path: "/api/public/projects/{proj}/apiKeys/{projKey}/rotate", body: `{"graceSeconds":60}`, ok: 201, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "GET", path: "/api/public/projects/{proj}/memberships", ok: 200, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "PUT", path: "/api/public/projects/{proj}/memberships", body: `{"userId":"{member}","role":"ADMIN"}`, ok: 200, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "DELETE", path: "/api/public/projects/{proj}/memberships", body: `{"userId":"{member}"}`, ok: 200, ownProject: 403, otherProject: 404, otherOrg: 404},
	{method: "GET", path: "/api/public/organizations/projects", ok: 200, ownProject: 403, otherProject: 403},
	{method: "GET", path: "/api/public/organizations/memberships", ok: 200, ownProject: 403, otherProject: 403},
	{method: "PUT", path: "/api/public/organizations/memberships", body: `{"userId":"{member}","role":"ADMIN"}`, ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "DELETE", path: "/api/public/organizations/memberships", body: `{"userId":"{member}"}`, ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "POST", path: "/api/public/organizations/memberships/bulk", body: `{"memberships":[{"userId":"{member}","role":"VIEWER"}]}`, ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "GET", path: "/api/public/organizations/memberships/{memberEmailPath}", ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "GET", path: "/api/public/organizations/apiKeys", ok: 200, ownProject: 403, otherProject: 403},
	{method: "POST", path: "/api/public/organizations/apiKeys", body: `{"note":"terraform"}`, ok: 201, ownProject: 403, otherProject: 403},
	{method: "DELETE", path: "/api/public/organizations/apiKeys/{orgKey2}", ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "GET", path: "/scim/directories/{dirA}/group-mappings", ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "PUT", path: "/scim/directories/{dirA}/group-mappings", body: `{"mappings":[]}`, ok: 200, ownProject: 403, otherProject: 403, otherOrg: 404},
	{method: "POST", path: "/api/admin/apiKeys/verify", body: `{"publicKey":"{projPK}","secretKey":"{projSK}"}`, ok: 200, adminOnly: true},
}

// TestLeastPrivilegeOfTheOrganizationAPI sends every route of the organization API with
// each kind of credential: the org key it is meant for, a project key of the project it
// names and of another project, another organization's key, a directory token, the admin key
// and none. Only the intended credential gets through; a project key never learns of
// another project.
func TestLeastPrivilegeOfTheOrganizationAPI(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), auth.Config{}, nil)
			for _, rt := range orgRoutes {
				t.Run(rt.method+" "+rt.path, func(t *testing.T) {
					creds := []struct {
						name, auth string
						want       int
					}{
						{"no credential", "", 401},
						{"a directory token", "Bearer {tokenA}", 401},
						{"a garbage project key", "Basic cGstbm9wZTpzay1ub3Bl", 401},
					}
					if rt.adminOnly {
						creds = append(creds,
							struct {
								name, auth string
								want       int
							}{"the org key", "{basicA}", 401},
							struct {
								name, auth string
								want       int
							}{"a project key", "{basicProj}", 401},
							struct {
								name, auth string
								want       int
							}{"the admin key", "Bearer {admin}", rt.ok})
					} else {
						creds = append(creds,
							struct {
								name, auth string
								want       int
							}{"the admin key", "Bearer {admin}", 401},
							struct {
								name, auth string
								want       int
							}{"a key of the project named", "{basicProj}", rt.ownProject},
							struct {
								name, auth string
								want       int
							}{"a key of another project", "{basicProj2}", rt.otherProject})
						if rt.otherOrg != 0 {
							creds = append(creds, struct {
								name, auth string
								want       int
							}{"another organization's key", "{basicB}", rt.otherOrg})
						}
						creds = append(creds, struct {
							name, auth string
							want       int
						}{"the organization's key", "{basicA}", rt.ok})
					}
					for _, c := range creds {
						t.Run(c.name, func(t *testing.T) {
							v := e.vars()
							orgFixtures(t, e, v)
							path := v.expand(rt.path)
							res, raw := e.do(t, rt.method, path, v.expand(c.auth), v.expand(rt.body))
							if res.StatusCode != c.want {
								t.Fatalf("%s %s with %s answered %d, want %d: %s", rt.method, path, c.name, res.StatusCode, c.want, raw)
							}
							if res.StatusCode >= 400 {
								if body := decodeObject(t, raw); body["memberships"] != nil {
									// A refused bulk request reports every line besides the error.
									delete(body, "memberships")
									raw, _ = json.Marshal(body)
								}
								checkError(t, res, raw, false, "")
							}
						})
					}
				})
			}
		})
	}
}
