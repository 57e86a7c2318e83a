package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

func newEventsEnv(t *testing.T, backend int) *env {
	st := backends[backend].open(t)
	st.(*sqlstore.Store).SetBaseURL(testBaseURL)
	kr := keyringtest.New(t)
	return newEnv(t, st, auth.Config{}, func(d *httpapi.Deps) { d.Events = events.NewService(st, kr, nil) })
}

type eventPage struct {
	Events []struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt string          `json:"createdAt"`
		Actor     map[string]any  `json:"actor"`
		Data      json.RawMessage `json:"data"`
	} `json:"events"`
	Cursor string `json:"cursor"`
}

func (e *env) events(t *testing.T, query string, authz string) eventPage {
	t.Helper()
	res, raw := e.do(t, "GET", "/api/public/events"+query, authz, "")
	if res.StatusCode != 200 {
		t.Fatalf("GET /api/public/events%s = %d %s", query, res.StatusCode, raw)
	}
	var p eventPage
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTheEventsAPIGivesSCIMChangesInOrderWithAStableCursor(t *testing.T) {
	for i, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEventsEnv(t, i)
			scim := "Bearer " + e.a.token
			user := e.json(t, 201, "POST", "/scim/v2/Users", scim,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","active":true,"name":{"givenName":"Ada"}}`)
			id := user["id"].(string)
			patch := func(active bool) {
				v := "false"
				if active {
					v = "true"
				}
				e.json(t, 200, "PATCH", "/scim/v2/Users/"+id, scim,
					`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":`+v+`}}]}`)
			}
			patch(false)
			patch(true)
			e.json(t, 201, "POST", "/scim/v2/Groups", scim,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"`+id+`"}]}`)
			if res, raw := e.do(t, "DELETE", "/scim/v2/Users/"+id, scim, ""); res.StatusCode != 204 {
				t.Fatalf("DELETE user = %d %s", res.StatusCode, raw)
			}

			all := e.events(t, "?types=user.created,user.suspended,user.reactivated,user.deleted,group.created,group.member_added", basicAuth(e.a.pk, e.a.sk))
			var types []string
			for _, ev := range all.Events {
				types = append(types, ev.Type)
			}
			want := "user.created,user.suspended,user.reactivated,group.created,group.member_added,user.deleted"
			if strings.Join(types, ",") != want {
				t.Fatalf("SCIM changes gave events %v; want %s", types, want)
			}
			var u map[string]any
			_ = json.Unmarshal(all.Events[1].Data, &u)
			meta, _ := u["meta"].(map[string]any)
			if u["id"] != id || u["active"] != false || u["userName"] != "ada@example.com" || meta == nil ||
				meta["location"] != testBaseURL+"/scim/v2/Users/"+id || meta["resourceType"] != "User" {
				t.Errorf("user.suspended data is %s; want the SCIM user after the change", all.Events[1].Data)
			}
			if all.Events[1].Actor["type"] != "directory" || all.Events[1].Actor["id"] != e.a.dirID {
				t.Errorf("actor %v; want the directory", all.Events[1].Actor)
			}
			var m map[string]any
			_ = json.Unmarshal(all.Events[4].Data, &m)
			if m["groupId"] == nil || m["member"].(map[string]any)["value"] != id {
				t.Errorf("group.member_added data %s; want the group and the member", all.Events[4].Data)
			}

			// Paging with the cursor gives the same events, each once.
			var paged []string
			cursor := ""
			for range 50 {
				q := "?limit=2"
				if cursor != "" {
					q += "&after=" + url.QueryEscape(cursor)
				}
				p := e.events(t, q, basicAuth(e.a.pk, e.a.sk))
				for _, ev := range p.Events {
					paged = append(paged, ev.ID)
				}
				if len(p.Events) == 0 {
					if p.Cursor != cursor {
						t.Errorf("an empty page moved the cursor from %q to %q", cursor, p.Cursor)
					}
					break
				}
				cursor = p.Cursor
			}
			full := e.events(t, "?limit=1000", basicAuth(e.a.pk, e.a.sk))
			if len(paged) != len(full.Events) {
				t.Fatalf("paging two at a time gave %d events; one page of 1000 gave %d", len(paged), len(full.Events))
			}
			for i := range paged {
				if paged[i] != full.Events[i].ID {
					t.Fatalf("paged event %d differs", i)
				}
			}
			if later := e.events(t, "?after="+cursor, basicAuth(e.a.pk, e.a.sk)); len(later.Events) != 0 || later.Cursor != cursor {
				t.Errorf("after the last cursor: %d events, cursor %q", len(later.Events), later.Cursor)
			}
			if other := e.events(t, "", basicAuth(e.b.pk, e.b.sk)); len(other.Events) != 3 {
				t.Errorf("org B sees %d events; want its own three (organization, key and directory created)", len(other.Events))
			}
			for _, q := range []string{"?after=abc", "?limit=0", "?limit=1001", "?types=nope"} {
				if got := e.status(t, "GET", "/api/public/events"+q, basicAuth(e.a.pk, e.a.sk)); got != 400 {
					t.Errorf("GET /api/public/events%s = %d; want 400", q, got)
				}
			}
			if got := e.status(t, "GET", "/api/public/events", scim); got != 401 && got != 403 {
				t.Errorf("a SCIM token on the events API = %d; want 401 or 403", got)
			}
		})
	}
}

func TestWebhookEndpointsAreManagedByTheOrgKeyAndShowTheirSecretOnce(t *testing.T) {
	for i, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEventsEnv(t, i)
			a, bb := basicAuth(e.a.pk, e.a.sk), basicAuth(e.b.pk, e.b.sk)
			created := e.json(t, 201, "POST", "/api/public/webhooks", a, `{"url":"https://hooks.example.com/roster","eventTypes":["user.created"]}`)
			for _, k := range []string{"id", "url", "eventTypes", "secret", "createdAt"} {
				if _, ok := created[k]; !ok {
					t.Errorf("the created webhook lacks %q: %v", k, created)
				}
			}
			id := created["id"].(string)
			if s, _ := created["secret"].(string); !strings.HasPrefix(s, "whsec_") {
				t.Errorf("secret %q; want whsec_…", s)
			}
			list := e.json(t, 200, "GET", "/api/public/webhooks", a, "")
			raw, _ := json.Marshal(list)
			if strings.Contains(string(raw), created["secret"].(string)) || strings.Contains(string(raw), "secret\"") {
				t.Errorf("the list shows a secret: %s", raw)
			}
			if n := len(list["webhooks"].([]any)); n != 1 {
				t.Errorf("%d webhooks listed; want 1", n)
			}
			upd := e.json(t, 200, "PATCH", "/api/public/webhooks/"+id, a, `{"enabled":false,"eventTypes":[]}`)
			if upd["enabled"] != false || len(upd["eventTypes"].([]any)) != 0 {
				t.Errorf("after PATCH: %v", upd)
			}
			upd = e.json(t, 200, "PATCH", "/api/public/webhooks/"+id, a, `{"enabled":true}`)
			if upd["enabled"] != true {
				t.Errorf("after re-enabling: %v", upd)
			}
			rot := e.json(t, 200, "POST", "/api/public/webhooks/"+id+"/rotate-secret", a, `{"graceSeconds":3600}`)
			if rot["secret"] == created["secret"] || rot["previousSecretExpiresAt"] == nil {
				t.Errorf("rotation answered %v; want a new secret and the old one's expiry", rot)
			}
			dl := e.json(t, 200, "GET", "/api/public/webhooks/"+id+"/deliveries", a, "")
			if _, ok := dl["deliveries"]; !ok {
				t.Errorf("deliveries answered %v", dl)
			}
			for _, c := range []struct {
				name, method, path, authz, body string
				want                            int
			}{
				{"a private URL's scheme must be http or https", "POST", "/api/public/webhooks", a, `{"url":"ftp://x.example.com"}`, 400},
				{"an unknown event type is refused", "POST", "/api/public/webhooks", a, `{"url":"https://x.example.com","eventTypes":["user.exploded"]}`, 400},
				{"org B cannot read org A's webhook", "GET", "/api/public/webhooks/" + id, bb, "", 404},
				{"org B cannot change org A's webhook", "PATCH", "/api/public/webhooks/" + id, bb, `{"enabled":false}`, 404},
				{"org B cannot rotate org A's secret", "POST", "/api/public/webhooks/" + id + "/rotate-secret", bb, "", 404},
				{"org B cannot read org A's deliveries", "GET", "/api/public/webhooks/" + id + "/deliveries", bb, "", 404},
				{"an unknown delivery cannot be redelivered", "POST", "/api/public/webhooks/" + id + "/deliveries/nope/redeliver", a, "", 404},
				{"graceSeconds beyond 30 days is refused", "POST", "/api/public/webhooks/" + id + "/rotate-secret", a, `{"graceSeconds":99999999}`, 400},
				{"no credentials get 401", "GET", "/api/public/webhooks", "", "", 401},
				{"org B cannot delete org A's webhook", "DELETE", "/api/public/webhooks/" + id, bb, "", 404},
				{"org A deletes its webhook", "DELETE", "/api/public/webhooks/" + id, a, "", 200},
				{"a deleted webhook is gone", "GET", "/api/public/webhooks/" + id, a, "", 404},
			} {
				if res, raw := e.do(t, c.method, c.path, c.authz, c.body); res.StatusCode != c.want {
					t.Errorf("%s: %s %s = %d %s; want %d", c.name, c.method, c.path, res.StatusCode, raw, c.want)
				}
			}
			// Every change of the webhook is audited without its secret.
			logs := e.json(t, 200, "GET", "/api/public/audit-logs?targetType=webhook", a, "")
			raw, _ = json.Marshal(logs)
			if strings.Contains(string(raw), "whsec_") || strings.Contains(string(raw), "v1.") {
				t.Errorf("the audit log holds a secret: %s", raw)
			}
			if n := len(logs["auditLogs"].([]any)); n != 5 {
				t.Errorf("%d audit records of the webhook; want 5 (created, updated twice, rotated, deleted)", n)
			}
		})
	}
}

func TestTheAuditLogFiltersPagesAndExportsJSONLines(t *testing.T) {
	for i, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEventsEnv(t, i)
			a := basicAuth(e.a.pk, e.a.sk)
			for n := range 5 {
				e.json(t, 201, "POST", "/scim/directories", a, `{"name":"IdP `+string(rune('a'+n))+`"}`)
			}
			first := e.json(t, 200, "GET", "/api/public/audit-logs?limit=2&action=directory.created", a, "")
			recs := first["auditLogs"].([]any)
			if len(recs) != 2 || first["cursor"] == "" {
				t.Fatalf("first page: %v", first)
			}
			rec := recs[0].(map[string]any)
			for _, k := range []string{"id", "createdAt", "actor", "action", "target", "before", "after", "requestId", "ip"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("an audit record lacks %q: %v", k, rec)
				}
			}
			if rec["actor"].(map[string]any)["type"] != "org_key" || rec["actor"].(map[string]any)["id"] != e.a.keyID {
				t.Errorf("actor %v; want the org key", rec["actor"])
			}
			seen := len(recs)
			cursor := first["cursor"].(string)
			for cursor != "" {
				p := e.json(t, 200, "GET", "/api/public/audit-logs?limit=2&action=directory.created&cursor="+cursor, a, "")
				seen += len(p["auditLogs"].([]any))
				cursor = p["cursor"].(string)
			}
			if seen != 6 { // the tenant's first directory and five more
				t.Errorf("paging saw %d directory.created records; want 6", seen)
			}
			byActor := e.json(t, 200, "GET", "/api/public/audit-logs?actorId="+e.a.keyID, a, "")
			if n := len(byActor["auditLogs"].([]any)); n != 5 {
				t.Errorf("by actor: %d; want 5", n)
			}
			if got := e.status(t, "GET", "/api/public/audit-logs?from=yesterday", a); got != 400 {
				t.Errorf("a bad from = %d; want 400", got)
			}
			future := e.json(t, 200, "GET", "/api/public/audit-logs?from=2999-01-01T00:00:00Z", a, "")
			if n := len(future["auditLogs"].([]any)); n != 0 {
				t.Errorf("from the year 2999: %d records", n)
			}
			res, raw := e.do(t, "GET", "/api/public/audit-logs", a, "", "Accept", "application/x-ndjson")
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/x-ndjson") {
				t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
			lines := 0
			sc := bufio.NewScanner(bytes.NewReader(raw))
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["action"] == nil {
					t.Fatalf("export line %d is not an audit record: %q", lines, sc.Text())
				}
				lines++
			}
			all := e.json(t, 200, "GET", "/api/public/audit-logs?limit=1000", a, "")
			if lines != len(all["auditLogs"].([]any)) || lines < 7 {
				t.Errorf("the export has %d lines; the log has %d records", lines, len(all["auditLogs"].([]any)))
			}
			other := e.json(t, 200, "GET", "/api/public/audit-logs?limit=1000", basicAuth(e.b.pk, e.b.sk), "")
			raw, _ = json.Marshal(other)
			if strings.Contains(string(raw), e.a.orgID) {
				t.Errorf("org B's audit log mentions org A")
			}
		})
	}
}
