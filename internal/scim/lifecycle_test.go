package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

func TestUserLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		created := e.do("POST", "/Users", user("Ada.Lovelace@Example.com", "00u1")).must(t, 201, "create")
		id := created.str("id")
		if loc := created.header.Get("Location"); loc != e.url+"/scim/v2/Users/"+id {
			t.Errorf("Location = %q", loc)
		}
		if created.header.Get("ETag") == "" || get(created.body, "meta", "version") != created.header.Get("ETag") {
			t.Errorf("ETag %q and meta.version %v must agree", created.header.Get("ETag"), get(created.body, "meta", "version"))
		}
		if ct := created.header.Get("Content-Type"); ct != "application/scim+json; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}

		t.Run("userName is returned exactly as sent and matched case-insensitively", func(t *testing.T) {
			if created.str("userName") != "Ada.Lovelace@Example.com" {
				t.Errorf("userName = %q", created.str("userName"))
			}
			list := e.do("GET", `/Users?filter=userName+eq+"ada.lovelace@example.com"`, nil).must(t, 200, "filter")
			if get(list.body, "totalResults") != jsonNum(1) || get(list.body, "Resources", 0, "id") != id {
				t.Errorf("case-insensitive filter: %s", list.raw)
			}
		})
		t.Run("duplicates are detected on userName regardless of case", func(t *testing.T) {
			r := e.do("POST", "/Users", user("ADA.LOVELACE@example.com", "other")).must(t, 409, "same userName")
			if r.str("scimType") != "uniqueness" || r.str("status") != "409" {
				t.Errorf("409 body = %s", r.raw)
			}
		})
		t.Run("duplicates are never detected on display fields", func(t *testing.T) {
			u := user("grace@example.com", "00u2")
			u["name"] = map[string]any{"givenName": "Ada", "familyName": "Lovelace"}
			e.do("POST", "/Users", u).must(t, 201, "same name, other userName")
		})
		t.Run("the provisioned member gets the directory's default role", func(t *testing.T) {
			m, err := e.st.GetMemberByEmail(context.Background(), e.orgID, "ada.lovelace@example.com")
			if err != nil || m.Role != roster.RoleMember || m.Status != roster.MemberActive {
				t.Fatalf("member = %+v, %v; want an active MEMBER", m, err)
			}
		})
		t.Run("a userName change is an update, never a delete", func(t *testing.T) {
			u := user("ada@newdomain.example", "00u1")
			r := e.do("PUT", "/Users/"+id, u).must(t, 200, "rename")
			if r.str("id") != id || r.str("userName") != "ada@newdomain.example" {
				t.Errorf("PUT answered %s", r.raw)
			}
			m, err := e.st.GetMemberByEmail(context.Background(), e.orgID, "ada@newdomain.example")
			if err != nil {
				t.Fatalf("the member did not follow the new email: %v", err)
			}
			if _, err := e.st.GetMemberByEmail(context.Background(), e.orgID, "ada.lovelace@example.com"); err == nil {
				t.Errorf("the old email still names a member")
			}
			_ = m
		})
		t.Run("active=false suspends the member at once and active=true restores it", func(t *testing.T) {
			e.do("PATCH", "/Users/"+id, map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}},
			}).must(t, 200, "deactivate")
			m, _ := e.st.GetMemberByEmail(context.Background(), e.orgID, "ada@newdomain.example")
			if m == nil || m.Status != roster.MemberSuspended {
				t.Fatalf("member after active=false: %+v", m)
			}
			e.do("PATCH", "/Users/"+id, map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": "True"}},
			}).must(t, 200, "reactivate")
			m, _ = e.st.GetMemberByEmail(context.Background(), e.orgID, "ada@newdomain.example")
			if m == nil || m.Status != roster.MemberActive {
				t.Fatalf("member after active=true: %+v", m)
			}
		})
		t.Run("a deactivated user pushed again is reactivated, not duplicated", func(t *testing.T) {
			e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`).must(t, 200, "deactivate")
			again := e.do("POST", "/Users", user("ada@newdomain.example", "00u1")).must(t, 201, "re-push")
			if again.str("id") != id || get(again.body, "active") != true {
				t.Errorf("re-push created %s, want the same id %s reactivated", again.raw, id)
			}
			list := e.do("GET", `/Users?filter=externalId+eq+%2200u1%22`, nil).must(t, 200, "filter")
			if get(list.body, "totalResults") != jsonNum(1) {
				t.Errorf("after re-push: %s", list.raw)
			}
		})
		t.Run("a deactivated user pushed again under a new userName is found by externalId and email", func(t *testing.T) {
			e.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"active","value":false}]}`).must(t, 200, "deactivate")
			renamed := user("ada.l@newdomain.example", "00u1")
			renamed["emails"] = []any{map[string]any{"value": "ada@newdomain.example", "primary": true}}
			again := e.do("POST", "/Users", renamed).must(t, 201, "re-push renamed")
			if again.str("id") != id || again.str("userName") != "ada.l@newdomain.example" {
				t.Errorf("re-push under a new userName created %s, want %s reactivated and renamed", again.raw, id)
			}
			e.do("PUT", "/Users/"+id, user("ada@newdomain.example", "00u1")).must(t, 200, "rename back")
		})
		t.Run("DELETE removes the member and frees the email for provisioning again", func(t *testing.T) {
			e.do("DELETE", "/Users/"+id, nil).must(t, 204, "delete")
			e.do("GET", "/Users/"+id, nil).must(t, 404, "get after delete")
			if _, err := e.st.GetMemberByEmail(context.Background(), e.orgID, "ada@newdomain.example"); err == nil {
				t.Errorf("the deleted member still holds its email")
			}
			again := e.do("POST", "/Users", user("ada@newdomain.example", "00u1")).must(t, 201, "provision again")
			if again.str("id") == id {
				t.Errorf("a deleted user came back with its old id")
			}
		})
	})
}

