package httpapi_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// sqliteEnv is an environment on a fresh SQLite store.
func sqliteEnv(t *testing.T, mutate func(*httpapi.Deps)) *env {
	t.Helper()
	return newEnv(t, sqltest.SQLite(t), auth.Config{}, mutate)
}

// allowIs checks the Allow header of a 405.
func allowIs(want string) func(*testing.T, *env, vars, reply) {
	return func(t *testing.T, _ *env, _ vars, r reply) {
		t.Helper()
		if got := r.res.Header.Get("Allow"); got != want {
			t.Errorf("Allow %q, want %q", got, want)
		}
	}
}

func TestTheAdminAPIAnswers404WhileItHasNoKey(t *testing.T) {
	e := sqliteEnv(t, func(d *httpapi.Deps) { d.AdminKey = "" })
	mentionsTheVariable := func(t *testing.T, _ *env, _ vars, r reply) {
		if msg := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "ROSTER_ADMIN_API_KEY") {
			t.Errorf("message %q does not say how to enable the admin API", msg)
		}
	}
	runScenarios(t, e, []scenario{
		{
			name:   "listing organizations with some bearer token is 404",
			method: "GET", path: "/api/admin/organizations", auth: "Bearer anything",
			status: 404, code: "not_found", then: mentionsTheVariable,
		},
		{
			name:   "creating an organization without credentials is 404",
			method: "POST", path: "/api/admin/organizations", body: `{"name":"Sneaky"}`,
			status: 404, code: "not_found", then: mentionsTheVariable,
		},
		{
			name:   "reading an organization with an empty bearer token is 404",
			method: "GET", path: "/api/admin/organizations/{orgA}", auth: "Bearer ",
			status: 404, code: "not_found",
		},
		{
			name:   "creating a key with the org's own key is 404",
			method: "POST", path: "/api/admin/organizations/{orgA}/apiKeys", auth: "{basicA}", body: `{}`,
			status: 404, code: "not_found",
		},
	})
}

func TestUnmatchedRequestsAnswerInTheShapeOfTheirArea(t *testing.T) {
	e := sqliteEnv(t, nil)
	runScenarios(t, e, []scenario{
		{name: "an unknown route is 404 management JSON", method: "GET", path: "/no/such/thing", status: 404, code: "not_found"},
		{name: "an unknown SCIM endpoint is a SCIM 404", method: "GET", path: "/scim/v2/Widgets", auth: "Bearer {tokenA}", status: 404},
		{name: "an unknown endpoint under the ABV SCIM base is a SCIM 404", method: "GET", path: "/api/public/scim/Widgets", status: 404},
		{name: "the bare SCIM base is a SCIM 404", method: "GET", path: "/scim/v2", status: 404},
		{
			name:   "a wrong method on the directories API is 405 with Allow",
			method: "PUT", path: "/scim/directories", auth: "{basicA}", body: `{}`,
			status: 405, code: "method_not_allowed", then: allowIs("GET, POST"),
		},
		{
			name:   "a wrong method on a SCIM endpoint is a SCIM 405 with Allow",
			method: "DELETE", path: "/scim/v2/Users", auth: "Bearer {tokenA}",
			status: 405, then: allowIs("GET, POST"),
		},
		{
			name:   "a wrong method on a lower-case SCIM path is a SCIM 405 with Allow",
			method: "PUT", path: "/scim/v2/groups/", auth: "Bearer {tokenA}", body: `{}`,
			status: 405, then: allowIs("GET, POST"),
		},
		{
			name:   "a wrong method on the admin API is 405 with Allow",
			method: "PATCH", path: "/api/admin/organizations/{orgA}", auth: "Bearer {admin}", body: `{}`,
			status: 405, code: "method_not_allowed", then: allowIs("GET, PUT, DELETE"),
		},
		{
			name:   "a GET of a POST-only action is 405 with Allow",
			method: "GET", path: "/scim/directories/{dirA}/regenerate-token", auth: "{basicA}",
			status: 405, code: "method_not_allowed", then: allowIs("POST"),
		},
		{
			name:   "a POST to the health check is 405 with Allow",
			method: "POST", path: "/healthz", body: `{}`,
			status: 405, code: "method_not_allowed", then: allowIs("GET"),
		},
	})
}

