package scim_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
)

// These tests replay the requests each identity provider sends, as their SCIM documentation
// describes them, in the order a provisioning cycle sends them.

// step is one request of a replay; ${name} in path and body is replaced by a value an
// earlier step saved.
type step struct {
	name   string
	method string
	path   string
	body   string
	status int
	save   map[string]string // name -> top-level key or "Resources.0.id"
	check  func(t *testing.T, r resp)
}

func replay(t *testing.T, e *env, steps []step) map[string]string {
	t.Helper()
	vars := map[string]string{}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "${"+k+"}", v)
			s = strings.ReplaceAll(s, url.QueryEscape("${"+k+"}"), url.QueryEscape(v))
		}
		return s
	}
	for _, s := range steps {
		var body any
		if s.body != "" {
			body = expand(s.body)
		}
		r := e.do(s.method, expand(s.path), body)
		if r.status != s.status {
			t.Fatalf("%s: %s %s answered %d, want %d: %s", s.name, s.method, expand(s.path), r.status, s.status, r.raw)
		}
		for k, key := range s.save {
			var v any = r.body
			for _, part := range strings.Split(key, ".") {
				if n, err := fmt.Sscanf(part, "%d", new(int)); err == nil && n == 1 {
					var i int
					fmt.Sscanf(part, "%d", &i)
					v = get(v, i)
				} else {
					v = get(v, part)
				}
			}
			vars[k], _ = v.(string)
		}
		if s.check != nil {
			s.check(t, r)
		}
	}
	return vars
}

func q(filter string) string { return url.QueryEscape(filter) }

func memberStatus(t *testing.T, e *env, email string) roster.MemberStatus {
	t.Helper()
	m, err := e.st.GetMemberByEmail(context.Background(), e.orgID, email)
	if err != nil {
		return roster.MemberDeleted
	}
	return m.Status
}

func TestOktaProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		vars := replay(t, e, []step{
			{name: "Okta looks the user up before creating", method: "GET",
				path: "/Users?filter=" + q(`userName eq "isabella.okta@example.com"`) + "&startIndex=1&count=100", status: 200,
				check: func(t *testing.T, r resp) {
					if get(r.body, "totalResults") != jsonNum(0) || r.body["Resources"] == nil {
						t.Errorf("an empty lookup must be a ListResponse with totalResults 0 and Resources: %s", r.raw)
					}
				}},
			{name: "Okta creates the user", method: "POST", path: "/Users", status: 201, save: map[string]string{"id": "id"}, body: `{
				"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"isabella.okta@example.com",
				"name":{"givenName":"Isabella","familyName":"Ortiz"},
				"emails":[{"primary":true,"value":"isabella.okta@example.com","type":"work"}],
				"displayName":"Isabella Ortiz","locale":"en-US","externalId":"00u1abcdEFGH","groups":[],"password":"S3cr3t!pass","active":true}`,
				check: func(t *testing.T, r resp) {
					if r.body["password"] != nil || strings.Contains(string(r.raw), "S3cr3t") {
						t.Errorf("the password came back: %s", r.raw)
					}
				}},
			{name: "Okta finds the user it created", method: "GET", path: "/Users?filter=" + q(`userName eq "isabella.okta@example.com"`) + "&startIndex=1&count=100", status: 200,
				check: func(t *testing.T, r resp) {
					if get(r.body, "totalResults") != jsonNum(1) {
						t.Errorf("lookup after create: %s", r.raw)
					}
				}},
			{name: "Okta pushes a profile update with PUT", method: "PUT", path: "/Users/${id}", status: 200, body: `{
				"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"${id}","userName":"isabella.okta@example.com",
				"name":{"givenName":"Isabella","familyName":"Ortiz-Lee"},
				"emails":[{"primary":true,"value":"isabella.okta@example.com","type":"work"}],
				"displayName":"Isabella Ortiz-Lee","externalId":"00u1abcdEFGH","active":true}`,
				check: func(t *testing.T, r resp) {
					if get(r.body, "name", "familyName") != "Ortiz-Lee" {
						t.Errorf("PUT did not update the name: %s", r.raw)
					}
				}},
			{name: "Okta deactivates with a PATCH without path", method: "PATCH", path: "/Users/${id}", status: 200, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"replace","value":{"active":false}}]}`,
				check: func(t *testing.T, r resp) {
					if r.body["active"] != false {
						t.Errorf("after deactivation: %s", r.raw)
					}
				}},
		})
		if s := memberStatus(t, e, "isabella.okta@example.com"); s != roster.MemberSuspended {
			t.Errorf("the member is %s after Okta's deactivation, want suspended", s)
		}
		replay(t, e, []step{
			{name: "Okta reactivates", method: "PATCH", path: "/Users/" + vars["id"], status: 200,
				body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`},
			{name: "Okta pushes a group", method: "POST", path: "/Groups", status: 201, save: map[string]string{"gid": "id"},
				body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta Admins","members":[]}`},
			{name: "Okta pushes membership", method: "PATCH", path: "/Groups/${gid}", status: 204, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"add","path":"members","value":[{"value":"` + vars["id"] + `","display":"isabella.okta@example.com"}]}]}`},
			{name: "Okta renames the group", method: "PATCH", path: "/Groups/${gid}", status: 204, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"replace","value":{"id":"${gid}","displayName":"Okta Administrators"}}]}`},
			{name: "Okta removes the member", method: "PATCH", path: "/Groups/${gid}", status: 204, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"remove","path":"members[value eq \"` + vars["id"] + `\"]"}]}`},
			{name: "the group shows the new name and no member", method: "GET", path: "/Groups/${gid}", status: 200,
				check: func(t *testing.T, r resp) {
					if r.str("displayName") != "Okta Administrators" || r.body["members"] != nil {
						t.Errorf("group after Okta's changes: %s", r.raw)
					}
				}},
			{name: "Okta deletes the group", method: "DELETE", path: "/Groups/${gid}", status: 204},
		})
	})
}

func TestEntraIDProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		manager := e.do("POST", "/Users", user("boss@contoso.example", "boss")).must(t, 201, "manager").str("id")
		vars := replay(t, e, []step{
			{name: "Entra ID tests the connection with a random userName", method: "GET",
				path: "/Users?filter=" + q(`userName eq "non-existent user 6e2ab4ad-bd2f-4c49-b4c7-4b1f5d9b2d3c"`), status: 200,
				check: func(t *testing.T, r resp) {
					if get(r.body, "totalResults") != jsonNum(0) {
						t.Errorf("test connection: %s", r.raw)
					}
				}},
			{name: "Entra ID queries by externalId", method: "GET", path: "/Users?filter=" + q(`externalId eq "jdoe"`), status: 200},
			{name: "Entra ID creates the user with the enterprise extension", method: "POST", path: "/Users", status: 201,
				save: map[string]string{"id": "id"}, body: `{
				"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
				"externalId":"jdoe","userName":"JDoe@Contoso.example","active":true,"displayName":"Jane Doe",
				"emails":[{"primary":true,"type":"work","value":"jdoe@contoso.example"}],
				"meta":{"resourceType":"User"},"name":{"formatted":"Jane Doe","familyName":"Doe","givenName":"Jane"},
				"roles":[],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`},
			{name: "Entra ID sends op names capitalised, booleans as strings and value-filter paths", method: "PATCH", path: "/Users/${id}", status: 200, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"emails[type eq \"work\"].value","value":"jane.doe@contoso.example"},
				{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"},
				{"op":"Replace","path":"name.familyName","value":"Doe-Smith"},
				{"op":"Add","value":{"name.givenName":"Janet","title":"Director"}},
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + manager + `"},
				{"op":"Replace","path":"active","value":"False"}]}`,
				check: func(t *testing.T, r resp) {
					want := map[string]any{
						"work email": get(r.body, "emails", 0, "value"), "mobile": get(r.body, "phoneNumbers", 0, "value"),
						"family name": get(r.body, "name", "familyName"), "given name": get(r.body, "name", "givenName"),
						"title": r.body["title"], "active": r.body["active"],
						"manager":    get(r.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value"),
						"department": get(r.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "department"),
					}
					expect := map[string]any{"work email": "jane.doe@contoso.example", "mobile": "+1 555 0100",
						"family name": "Doe-Smith", "given name": "Janet", "title": "Director", "active": false,
						"manager": manager, "department": "Sales"}
					for k, v := range expect {
						if want[k] != v {
							t.Errorf("%s = %v, want %v (%s)", k, want[k], v, r.raw)
						}
					}
				}},
			{name: "Entra ID removes the manager", method: "PATCH", path: "/Users/${id}", status: 200, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
				check: func(t *testing.T, r resp) {
					if get(r.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager") != nil {
						t.Errorf("the manager is still there: %s", r.raw)
					}
				}},
			{name: "Entra ID sets the manager as an object", method: "PATCH", path: "/Users/${id}", status: 200, body: `{
				"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"` + manager + `"}}]}`,
				check: func(t *testing.T, r resp) {
					if get(r.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value") != manager {
						t.Errorf("manager as an object: %s", r.raw)
					}
				}},
			{name: "Entra ID looks the group up by displayName without members", method: "GET",
				path: "/Groups?excludedAttributes=members&filter=" + q(`displayName eq "Sales Team"`), status: 200},
			{name: "Entra ID creates the group", method: "POST", path: "/Groups", status: 201, save: map[string]string{"gid": "id"},
				body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"8aa1a0c0","displayName":"Sales Team","meta":{"resourceType":"Group"}}`},
			{name: "Entra ID adds the member", method: "PATCH", path: "/Groups/${gid}", status: 204,
				body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"${id}"}]}]}`},
			{name: "Entra ID adds a member who is already there", method: "PATCH", path: "/Groups/${gid}", status: 204,
				body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"${id}"}]}]}`},
			{name: "Entra ID checks membership with a members filter", method: "GET",
				path: "/Groups?excludedAttributes=members&filter=" + q(`id eq "${gid}" and members[value eq "${id}"]`), status: 200,
				check: func(t *testing.T, r resp) {
					if get(r.body, "totalResults") != jsonNum(1) {
						t.Errorf("membership check: %s", r.raw)
					}
				}},
			{name: "Entra ID removes the member by value filter", method: "PATCH", path: "/Groups/${gid}", status: 204,
				body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members[value eq \"${id}\"]"}]}`},
			{name: "Entra ID deletes the user", method: "DELETE", path: "/Users/${id}", status: 204},
		})
		_ = vars
		if s := memberStatus(t, e, "jane.doe@contoso.example"); s != roster.MemberDeleted {
			t.Errorf("the member is %s after Entra ID's delete", s)
		}
	})
}