func jsonNum(n int) any { return jsonNumber(fmt.Sprint(n)) }

func TestETagsGuardAgainstLostUpdates(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		c := e.do("POST", "/Users", user("etag@example.com", "")).must(t, 201, "create")
		id, v1 := c.str("id"), c.header.Get("ETag")
		e.do("GET", "/Users/"+id, nil, "If-None-Match", v1).must(t, http.StatusNotModified, "If-None-Match current")
		u := user("etag@example.com", "")
		u["displayName"] = "first"
		r := e.do("PUT", "/Users/"+id, u, "If-Match", v1).must(t, 200, "PUT with current ETag")
		v2 := r.header.Get("ETag")
		if v2 == v1 {
			t.Fatalf("the ETag did not change on a write")
		}
		u["displayName"] = "second"
		e.do("PUT", "/Users/"+id, u, "If-Match", v1).must(t, 412, "PUT with a stale ETag")
		e.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`, "If-Match", v1).must(t, 412, "PATCH with a stale ETag")
		e.do("DELETE", "/Users/"+id, nil, "If-Match", v1).must(t, 412, "DELETE with a stale ETag")
		e.do("GET", "/Users/"+id, nil, "If-None-Match", v1).must(t, 200, "If-None-Match stale")
		e.do("DELETE", "/Users/"+id, nil, "If-Match", v2).must(t, 204, "DELETE with the current ETag")
	})
}

func TestTenantsAndDirectoriesAreIsolated(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/Users", user("iso@example.com", "")).must(t, 201, "create").str("id")
		other, token, err := e.svc.CreateDirectory(context.Background(), roster.SystemActor("test"), e.orgID, "Other", roster.RoleNone)
		if err != nil {
			t.Fatal(err)
		}
		_ = other
		o := *e
		o.token = token
		o.do("GET", "/Users/"+id, nil).must(t, 404, "another directory's user")
		o.do("DELETE", "/Users/"+id, nil).must(t, 404, "deleting another directory's user")
		if n := get(o.do("GET", "/Users", nil).must(t, 200, "list").body, "totalResults"); n != jsonNum(0) {
			t.Errorf("another directory lists %v users", n)
		}
		e.do("GET", "/Users/"+id, nil).must(t, 200, "the user is still there")
	})
}

func TestConcurrentPatchesOfOneUserLoseNoUpdate(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/Users", user("busy@example.com", "")).must(t, 201, "create").str("id")
		const writers = 16
		var wg sync.WaitGroup
		codes := make([]int, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
					{"op":"add","path":"phoneNumbers","value":[{"value":"+1-555-01%02d","type":"work"}]}]}`, i)
				req, _ := http.NewRequest("PATCH", e.url+"/scim/v2/Users/"+id, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.token)
				req.Header.Set("Content-Type", "application/scim+json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				res.Body.Close()
				codes[i] = res.StatusCode
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 200 {
				t.Errorf("PATCH %d of %d concurrent unconditional PATCHes answered %d; want 200", i, writers, c)
			}
		}
		got := e.do("GET", "/Users/"+id, nil).must(t, 200, "read back")
		phones, _ := got.body["phoneNumbers"].([]any)
		if len(phones) != writers {
			t.Errorf("after %d concurrent PATCHes each adding one phone number the user has %d: an update was lost", writers, len(phones))
		}
		if v := got.header.Get("ETag"); v != etagOf(writers+1) {
			t.Errorf("ETag after %d PATCHes of a new user = %s; want %s", writers, v, etagOf(writers+1))
		}
	})
}