// unsized hides a reader's length, so the client sends the body chunked.
type unsized struct{ io.Reader }

func TestBodiesOverTheLimitAre413(t *testing.T) {
	e := sqliteEnv(t, func(d *httpapi.Deps) { d.MaxBodyBytes = 1024 })
	big := `{"name":"Big","padding":"` + strings.Repeat("x", 4096) + `"}`
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big@example.com","displayName":"` + strings.Repeat("x", 4096) + `"}`
	for _, tc := range []struct {
		name, path, authz, body string
		chunked                 bool
	}{
		{"a management body with a Content-Length over the limit", "/scim/directories", basicAuth(e.a.pk, e.a.sk), big, false},
		{"a chunked management body over the limit", "/scim/directories", basicAuth(e.a.pk, e.a.sk), big, true},
		{"a SCIM body with a Content-Length over the limit", "/scim/v2/Users", "Bearer " + e.a.token, user, false},
		{"a chunked SCIM body over the limit", "/scim/v2/Users", "Bearer " + e.a.token, user, true},
		{"an admin body with a Content-Length over the limit", "/api/admin/organizations", "Bearer " + e.adminKey, big, false},
		{"a chunked admin body over the limit", "/api/admin/organizations", "Bearer " + e.adminKey, big, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = unsized{body}
			}
			res, raw := e.send(t, "POST", tc.path, tc.authz, body)
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("answered %d, want 413: %s", res.StatusCode, raw)
			}
			code := ""
			if !isSCIM(tc.path) {
				code = "too_large"
			}
			checkError(t, res, raw, isSCIM(tc.path), code)
		})
	}
	t.Run("a body under the limit is read and nothing oversized was stored", func(t *testing.T) {
		body := `{"name":"Small","padding":"` + strings.Repeat("x", 900) + `"}`
		if res, raw := e.send(t, "POST", "/scim/directories", basicAuth(e.a.pk, e.a.sk), unsized{strings.NewReader(body)}); res.StatusCode != 201 {
			t.Fatalf("a chunked body under the limit answered %d: %s", res.StatusCode, raw)
		}
		_, raw := e.do(t, "GET", "/scim/directories", basicAuth(e.a.pk, e.a.sk), "")
		if strings.Contains(string(raw), `"Big"`) {
			t.Errorf("an oversized request created a directory: %s", raw)
		}
		_, raw = e.do(t, "GET", "/scim/v2/Users", "Bearer "+e.a.token, "")
		if strings.Contains(string(raw), "big@example.com") {
			t.Errorf("an oversized request created a user: %s", raw)
		}
	})
}

func TestAPanicAnswers500WithOnlyTheRequestIDAndTheServerGoesOn(t *testing.T) {
	logs := &lockedBuffer{}
	st := &brokenStore{Store: sqltest.SQLite(t)}
	e := newEnv(t, st, auth.Config{}, func(d *httpapi.Deps) {
		d.Store = st
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	st.panicOnList.Store(true)
	res, raw := e.do(t, "GET", "/scim/directories", basicAuth(e.a.pk, e.a.sk), "", requestIDHdr, "trace-42")
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("a panicking handler answered %d, want 500: %s", res.StatusCode, raw)
	}
	checkError(t, res, raw, false, "internal")
	want := map[string]any{"error": map[string]any{"code": "internal", "message": "internal error (request id trace-42)"}}
	if diff := cmp.Diff(want, decodeObject(t, raw)); diff != "" {
		t.Errorf("500 body (-want +got):\n%s", diff)
	}

	st.panicOnList.Store(false)
	expectStatus(t, e, 200, "GET", "/scim/directories", basicAuth(e.a.pk, e.a.sk))
	expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+e.a.token)

	var panics, requests []map[string]any
	for _, l := range logs.lines(t) {
		if l["request_id"] != "trace-42" {
			continue
		}
		switch l["msg"] {
		case "panic serving request":
			panics = append(panics, l)
		case "request":
			requests = append(requests, l)
		}
	}
	if len(panics) != 1 || !strings.Contains(fmt.Sprint(panics[0]["panic"]), "connection pool corrupted") {
		t.Errorf("the panic was logged %d times, want once with its value: %v", len(panics), panics)
	}
	if len(requests) != 1 || requests[0]["status"] != float64(500) || requests[0]["route"] != "GET /scim/directories" {
		t.Errorf("access log of the panicking request: %v", requests)
	}
}

