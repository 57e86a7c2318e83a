package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Benchmarks of the organization API, in process (no socket): the handler as NewServer
// builds it, on each backend. Run with
//
//	go test -run XXX -bench Org -benchtime 10x ./internal/httpapi/
//	ROSTER_TEST_POSTGRES=… go test -run XXX -bench Org -benchtime 10x ./internal/httpapi/

func benchHandlerDo(b *testing.B, h http.Handler, method, path, authz, body string) (int, []byte) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", authz)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// lightRecorder is a reusable ResponseWriter for the latency benchmark.
type lightRecorder struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *lightRecorder) Header() http.Header { return w.h }
func (w *lightRecorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *lightRecorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return w.body.Write(b)
}
func (w *lightRecorder) reset() {
	clear(w.h)
	w.code = 0
	w.body.Reset()
}

// verifyParallelism is goroutines per core of the verify benchmark (ROSTER_BENCH_PAR).
var verifyParallelism = func() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_PAR")); err == nil && n > 0 {
		return n
	}
	return 8
}()

// BenchmarkOrgVerifyProjectKey is the host application checking a project key pair on every
// request it serves: 16 concurrent callers on this machine's two cores, among 1,000 keys.
// It reports the p50 and p99 latency of one verification.
func BenchmarkOrgVerifyProjectKey(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open(b), auth.Config{}, nil)
			h := e.srv.Config.Handler
			proj := e.newProject(b, e.a.orgID, "Verified")
			bodies := make([]string, 1000)
			for i := range bodies {
				_, pk, sk := e.newProjectKey(b, e.a.orgID, proj)
				bodies[i] = `{"publicKey":"` + pk + `","secretKey":"` + sk + `"}`
			}
			admin := "Bearer " + e.adminKey
			target, _ := url.Parse("http://roster.test/api/admin/apiKeys/verify")
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(verifyParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				lat := make([]time.Duration, 0, 1024)
				w := &lightRecorder{h: http.Header{}}
				i := 0
				for pb.Next() {
					// A request made by hand, as the server's connection reader would hand it
					// over: httptest.NewRequest parses a whole HTTP message per call, and its
					// garbage would weigh on the server's tail through the collector.
					body := bodies[i%len(bodies)]
					req := &http.Request{Method: "POST", URL: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
						Header: http.Header{"Authorization": {admin}, "Content-Type": {"application/json"}},
						Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
						Host: "roster.test", RemoteAddr: "192.0.2.1:1234", RequestURI: target.Path}
					w.reset()
					start := time.Now()
					h.ServeHTTP(w, req)
					lat = append(lat, time.Since(start))
					if w.code != 200 || !bytes.Contains(w.body.Bytes(), []byte(`"valid":true`)) {
						b.Errorf("verify answered %d %s", w.code, w.body.Bytes())
						return
					}
					i += 7
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// seedMembers makes n members of org in one transaction and returns their ids.
func seedMembers(b *testing.B, e *env, orgID string, n int) []string {
	ids := make([]string, n)
	ctx := context.Background()
	if err := e.st.Tx(ctx, cli, func(tx store.Tx) error {
		for i := range ids {
			m := &roster.Member{OrgID: orgID, Email: fmt.Sprintf("seed-%06d@example.com", i), Name: fmt.Sprintf("Seed %d", i)}
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
			ids[i] = m.ID
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkOrgBulkRoles10000 changes the org role of 10,000 members in one bulk request
// (every member changes on every iteration, each with its audit record).
func BenchmarkOrgBulkRoles10000(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open(b), auth.Config{}, nil)
			h := e.srv.Config.Handler
			ids := seedMembers(b, e, e.a.orgID, 10000)
			bodies := [2]string{}
			for k, role := range []string{"VIEWER", "MEMBER"} {
				var sb strings.Builder
				sb.WriteString(`{"memberships":[`)
				for i, id := range ids {
					if i > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(`{"userId":"` + id + `","role":"` + role + `"}`)
				}
				sb.WriteString(`]}`)
				bodies[k] = sb.String()
			}
			basic := basicAuth(e.a.pk, e.a.sk)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				code, raw := benchHandlerDo(b, h, "POST", "/api/public/organizations/memberships/bulk", basic, bodies[i%2])
				if code != 200 {
					b.Fatalf("bulk answered %d %.300s", code, raw)
				}
			}
		})
	}
}

// BenchmarkOrgListAt100k pages through the memberships of an organization of 100,000
// members, and of a project all of them belong to: the first page, a page near the end by
// cursor (keyset: as cheap as the first), a page near the end by page number (offset, with
// the meta count), and the whole unpaged list that Langfuse's clients ask for.
func BenchmarkOrgListAt100k(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open(b), auth.Config{}, nil)
			h := e.srv.Config.Handler
			const n = 100000
			ids := seedMembers(b, e, e.a.orgID, n)
			proj := e.newProject(b, e.a.orgID, "Everyone")
			ctx := context.Background()
			if err := e.st.Tx(ctx, cli, func(tx store.Tx) error {
				members, err := tx.MembersByID(ctx, e.a.orgID, ids)
				if err != nil {
					return err
				}
				changes := make([]store.ProjectRoleChange, 0, n)
				for _, id := range ids {
					changes = append(changes, store.ProjectRoleChange{ProjectID: proj, Member: members[id], Role: roster.RoleViewer, Source: roster.SourceAPI})
				}
				return tx.SetProjectRoles(ctx, e.a.orgID, changes)
			}); err != nil {
				b.Fatal(err)
			}
			for range 999 {
				e.newProject(b, e.a.orgID, "Filler")
			}
			basic := basicAuth(e.a.pk, e.a.sk)
			deep := ids[n-101]
			cases := []struct{ name, path string }{
				{"memberships first page of 100", "/api/public/organizations/memberships?limit=100"},
				{"memberships page by cursor at 99,900", "/api/public/organizations/memberships?limit=100&cursor=" + deep},
				{"memberships page 1000 of 100 with meta", "/api/public/organizations/memberships?page=1000&limit=100"},
				{"project memberships page by cursor at 99,900", "/api/public/projects/" + proj + "/memberships?limit=100&cursor=" + deep},
				{"projects page of 100 of 1,000", "/api/public/organizations/projects?limit=100"},
				{"memberships unpaged, all 100,000", "/api/public/organizations/memberships"},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						code, raw := benchHandlerDo(b, h, "GET", c.path, basic, "")
						if code != 200 {
							b.Fatalf("answered %d %.300s", code, raw)
						}
						if i == 0 {
							var body struct {
								Memberships []json.RawMessage `json:"memberships"`
								Projects    []json.RawMessage `json:"projects"`
							}
							_ = json.Unmarshal(raw, &body)
							if len(body.Memberships)+len(body.Projects) == 0 {
								b.Fatalf("an empty page: %.300s", raw)
							}
						}
					}
				})
			}
		})
	}
}