// TestPatchesOfAUserWhoseMemberChangesMeanwhileAreAllApplied changes the member of a user (its
// organization role, by an admin) while the identity provider renames the user: a rename
// whose member moved between its read and its write is read again and applied, never refused
// and never lost, with If-Match too.
func TestPatchesOfAUserWhoseMemberChangesMeanwhileAreAllApplied(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/Users", user("renamed@example.com", "")).must(t, 201, "create").str("id")
		u, err := e.st.GetSCIMUser(t.Context(), e.orgID, e.dir.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		admin := make(chan int)
		go func() {
			n := 0
			for roles := []roster.Role{roster.RoleAdmin, roster.RoleViewer}; ; n++ {
				select {
				case <-stop:
					admin <- n
					return
				default:
				}
				_ = e.st.Tx(t.Context(), roster.SystemActor("test"), func(tx store.Tx) error {
					return tx.SetOrgRole(t.Context(), e.orgID, u.MemberID, roles[n%2])
				})
			}
		}()
		const renames = 40
		for i := range renames {
			cur := e.do("GET", "/Users/"+id, nil).must(t, 200, "read")
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"replace","path":"displayName","value":"Name %d"}]}`, i)
			req, _ := http.NewRequest("PATCH", e.url+"/scim/v2/Users/"+id, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("Content-Type", "application/scim+json")
			req.Header.Set("If-Match", cur.header.Get("ETag"))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("rename %d with If-Match, the member changing meanwhile, answered %d; want 200", i, res.StatusCode)
			}
		}
		close(stop)
		if n := <-admin; n == 0 {
			t.Fatal("the admin changed no role during the renames")
		}
		m, err := e.st.GetMember(t.Context(), e.orgID, u.MemberID)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("Name %d", renames-1); m.Name != want {
			t.Errorf("the member's name after the renames is %q, want %q", m.Name, want)
		}
	})
}

func etagOf(v int) string { return fmt.Sprintf(`W/"%d"`, v) }

// postConcurrently sends the bodies as simultaneous POST /Users and returns their statuses
// and the ids of the users created.
func postConcurrently(t *testing.T, e *env, bodies []map[string]any) ([]int, []string) {
	t.Helper()
	codes, ids := make([]int, len(bodies)), make([]string, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, _ := json.Marshal(b)
			req, _ := http.NewRequest("POST", e.url+"/scim/v2/Users", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("Content-Type", "application/scim+json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer res.Body.Close()
			var out struct{ ID string }
			_ = json.NewDecoder(res.Body).Decode(&out)
			codes[i], ids[i] = res.StatusCode, out.ID
		}()
	}
	wg.Wait()
	return codes, ids
}

func TestConcurrentCreatesOfOnePersonMakeOneUserAndOneMember(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		same := make([]map[string]any, 12)
		for i := range same {
			same[i] = user("twin@example.com", "")
		}
		codes, ids := postConcurrently(t, e, same)
		created := 0
		for i, c := range codes {
			switch c {
			case 201:
				created++
			case 409:
			default:
				t.Errorf("concurrent create %d answered %d; want 201 once and 409 for the others", i, c)
			}
		}
		if created != 1 {
			t.Errorf("%d of %d concurrent creates of one userName answered 201; want exactly 1", created, len(same))
		}

		// Different userNames, one email: each is a SCIM user, all linked to one member.
		shared := make([]map[string]any, 8)
		for i := range shared {
			u := user(fmt.Sprintf("alias%d@example.com", i), "")
			u["emails"] = []any{map[string]any{"value": "shared@example.com", "type": "work", "primary": true}}
			shared[i] = u
		}
		codes, ids = postConcurrently(t, e, shared)
		members := map[string]bool{}
		for i, c := range codes {
			if c != 201 {
				t.Errorf("create %d of %d users sharing an email answered %d; want 201", i, len(shared), c)
				continue
			}
			u, err := e.st.GetSCIMUser(ctx, e.orgID, e.dir.ID, ids[i])
			if err != nil {
				t.Fatalf("reading back user %s: %v", ids[i], err)
			}
			members[u.MemberID] = true
		}
		if len(members) != 1 {
			t.Errorf("%d users sharing one email were linked to %d members; want one member", len(shared), len(members))
		}
		m, err := e.st.GetMemberByEmail(ctx, e.orgID, "shared@example.com")
		if err != nil || !members[m.ID] {
			t.Errorf("the member with the shared email is %v (%v); want the one every user links to", m, err)
		}
	})
}