// failUntilBlocked sends one bad credential until the limiter's threshold and checks that
// each failure is a 401, then that the next is a 429 with Retry-After.
func failUntilBlocked(t *testing.T, e *env, path, authz string, threshold int, hdr ...string) {
	t.Helper()
	for i := 1; i <= threshold; i++ {
		if res, raw := e.do(t, "GET", path, authz, "", hdr...); res.StatusCode != 401 {
			t.Fatalf("failure %d answered %d, want 401: %s", i, res.StatusCode, raw)
		}
	}
	res, raw := e.do(t, "GET", path, authz, "", hdr...)
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("failure %d answered %d, want 429: %s", threshold+1, res.StatusCode, raw)
	}
	code := ""
	if !isSCIM(path) {
		code = "rate_limited"
	}
	checkError(t, res, raw, isSCIM(path), code)
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want a positive number of seconds", res.Header.Get("Retry-After"))
	}
}

func TestFailedAuthenticationIsRateLimitedPerAddressAndCredentialPrefix(t *testing.T) {
	const threshold = 30
	limited := func(d *httpapi.Deps) { d.Limiter = auth.NewFailureLimiter(threshold) }

	t.Run("a stale SCIM token is throttled, another tenant's prefix is not", func(t *testing.T) {
		e := sqliteEnv(t, limited)
		stale := "Bearer scim_STALEstaleSTALEstaleSTALEstaleSTALEstale12"
		failUntilBlocked(t, e, "/scim/v2/Users", stale, threshold)
		expectStatus(t, e, 429, "GET", "/scim/v2/ServiceProviderConfig", stale)
		expectStatus(t, e, 401, "GET", "/scim/v2/Users", "Bearer scim_OTHERtenantOTHERtenantOTHERtenant123")
		expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+e.a.token)
	})
	t.Run("a wrong org key secret is throttled on the directories API", func(t *testing.T) {
		e := sqliteEnv(t, limited)
		wrong := basicAuth(e.a.pk, auth.NewSecret(auth.OrgSecretPrefix))
		failUntilBlocked(t, e, "/scim/directories", wrong, threshold)
		expectStatus(t, e, 200, "GET", "/scim/directories", basicAuth(e.b.pk, e.b.sk))
		expectStatus(t, e, 401, "GET", "/scim/directories", basicAuth(e.b.pk, "sk-org-wrong"))
	})
	t.Run("a wrong admin key is throttled", func(t *testing.T) {
		e := sqliteEnv(t, limited)
		failUntilBlocked(t, e, "/api/admin/organizations", "Bearer guessing-the-admin-key", threshold)
	})
}

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	const threshold = 30
	bad := "Bearer scim_FORWARDEDforwardedFORWARDEDforwarded1"

	t.Run("without trusted proxies every forwarded client shares the peer's bucket", func(t *testing.T) {
		e := sqliteEnv(t, func(d *httpapi.Deps) { d.Limiter = auth.NewFailureLimiter(threshold) })
		failUntilBlocked(t, e, "/scim/v2/Users", bad, threshold, "X-Forwarded-For", "203.0.113.1")
		expectStatusWith(t, e, 429, "/scim/v2/Users", bad, "X-Forwarded-For", "203.0.113.2")

		res, raw := e.do(t, "POST", "/scim/directories", basicAuth(e.a.pk, e.a.sk), `{"name":"Spoofed"}`, "X-Forwarded-For", "203.0.113.9")
		if res.StatusCode != 201 {
			t.Fatalf("creating a directory answered %d: %s", res.StatusCode, raw)
		}
		e.checkAudit(t, e.vars(), auditWant{org: e.a.orgID, actorType: "org_key", actorID: e.a.keyID, action: "directory.created"}, res)
	})
	t.Run("behind a trusted proxy each forwarded client has its own bucket", func(t *testing.T) {
		proxies, err := auth.ParseTrustedProxies("127.0.0.1/32")
		if err != nil {
			t.Fatal(err)
		}
		e := sqliteEnv(t, func(d *httpapi.Deps) {
			d.Limiter = auth.NewFailureLimiter(threshold)
			d.TrustedProxies = proxies
		})
		if e.clientIP() != "127.0.0.1" {
			t.Skipf("the test server listens on %s, not 127.0.0.1", e.clientIP())
		}
		failUntilBlocked(t, e, "/scim/v2/Users", bad, threshold, "X-Forwarded-For", "203.0.113.1")
		expectStatusWith(t, e, 429, "/scim/v2/Users", bad, "X-Forwarded-For", "203.0.113.1")
		expectStatusWith(t, e, 401, "/scim/v2/Users", bad, "X-Forwarded-For", "203.0.113.2")
		expectStatusWith(t, e, 401, "/scim/v2/Users", bad, "X-Forwarded-For", "198.51.100.7, 203.0.113.3")

		res, raw := e.do(t, "POST", "/scim/directories", basicAuth(e.a.pk, e.a.sk), `{"name":"Forwarded"}`, "X-Forwarded-For", "203.0.113.9")
		if res.StatusCode != 201 {
			t.Fatalf("creating a directory answered %d: %s", res.StatusCode, raw)
		}
		recs, _, err := e.st.ListAudit(context.Background(), e.a.orgID, store.AuditFilter{Action: "directory.created", Page: store.Page{Limit: 1}})
		if err != nil || len(recs) == 0 {
			t.Fatalf("no audit record: %v", err)
		}
		if recs[0].IP != "203.0.113.9" {
			t.Errorf("the audit record names %q, want the forwarded client 203.0.113.9", recs[0].IP)
		}
	})
}