// genericCycle is the provisioning cycle the other identity providers run: filter, create,
// update, deactivate, delete; update is PUT or PATCH depending on the provider.
func genericCycle(t *testing.T, e *env, idp, createBody, update string, updateBody string, updateStatus int) {
	t.Helper()
	vars := replay(t, e, []step{
		{name: idp + " looks the user up", method: "GET", path: "/Users?filter=" + q(`userName eq "casey@`+idp+`.example"`), status: 200},
		{name: idp + " creates the user", method: "POST", path: "/Users", status: 201, save: map[string]string{"id": "id"}, body: createBody},
		{name: idp + " updates the user", method: update, path: "/Users/${id}", status: updateStatus, body: updateBody},
		{name: idp + " deactivates the user", method: "PATCH", path: "/Users/${id}", status: 200,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`},
	})
	if s := memberStatus(t, e, "casey@"+idp+".example"); s != roster.MemberSuspended {
		t.Errorf("%s: the member is %s after deactivation", idp, s)
	}
	e.do("DELETE", "/Users/"+vars["id"], nil).must(t, 204, idp+" deletes the user")
}

func TestGoogleWorkspaceProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		genericCycle(t, e, "google", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"casey@google.example",
			"name":{"givenName":"Casey","familyName":"Kim"},"emails":[{"value":"casey@google.example","type":"work","primary":true}],"active":true}`,
			"PUT", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"casey@google.example",
			"name":{"givenName":"Casey","familyName":"Kim-Park"},"emails":[{"value":"casey@google.example","type":"work","primary":true}],"active":true}`, 200)
	})
}

func TestOneLoginProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		genericCycle(t, e, "onelogin", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"userName":"casey@onelogin.example","externalId":"81234567","name":{"givenName":"Casey","familyName":"Kim"},
			"emails":[{"value":"casey@onelogin.example","primary":true}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":1001,"department":"R&D"}}`,
			"PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Lead"}]}`, 200)
	})
}

func TestJumpCloudProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		genericCycle(t, e, "jumpcloud", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"casey@jumpcloud.example",
			"externalId":"5f1e2c3a","name":{"givenName":"Casey","familyName":"Kim","formatted":"Casey Kim"},"displayName":"Casey Kim",
			"emails":[{"value":"casey@jumpcloud.example","type":"work","primary":true}],"active":true}`,
			"PUT", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"casey@jumpcloud.example","externalId":"5f1e2c3a",
			"name":{"givenName":"Casey","familyName":"Kim"},"displayName":"Casey K.","emails":[{"value":"casey@jumpcloud.example","type":"work","primary":true}],"active":true}`, 200)
	})
}

func TestPingProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		genericCycle(t, e, "ping", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"casey@ping.example",
			"name":{"givenName":"Casey","familyName":"Kim"},"emails":[{"value":"casey@ping.example","type":"work","primary":true}],
			"phoneNumbers":[{"value":"+1 555 0101","type":"work"}],"active":true}`,
			"PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","path":"name.familyName","value":"Kim-Lee"},{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0102"}]}`, 200)
	})
}

func TestRipplingProvisioningCycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		genericCycle(t, e, "rippling", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"casey@rippling.example",
			"name":{"givenName":"Casey","familyName":"Kim"},"emails":[{"value":"casey@rippling.example","type":"work","primary":true}],
			"title":"Engineer","active":true}`,
			"PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Senior Engineer"},
			{"op":"replace","value":{"displayName":"Casey Kim"}}]}`, 200)
	})
}