// BenchmarkOrgMappedGroup10000 adds 10,000 users to a SCIM group mapped to an org role and
// a project role, then removes them all, in one PATCH each: every user's roles are recomputed,
// with their audit records, in the PATCH's transaction. ns/op is per PATCH.
func BenchmarkOrgMappedGroup10000(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open(b), auth.Config{}, nil)
			h := e.srv.Config.Handler
			token := "Bearer " + e.a.token
			ids := make([]string, 10000)
			var wg sync.WaitGroup
			for w := range 16 { // concurrent creates share commits, as identity providers' pushes do
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < len(ids); i += 16 {
						code, raw := benchHandlerDo(b, h, "POST", "/scim/v2/Users", token, fmt.Sprintf(
							`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"mapped-%d@example.com","active":true}`, i))
						if code != 201 {
							b.Errorf("create user %d: %d %.200s", i, code, raw)
							return
						}
						var u struct{ ID string }
						_ = json.Unmarshal(raw, &u)
						ids[i] = u.ID
					}
				}()
			}
			wg.Wait()
			if b.Failed() {
				b.FailNow()
			}
			code, raw := benchHandlerDo(b, h, "POST", "/scim/v2/Groups", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Everyone"}`)
			if code != 201 {
				b.Fatalf("create group: %d %s", code, raw)
			}
			var g struct{ ID string }
			_ = json.Unmarshal(raw, &g)
			basic := basicAuth(e.a.pk, e.a.sk)
			proj := e.newProject(b, e.a.orgID, "Mapped")
			if code, raw := benchHandlerDo(b, h, "PUT", "/scim/directories/"+e.a.dirID+"/group-mappings", basic,
				`{"mappings":[{"groupId":"`+g.ID+`","role":"MEMBER"},{"groupId":"`+g.ID+`","projectId":"`+proj+`","role":"ADMIN"}]}`); code != 200 {
				b.Fatalf("mappings: %d %s", code, raw)
			}
			var sb strings.Builder
			sb.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[`)
			for i, id := range ids {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(`{"value":"` + id + `"}`)
			}
			sb.WriteString(`]}]}`)
			add := sb.String()
			remove := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}`
			b.Run("PATCH adding or removing all 10,000", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					body := add
					if i%2 == 1 {
						body = remove
					}
					if code, raw := benchHandlerDo(b, h, "PATCH", "/scim/v2/Groups/"+g.ID, token, body); code != 204 {
						b.Fatalf("PATCH group: %d %.300s", code, raw)
					}
				}
				if b.N%2 == 1 {
					code, raw := benchHandlerDo(b, h, "GET", "/api/public/organizations/memberships/mapped-0@example.com", basic, "")
					if code != 200 || !strings.Contains(string(raw), `"orgRole":"MEMBER"`) || !strings.Contains(string(raw), `"role":"ADMIN"`) {
						b.Fatalf("after adding to the mapped group: %d %s", code, raw)
					}
				}
			})
			// With the 10,000 in the group, changing its mappings recomputes them all: the
			// role rules' own cost, without the group's member rows.
			if code, raw := benchHandlerDo(b, h, "PATCH", "/scim/v2/Groups/"+g.ID, token, add); code != 204 {
				b.Fatalf("PATCH group: %d %.300s", code, raw)
			}
			mappings := [2]string{
				`{"mappings":[{"groupId":"` + g.ID + `","role":"VIEWER"},{"groupId":"` + g.ID + `","projectId":"` + proj + `","role":"MEMBER"}]}`,
				`{"mappings":[{"groupId":"` + g.ID + `","role":"MEMBER"},{"groupId":"` + g.ID + `","projectId":"` + proj + `","role":"ADMIN"}]}`,
			}
			b.Run("PUT group-mappings recomputing 10,000", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if code, raw := benchHandlerDo(b, h, "PUT", "/scim/directories/"+e.a.dirID+"/group-mappings", basic, mappings[i%2]); code != 200 {
						b.Fatalf("mappings: %d %.300s", code, raw)
					}
				}
			})
		})
	}
}
