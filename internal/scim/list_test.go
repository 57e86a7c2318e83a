package scim_test

import (
	"fmt"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
)

func TestListsPageSortAndCount(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		for i := 0; i < 7; i++ {
			u := user(fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("e%d", i))
			u["displayName"] = fmt.Sprintf("Person %d", 6-i)
			e.do("POST", "/Users", u).must(t, 201, "create")
		}
		total := func(r resp) any { return get(r.body, "totalResults") }
		t.Run("count=0 answers the total only", func(t *testing.T) {
			r := e.do("GET", "/Users?count=0", nil).must(t, 200, "count=0")
			if total(r) != jsonNum(7) || get(r.body, "itemsPerPage") != jsonNum(0) {
				t.Errorf("%s", r.raw)
			}
		})
		t.Run("a full page and the last page give the total", func(t *testing.T) {
			r := e.do("GET", "/Users?startIndex=1&count=3", nil).must(t, 200, "page 1")
			if total(r) != jsonNum(7) || get(r.body, "itemsPerPage") != jsonNum(3) || get(r.body, "startIndex") != jsonNum(1) {
				t.Errorf("page 1: %s", r.raw)
			}
			r = e.do("GET", "/Users?startIndex=7&count=3", nil).must(t, 200, "last page")
			if total(r) != jsonNum(7) || get(r.body, "itemsPerPage") != jsonNum(1) {
				t.Errorf("last page: %s", r.raw)
			}
			r = e.do("GET", "/Users?startIndex=20&count=3", nil).must(t, 200, "past the end")
			if total(r) != jsonNum(7) || get(r.body, "itemsPerPage") != jsonNum(0) {
				t.Errorf("past the end: %s", r.raw)
			}
		})
		t.Run("sortBy orders and sortOrder reverses", func(t *testing.T) {
			r := e.do("GET", "/Users?sortBy=displayName&sortOrder=descending&count=2", nil).must(t, 200, "sorted")
			if get(r.body, "Resources", 0, "displayName") != "Person 6" || get(r.body, "Resources", 1, "displayName") != "Person 5" {
				t.Errorf("sorted: %s", r.raw)
			}
			e.do("GET", "/Users?sortBy=nonsense", nil).must(t, 400, "unknown sortBy")
		})
		t.Run("cursor pagination visits every user once", func(t *testing.T) {
			seen := map[string]bool{}
			cursor := ""
			for pages := 0; pages < 10; pages++ {
				r := e.do("GET", "/Users?count=3&cursor="+cursor, nil).must(t, 200, "cursor page")
				for _, res := range get(r.body, "Resources").([]any) {
					id := get(res, "id").(string)
					if seen[id] {
						t.Fatalf("user %s seen twice", id)
					}
					seen[id] = true
				}
				next, _ := r.body["nextCursor"].(string)
				if next == "" {
					break
				}
				cursor = next
			}
			if len(seen) != 7 {
				t.Errorf("cursor pagination saw %d users, want 7", len(seen))
			}
			e.do("GET", "/Users?cursor=garbage", nil).must(t, 400, "bad cursor")
		})
		t.Run("filters run in the database", func(t *testing.T) {
			for f, want := range map[string]int{
				`userName sw "P1"`:                                                     1,
				`displayName co "person"`:                                              7,
				`emails[type eq "work" and value ew "example.com"]`:                    7,
				`name.familyName eq "Lovelace" and not (userName eq "p0@example.com")`: 6,
				`active eq true`:                                                       7,
				`meta.created gt "2000-01-01T00:00:00Z"`:                               7,
				`externalId eq "e3" or externalId eq "e4"`:                             2,
				`title pr`: 0,
			} {
				r := e.do("GET", "/Users?filter="+q(f), nil).must(t, 200, f)
				if total(r) != jsonNum(want) {
					t.Errorf("%s: totalResults %v, want %d", f, total(r), want)
				}
			}
			r := e.do("GET", "/Users?filter="+q(`userName eq`), nil).must(t, 400, "bad filter")
			if r.str("scimType") != "invalidFilter" {
				t.Errorf("bad filter answered %s", r.raw)
			}
		})
		t.Run("attributes and excludedAttributes shape every resource", func(t *testing.T) {
			r := e.do("GET", "/Users?count=1&attributes=userName", nil).must(t, 200, "attributes")
			res := get(r.body, "Resources", 0).(map[string]any)
			if res["userName"] == nil || res["id"] == nil || res["emails"] != nil {
				t.Errorf("attributes=userName: %v", res)
			}
			r = e.do("GET", "/Users?count=1&excludedAttributes=emails,name", nil).must(t, 200, "excluded")
			res = get(r.body, "Resources", 0).(map[string]any)
			if res["emails"] != nil || res["name"] != nil || res["userName"] == nil {
				t.Errorf("excludedAttributes: %v", res)
			}
		})
		t.Run("POST .search takes the same parameters", func(t *testing.T) {
			r := e.do("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"p2@example.com\"","count":5}`).must(t, 200, ".search")
			if total(r) != jsonNum(1) {
				t.Errorf(".search: %s", r.raw)
			}
		})
	})
}

func TestListTotalsFollowCreatesAndDeletes(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var users, groups []string
		for i := range 6 {
			users = append(users, e.do("POST", "/Users", user(fmt.Sprintf("t%d@example.com", i), "")).must(t, 201, "create user").str("id"))
		}
		for i := range 4 {
			groups = append(groups, e.do("POST", "/Groups", map[string]any{"displayName": fmt.Sprintf("Team %d", i)}).must(t, 201, "create group").str("id"))
		}
		e.do("DELETE", "/Users/"+users[0], nil).must(t, 204, "delete user")
		e.do("DELETE", "/Users/"+users[3], nil).must(t, 204, "delete user")
		e.do("DELETE", "/Groups/"+groups[1], nil).must(t, 204, "delete group")
		e.do("POST", "/Users", user("t9@example.com", "")).must(t, 201, "create user")
		for _, c := range []struct {
			path string
			want int
		}{
			{"/Users?count=2", 5}, {"/Users?count=0", 5}, {"/Users?startIndex=4&count=1", 5},
			{"/Groups?count=1", 3}, {"/Groups?count=0", 3},
			{`/Users?count=1&filter=userName+sw+%22t%22`, 5},
		} {
			r := e.do("GET", c.path, nil).must(t, 200, c.path)
			if got := get(r.body, "totalResults"); got != jsonNum(c.want) {
				t.Errorf("GET %s: totalResults %v after creates and deletes; want %d", c.path, got, c.want)
			}
		}
		// Another directory's users are not counted.
		_, token, err := e.svc.CreateDirectory(t.Context(), roster.SystemActor("test"), e.orgID, "Other", roster.RoleNone)
		if err != nil {
			t.Fatal(err)
		}
		o := *e
		o.token = token
		if got := get(o.do("GET", "/Users?count=1", nil).must(t, 200, "other directory").body, "totalResults"); got != jsonNum(0) {
			t.Errorf("a new directory's list has totalResults %v; want 0", got)
		}
	})
}
