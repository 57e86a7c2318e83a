package scim_test

import (
	"fmt"
	"testing"
)

func TestGroupsAndTheirMembers(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		u1 := e.do("POST", "/Users", user("g1@example.com", "")).must(t, 201, "user 1").str("id")
		u2 := e.do("POST", "/Users", user("g2@example.com", "")).must(t, 201, "user 2").str("id")
		g := e.do("POST", "/Groups", map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "Engineering",
			"members":     []any{map[string]any{"value": u1}},
		}).must(t, 201, "create group")
		gid := g.str("id")
		if get(g.body, "members", 0, "value") != u1 || get(g.body, "members", 0, "type") != "User" {
			t.Fatalf("created group members = %v", get(g.body, "members"))
		}
		t.Run("a user's groups attribute is computed from memberships", func(t *testing.T) {
			u := e.do("GET", "/Users/"+u1, nil).must(t, 200, "get user")
			if get(u.body, "groups", 0, "value") != gid || get(u.body, "groups", 0, "display") != "Engineering" {
				t.Errorf("groups of a member = %v", get(u.body, "groups"))
			}
			list := e.do("GET", "/Users?filter=groups.value+eq+%22"+gid+"%22", nil).must(t, 200, "filter by group")
			if get(list.body, "totalResults") != jsonNum(1) {
				t.Errorf("users in the group: %s", list.raw)
			}
		})
		t.Run("adding a member who is already there is not an error", func(t *testing.T) {
			e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"Add","path":"members","value":[{"value":%q},{"value":%q}]}]}`, u1, u2)).must(t, 204, "add")
			members := get(e.do("GET", "/Groups/"+gid, nil).must(t, 200, "get").body, "members").([]any)
			if len(members) != 2 {
				t.Errorf("members after adding one twice: %v", members)
			}
		})
		t.Run("a member is removed by a value filter, as Okta and Entra ID send it", func(t *testing.T) {
			r := e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"remove","path":"members[value eq \"%s\"]"}]}`, u1))
			r.must(t, 204, "remove")
			members := get(e.do("GET", "/Groups/"+gid, nil).body, "members").([]any)
			if len(members) != 1 || get(members, 0, "value") != u2 {
				t.Errorf("members after removal: %v", members)
			}
		})
		t.Run("a member is removed by a listed value, as Entra ID sends it", func(t *testing.T) {
			e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"Remove","path":"members","value":[{"value":%q}]}]}`, u2)).must(t, 204, "remove")
			if m := get(e.do("GET", "/Groups/"+gid, nil).body, "members"); m != nil {
				t.Errorf("members after removal: %v", m)
			}
		})
		t.Run("a PATCH with attributes answers the group", func(t *testing.T) {
			r := e.do("PATCH", "/Groups/"+gid+"?excludedAttributes=members", `{"Operations":[{"op":"replace","path":"displayName","value":"Eng"}]}`).must(t, 200, "rename")
			if r.str("displayName") != "Eng" || r.body["members"] != nil {
				t.Errorf("PATCH answer: %s", r.raw)
			}
		})
		t.Run("groups filter by displayName and exclude members", func(t *testing.T) {
			list := e.do("GET", "/Groups?filter=displayName+eq+%22eng%22&excludedAttributes=members", nil).must(t, 200, "filter")
			if get(list.body, "totalResults") != jsonNum(1) || get(list.body, "Resources", 0, "members") != nil {
				t.Errorf("group list: %s", list.raw)
			}
		})
		t.Run("deleting a user removes it from its groups", func(t *testing.T) {
			e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"add","path":"members","value":[{"value":%q}]}]}`, u2)).must(t, 204, "add")
			e.do("DELETE", "/Users/"+u2, nil).must(t, 204, "delete user")
			if m := get(e.do("GET", "/Groups/"+gid, nil).body, "members"); m != nil {
				t.Errorf("members after the user's deletion: %v", m)
			}
		})
		e.do("DELETE", "/Groups/"+gid, nil).must(t, 204, "delete group")
		e.do("GET", "/Groups/"+gid, nil).must(t, 404, "deleted group")
	})
}