func expectStatusWith(t *testing.T, e *env, want int, path, authz string, hdr ...string) {
	t.Helper()
	if res, raw := e.do(t, "GET", path, authz, "", hdr...); res.StatusCode != want {
		t.Errorf("GET %s %v answered %d, want %d: %s", path, hdr, res.StatusCode, want, raw)
	}
}

func TestRequestIDsAreEchoedWhenSaneMadeOtherwiseAndCarriedThrough(t *testing.T) {
	logs := &lockedBuffer{}
	e := sqliteEnv(t, func(d *httpapi.Deps) { d.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	generated := func(id string) bool {
		b, err := hex.DecodeString(id)
		return err == nil && len(b) == 12
	}
	seen := map[string]bool{}
	for _, tc := range []struct {
		name, sent string
		echoed     bool
	}{
		{"a plain id is echoed", "abc-123", true},
		{"an id with dots and underscores is echoed", "req_2024.07.01-x", true},
		{"an id of 128 characters is echoed", strings.Repeat("a", 128), true},
		{"a missing id is made", "", false},
		{"an id with spaces and quotes is replaced", `bad id"<script>`, false},
		{"an id with a newline-like escape is replaced", "id\\nforged=1", false},
		{"an id of 129 characters is replaced", strings.Repeat("a", 129), false},
		{"a non-ASCII id is replaced", "idé", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.sent != "" {
				hdr = []string{requestIDHdr, tc.sent}
			}
			res, _ := e.do(t, "GET", "/scim/v2/Users", "Bearer "+e.a.token, "", hdr...)
			got := res.Header.Get(requestIDHdr)
			switch {
			case tc.echoed && got != tc.sent:
				t.Errorf("%s = %q, want the sent %q", requestIDHdr, got, tc.sent)
			case !tc.echoed && !generated(got):
				t.Errorf("%s = %q, want 24 fresh hex digits", requestIDHdr, got)
			case !tc.echoed && seen[got]:
				t.Errorf("%s %q was made twice", requestIDHdr, got)
			}
			seen[got] = true
			n := 0
			for _, l := range logs.lines(t) {
				if l["msg"] == "request" && l["request_id"] == got {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d access log lines carry request id %q, want 1", n, got)
			}
		})
	}
	t.Run("the id reaches the audit record", func(t *testing.T) {
		res, raw := e.do(t, "POST", "/scim/directories", basicAuth(e.a.pk, e.a.sk), `{"name":"Traced"}`, requestIDHdr, "audit-trail-1")
		if res.StatusCode != 201 {
			t.Fatalf("creating a directory answered %d: %s", res.StatusCode, raw)
		}
		e.checkAudit(t, e.vars(), auditWant{org: e.a.orgID, actorType: "org_key", actorID: e.a.keyID, action: "directory.created"}, res)
	})
}

func TestTheLogNeverHoldsASecretAndHasOneLinePerRequest(t *testing.T) {
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, sqltest.SQLite(t), auth.Config{Logger: logger}, func(d *httpapi.Deps) { d.Logger = logger })

	secrets := []string{e.adminKey, e.a.sk, e.b.sk, e.a.token, e.b.token}
	type sent struct {
		what, id string
		status   int
	}
	var sentReqs []sent
	call := func(what, method, path, authz, body string, hdr ...string) map[string]any {
		t.Helper()
		if authz != "" {
			secrets = append(secrets, authz)
		}
		res, raw := e.do(t, method, path, authz, body, hdr...)
		sentReqs = append(sentReqs, sent{what, res.Header.Get(requestIDHdr), res.StatusCode})
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m
	}
	reveal := func(m map[string]any, field string) {
		t.Helper()
		s, _ := m[field].(string)
		if s == "" {
			t.Fatalf("no %s in %v", field, m)
		}
		secrets = append(secrets, s)
	}

	wrongAdmin := "Bearer " + auth.NewSecret("roster-admin-")
	unknownToken := "Bearer " + auth.NewSecret(auth.TokenPrefix)
	wrongSecret := basicAuth(e.a.pk, auth.NewSecret(auth.OrgSecretPrefix))
	password := "correct-horse-" + auth.NewSecret("")
	secrets = append(secrets, password)

	call("admin creates an organization", "POST", "/api/admin/organizations", "Bearer "+e.adminKey, `{"name":"Logged"}`)
	call("admin lists organizations", "GET", "/api/admin/organizations", "Bearer "+e.adminKey, "")
	call("a wrong admin key", "GET", "/api/admin/organizations", wrongAdmin, "")
	reveal(call("admin creates a key", "POST", "/api/admin/organizations/"+e.a.orgID+"/apiKeys", "Bearer "+e.adminKey, `{"note":"ci"}`), "secretKey")
	created := call("an org key creates a directory", "POST", "/scim/directories", basicAuth(e.a.pk, e.a.sk), `{"name":"Logged IdP"}`)
	reveal(created, "token")
	call("the new token lists users", "GET", "/scim/v2/Users?filter=userName+eq+%22a%40example.com%22", "Bearer "+created["token"].(string), "")
	reveal(call("an org key regenerates the token", "POST", "/scim/directories/"+created["id"].(string)+"/regenerate-token", basicAuth(e.a.pk, e.a.sk), `{"graceSeconds":60}`), "token")
	call("a valid bearer token", "GET", "/scim/v2/Users", "Bearer "+e.a.token, "")
	call("a valid bearer token creates a user with a password", "POST", "/scim/v2/Users", "Bearer "+e.a.token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"pat@example.com","password":"`+password+`"}`,
		"Content-Type", "application/scim+json")
	if got := sentReqs[len(sentReqs)-1].status; got != 201 {
		t.Fatalf("creating a user with a password answered %d, want 201", got)
	}
	call("an unknown bearer token", "GET", "/scim/v2/Users", unknownToken, "")
	call("a valid org key on SCIM", "GET", "/scim/v2/Groups", basicAuth(e.b.pk, e.b.sk), "")
	call("a valid org key on the directories API", "GET", "/scim/directories", basicAuth(e.a.pk, e.a.sk), "")
	call("a wrong org key secret", "GET", "/scim/directories", wrongSecret, "")
	call("a wrong org key secret on SCIM", "GET", "/scim/v2/Users", wrongSecret, "")
	call("a directory token on the directories API", "GET", "/scim/directories", "Bearer "+e.b.token, "")
	call("an unknown route with credentials", "GET", "/nowhere", "Bearer "+e.adminKey, "")

	text := logs.String()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the log holds a secret (%d characters, starting %.8q)", len(s), s)
		}
	}
	lines := map[string][]map[string]any{}
	total := 0
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" {
			total++
			id, _ := l["request_id"].(string)
			lines[id] = append(lines[id], l)
		}
	}
	if total != len(sentReqs) {
		t.Errorf("%d access log lines for %d requests", total, len(sentReqs))
	}
	for _, r := range sentReqs {
		got := lines[r.id]
		if len(got) != 1 {
			t.Errorf("%s: %d access log lines with its request id %q, want 1", r.what, len(got), r.id)
			continue
		}
		route, _ := got[0]["route"].(string)
		if route == "" || got[0]["status"] != float64(r.status) {
			t.Errorf("%s: access log line %v, want a route and status %d", r.what, got[0], r.status)
		}
	}
}

func TestMetricsAreLabelledByRoutePatternNeverByTenant(t *testing.T) {
	e := sqliteEnv(t, nil)
	expectStatus(t, e, 200, "GET", "/scim/v2/users", "Bearer "+e.a.token)
	expectStatus(t, e, 200, "GET", "/api/public/scim/Users/", "Bearer "+e.b.token)
	expectStatus(t, e, 404, "GET", "/scim/v2/Users/"+unknownID, "Bearer "+e.a.token)
	expectStatus(t, e, 200, "GET", "/scim/directories/"+e.a.dirID, basicAuth(e.a.pk, e.a.sk))
	expectStatus(t, e, 200, "GET", "/api/admin/organizations/"+e.b.orgID, "Bearer "+e.adminKey)
	expectStatus(t, e, 401, "GET", "/scim/v2/Users", "Bearer scim_nope")
	expectStatus(t, e, 404, "GET", "/"+e.a.orgID, "")

	res, raw := e.do(t, "GET", "/metrics", "", "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics answered %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	text := string(raw)
	for _, want := range []string{
		`roster_http_requests_total{code="200",method="GET",route="GET /scim/v2/Users"} 1`,
		`roster_http_requests_total{code="401",method="GET",route="GET /scim/v2/Users"} 1`,
		`roster_http_requests_total{code="200",method="GET",route="GET /api/public/scim/Users"} 1`,
		`roster_http_requests_total{code="404",method="GET",route="GET /scim/v2/Users/{id}"} 1`,
		`roster_http_requests_total{code="200",method="GET",route="GET /scim/directories/{id}"} 1`,
		`roster_http_requests_total{code="200",method="GET",route="GET /api/admin/organizations/{id}"} 1`,
		`roster_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`roster_auth_failures_total{outcome="rejected",scheme="bearer"} 1`,
		`roster_http_request_duration_seconds_count{route="GET /scim/v2/Users"} 2`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("the metrics lack %s", want)
		}
	}
	for _, id := range []string{e.a.orgID, e.b.orgID, e.a.dirID, e.a.keyID, e.a.pk, unknownID} {
		if strings.Contains(text, id) {
			t.Errorf("the metrics hold the id %s", id)
		}
	}
	if strings.Contains(text, "/scim/v2/users") {
		t.Errorf("the metrics hold a raw request path")
	}
}

