package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// BenchmarkMembersPage measures the Members page of an organization of 100,000 members
// (ROSTER_BENCH_MEMBERS to change it), one in ten provisioned by a SCIM directory, rendered
// through the whole server for a signed-in owner (PostgreSQL's statistics refreshed after the
// load): the first page, a page 90% of the way in
// (keyset cursor), a search and a filter. Run with
//
//	go test ./internal/admin -run XXX -bench MembersPage -benchtime 50x
func BenchmarkMembersPage(b *testing.B) {
	n := 100_000
	if v := os.Getenv("ROSTER_BENCH_MEMBERS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			e := newEnv(b, st)
			ctx := b.Context()
			dir := &roster.Directory{OrgID: e.orgA.ID, Name: "Okta", DefaultRole: roster.RoleNone, Enabled: true}
			if err := st.Tx(ctx, roster.SystemActor("bench"), func(tx store.Tx) error { return tx.CreateDirectory(ctx, dir, nil) }); err != nil {
				b.Fatal(err)
			}
			var deep string
			const batch = 2000
			for start := 0; start < n; start += batch {
				err := st.Tx(ctx, roster.SystemActor("bench"), func(tx store.Tx) error {
					for i := start; i < min(start+batch, n); i++ {
						m := &roster.Member{OrgID: e.orgA.ID, Email: fmt.Sprintf("person%06d@acme.example", i), Name: fmt.Sprintf("Person %d", i), Role: roster.RoleMember}
						if i%4 == 0 {
							m.Role = roster.RoleViewer
						}
						if err := tx.CreateMember(ctx, m); err != nil {
							return err
						}
						if i == n*9/10 {
							deep = m.ID
						}
						if i%10 == 0 {
							if err := tx.CreateSCIMUser(ctx, &roster.SCIMUser{OrgID: e.orgA.ID, DirectoryID: dir.ID, MemberID: m.ID,
								UserName: m.Email, Active: true, Email: m.Email, Resource: []byte(`{}`)}); err != nil {
								return err
							}
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if be.name == "postgres" {
				// Statistics as autovacuum would have them a minute after such a load: without
				// them the planner guesses at tables it believes empty.
				if _, err := st.DB().ExecContext(ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			e.user(b, e.orgA, "owner@acme.example", roster.RoleOwner)
			br := e.browser(b)
			resp, _ := br.post("/login", url.Values{"email": {"owner@acme.example"}, "password": {password}})
			if resp.StatusCode != http.StatusSeeOther {
				b.Fatalf("sign-in: %d", resp.StatusCode)
			}
			base := "/orgs/" + e.orgA.ID + "/members"
			for _, c := range []struct{ name, query string }{
				{"first page", ""},
				{"page at 90 percent", "?after=" + deep},
				{"search by email substring", "?q=" + url.QueryEscape("person09999")},
				{"SCIM-provisioned viewers", "?role=VIEWER&source=scim"},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						resp, body := br.get(base + c.query)
						if resp.StatusCode != 200 || len(body) < 1000 {
							b.Fatalf("%d %.200s", resp.StatusCode, body)
						}
					}
				})
			}
		})
	}
}
