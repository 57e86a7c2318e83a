package scim_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// BenchmarkDirectorySize measures reads of a directory of 1,000 users and of a large one
// (ROSTER_BENCH_USERS, default 100,000; 1,000,000 takes a few minutes to seed): a GET by id,
// the identity providers' userName filter, a page of 100 near the start and near the end by
// startIndex and by cursor (RFC 9865), and the pages of an import by startIndex in order. The users are written through the store in
// transactions of a thousand, each a member, its membership and a SCIM user with their audit
// records, as provisioning leaves them.
//
//	ROSTER_BENCH_USERS=1000000 go test -run XXX -bench DirectorySize -benchtime 2000x ./internal/scim/
func BenchmarkDirectorySize(b *testing.B) {
	large := 100_000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_USERS")); err == nil && v > 0 {
		large = v
	}
	for _, n := range []int{1000, large} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			e, h := benchEnv(b)
			ids := seedDirectory(b, e, n)
			last := ids[len(ids)-101]
			b.Run("get", func(b *testing.B) {
				var i atomic.Int64
				parallelReads(b, func() string { return "/scim/v2/Users/" + ids[int(i.Add(7919))%len(ids)] }, h, e.token)
			})
			b.Run("filter userName eq", func(b *testing.B) {
				var i atomic.Int64
				parallelReads(b, func() string {
					return fmt.Sprintf("/scim/v2/Users?filter=userName+eq+%%22big-%d@example.com%%22", int(i.Add(7919))%n)
				}, h, e.token)
			})
			b.Run("page at the start by startIndex", func(b *testing.B) {
				parallelReads(b, func() string { return "/scim/v2/Users?startIndex=1&count=100" }, h, e.token)
			})
			b.Run("page at the end by startIndex", func(b *testing.B) {
				parallelReads(b, func() string { return fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=100", n-100) }, h, e.token)
			})
			b.Run("pages of an import by startIndex", func(b *testing.B) {
				// An identity provider's import: one page after the other, from the start.
				pages := n / 100
				b.ResetTimer()
				defer cpuPerOp(b)()
				for i := range b.N {
					path := fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=100", (i%pages)*100+1)
					if code := benchDo(b, h, e.token, "GET", path, nil); code != 200 {
						b.Fatalf("status %d", code)
					}
				}
			})
			b.Run("page at the start by cursor", func(b *testing.B) {
				parallelReads(b, func() string { return "/scim/v2/Users?count=100&cursor=" }, h, e.token)
			})
			b.Run("page at the end by cursor", func(b *testing.B) {
				c := base64.RawURLEncoding.EncodeToString([]byte(last))
				parallelReads(b, func() string { return "/scim/v2/Users?count=100&cursor=" + c }, h, e.token)
			})
		})
	}
}

func parallelReads(b *testing.B, path func() string, h http.Handler, token string) {
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := benchDo(b, h, token, "GET", path(), nil); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
}

// seedDirectory writes n provisioned users into e's directory and returns their ids in
// creation order.
func seedDirectory(b *testing.B, e *env, n int) []string {
	b.Helper()
	ctx := b.Context()
	ids := make([]string, 0, n)
	for start := 0; start < n; start += 1000 {
		err := e.st.Tx(ctx, roster.SystemActor("bench"), func(tx store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				email := fmt.Sprintf("big-%d@example.com", i)
				m := &roster.Member{OrgID: e.orgID, Email: email, Name: "Big User", Role: roster.RoleMember}
				if err := tx.CreateMember(ctx, m); err != nil {
					return err
				}
				res := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"externalId":"ext-%d",`+
					`"name":{"givenName":"Big","familyName":"User"},"displayName":"Big User","emails":[{"value":%q,"type":"work","primary":true}],"active":true}`,
					email, i, email)
				u := &roster.SCIMUser{OrgID: e.orgID, DirectoryID: e.dir.ID, MemberID: m.ID, UserName: email, ExternalID: fmt.Sprintf("ext-%d", i),
					Active: true, DisplayName: "Big User", GivenName: "Big", FamilyName: "User", Email: email, Resource: []byte(res)}
				if err := tx.CreateSCIMUser(ctx, u); err != nil {
					return err
				}
				ids = append(ids, u.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatalf("seeding users %d…: %v", start, err)
		}
	}
	return ids
}