func TestHealthFollowsTheProcessAndReadinessTheDatabase(t *testing.T) {
	st := &brokenStore{Store: sqltest.SQLite(t)}
	e := newEnv(t, st, auth.Config{}, func(d *httpapi.Deps) { d.Store = st })
	ok := map[string]any{"status": "ok"}
	down := map[string]any{"status": "unavailable", "reason": "database unreachable"}
	for _, tc := range []struct {
		name      string
		pingFails bool
		path      string
		status    int
		want      map[string]any
	}{
		{"the process answers healthz", false, "/healthz", 200, ok},
		{"a reachable database answers readyz", false, "/readyz", 200, ok},
		{"an unreachable database answers readyz 503", true, "/readyz", 503, down},
		{"healthz answers while the database is unreachable", true, "/healthz", 200, ok},
		{"readyz recovers with the database", false, "/readyz", 200, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st.pingFails.Store(tc.pingFails)
			res, raw := e.do(t, "GET", tc.path, "", "")
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != jsonType {
				t.Fatalf("answered %d %q, want %d %q", res.StatusCode, res.Header.Get("Content-Type"), tc.status, jsonType)
			}
			if diff := cmp.Diff(tc.want, decodeObject(t, raw)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentialsLapseWhenTheirTimeComes(t *testing.T) {
	var c clock
	e := newEnv(t, sqltest.SQLite(t), auth.Config{Now: c.now}, nil)
	users := "/scim/v2/Users"

	t.Run("a directory token answers until its lifetime ends", func(t *testing.T) {
		dir, token := e.newDirectory(t, e.a.orgID, "Short-lived")
		expectStatus(t, e, 200, "GET", users, "Bearer "+token)
		c.advance(e.svc.TokenTTL() + time.Minute)
		res, raw := e.do(t, "GET", users, "Bearer "+token, "")
		if res.StatusCode != 401 {
			t.Fatalf("an expired token answered %d: %s", res.StatusCode, raw)
		}
		checkError(t, res, raw, true, "")
		fresh := e.json(t, 200, "POST", "/scim/directories/"+dir+"/regenerate-token", basicAuth(e.a.pk, e.a.sk), "")
		expectStatus(t, e, 200, "GET", users, "Bearer "+fresh["token"].(string))
	})
	t.Run("a grace period ends on time", func(t *testing.T) {
		dir, old := e.newDirectory(t, e.a.orgID, "Rotated")
		fresh := e.json(t, 200, "POST", "/scim/directories/"+dir+"/regenerate-token", basicAuth(e.a.pk, e.a.sk), `{"graceSeconds":60}`)
		expectStatus(t, e, 200, "GET", users, "Bearer "+old)
		c.advance(61 * time.Second)
		expectStatus(t, e, 401, "GET", users, "Bearer "+old)
		expectStatus(t, e, 200, "GET", users, "Bearer "+fresh["token"].(string))
	})
	t.Run("an org key with an expiry stops at it", func(t *testing.T) {
		expires := c.now().Add(time.Hour).UTC().Format(time.RFC3339)
		key := e.json(t, 201, "POST", "/api/admin/organizations/"+e.a.orgID+"/apiKeys", "Bearer "+e.adminKey, `{"expiresAt":"`+expires+`"}`)
		basic := basicAuth(key["publicKey"].(string), key["secretKey"].(string))
		expectStatus(t, e, 200, "GET", "/scim/directories", basic)
		c.advance(2 * time.Hour)
		expectStatus(t, e, 401, "GET", "/scim/directories", basic)
		expectStatus(t, e, 401, "GET", users, basic)
	})
}

func TestGuessesAtTheAdminKeyAreThrottledHoweverTheyVary(t *testing.T) {
	const threshold = 30
	e := sqliteEnv(t, func(d *httpapi.Deps) { d.Limiter = auth.NewFailureLimiter(threshold) })
	for i := 1; i <= threshold; i++ {
		guess := fmt.Sprintf("Bearer guess-%03d-%s", i, auth.NewSecret(""))
		if got := e.status(t, "GET", "/api/admin/organizations", guess); got != 401 {
			t.Fatalf("guess %d answered %d, want 401", i, got)
		}
	}
	res, raw := e.do(t, "GET", "/api/admin/organizations", "Bearer "+auth.NewSecret("another-guess-"), "")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("guess %d answered %d, want 429: %s", threshold+1, res.StatusCode, raw)
	}
	checkError(t, res, raw, false, "rate_limited")
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// Tenants' credentials keep their own buckets.
	expectStatus(t, e, 200, "GET", "/scim/directories", basicAuth(e.a.pk, e.a.sk))
	expectStatus(t, e, 200, "GET", "/scim/v2/Users", "Bearer "+e.a.token)
}

func TestMetricsLabelsStayBoundedWhateverMethodAClientSends(t *testing.T) {
	e := sqliteEnv(t, nil)
	for i := range 5 {
		method := fmt.Sprintf("BREW%d", i)
		if got := e.status(t, method, "/scim/directories", ""); got != http.StatusMethodNotAllowed {
			t.Fatalf("%s answered %d, want 405", method, got)
		}
	}
	_, raw := e.do(t, "GET", "/metrics", "", "")
	if strings.Contains(string(raw), "BREW") {
		t.Errorf("a client-chosen method became a metrics label")
	}
	if want := `roster_http_requests_total{code="405",method="other",route="unmatched"} 5`; !strings.Contains(string(raw), want+"\n") {
		t.Errorf("the metrics lack %s", want)
	}
}
