package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

type fixture struct {
	srv       *httptest.Server
	logs      *bytes.Buffer
	token     string
	pk, sk    string
	adminKey  string
	st        store.Store
	dirID     string
	orgID     string
	handlerSt *failingStore
}

// failingStore lets a test make Ping fail or ListDirectories panic.
type failingStore struct {
	store.Store
	pingErr error
	panicky bool
}

func (f *failingStore) Ping(ctx context.Context) error {
	if f.pingErr != nil {
		return f.pingErr
	}
	return f.Store.Ping(ctx)
}

func (f *failingStore) ListDirectories(ctx context.Context, orgID string) ([]roster.Directory, error) {
	if f.panicky {
		panic("store exploded")
	}
	return f.Store.ListDirectories(ctx, orgID)
}

func newFixture(t *testing.T, mutate func(*httpapi.Deps)) *fixture {
	t.Helper()
	st := sqltest.SQLite(t)
	ctx := context.Background()
	svc := auth.NewService(st, auth.Config{})
	org, err := svc.CreateOrganization(ctx, roster.SystemActor("test"), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	key, sk, err := svc.CreateOrgKey(ctx, roster.SystemActor("test"), org.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, token, err := svc.CreateDirectory(ctx, roster.SystemActor("test"), org.ID, "Okta", roster.RoleNone)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{logs: &bytes.Buffer{}, token: token, pk: key.PublicKey, sk: sk, adminKey: "admin-0123456789abcdef",
		st: st, dirID: dir.ID, orgID: org.ID}
	f.handlerSt = &failingStore{Store: st}
	deps := httpapi.Deps{Store: f.handlerSt, Auth: svc, Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
		AdminKey: auth.Secret(f.adminKey), MaxBodyBytes: 1024}
	if mutate != nil {
		mutate(&deps)
	}
	f.srv = httptest.NewServer(httpapi.NewServer(deps))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, authz string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, raw
}

func basic(pk, sk string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(pk, sk)
	return r.Header.Get("Authorization")
}

func TestErrorsComeInTheShapeOfTheirArea(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name, method, path string
		status             int
		scim               bool
	}{
		{"an unknown route", "GET", "/nope", 404, false},
		{"an unknown SCIM route", "GET", "/scim/v2/Widgets", 404, true},
		{"a wrong method", "PUT", "/scim/directories", 405, false},
		{"SCIM without credentials", "GET", "/scim/v2/Users", 401, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, raw := f.do(t, tc.method, tc.path, "", nil)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, raw)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("not JSON: %s", raw)
			}
			if tc.scim {
				if m["status"] != itoa(tc.status) || res.Header.Get("Content-Type") != "application/scim+json; charset=utf-8" {
					t.Errorf("not a SCIM error: %s (%s)", raw, res.Header.Get("Content-Type"))
				}
			} else if _, ok := m["error"].(map[string]any); !ok {
				t.Errorf("not a management error: %s", raw)
			}
			if tc.status == 405 && res.Header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			if tc.status == 401 && len(res.Header.Values("WWW-Authenticate")) == 0 {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestBodiesOverTheLimitGet413(t *testing.T) {
	f := newFixture(t, nil)
	big := strings.Repeat("x", 4096)
	res, _ := f.do(t, "POST", "/scim/directories", basic(f.pk, f.sk), strings.NewReader(`{"name":"`+big+`"}`), "Content-Type", "application/json")
	if res.StatusCode != 413 {
		t.Errorf("with Content-Length: %d, want 413", res.StatusCode)
	}
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte(`{"name":"` + big + `"}`)); pw.Close() }()
	res, _ = f.do(t, "POST", "/scim/v2/Users", "Bearer "+f.token, pr, "Content-Type", "application/scim+json")
	if res.StatusCode != 413 {
		t.Errorf("chunked: %d, want 413", res.StatusCode)
	}
}

func TestFailedAuthenticationIsRateLimitedPerAddressAndPrefix(t *testing.T) {
	f := newFixture(t, func(d *httpapi.Deps) { d.Limiter = auth.NewFailureLimiter(30) })
	bad := "Bearer scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for i := 0; i < 30; i++ {
		if res, _ := f.do(t, "GET", "/scim/v2/Users", bad, nil); res.StatusCode != 401 {
			t.Fatalf("failure %d answered %d, want 401", i+1, res.StatusCode)
		}
	}
	res, _ := f.do(t, "GET", "/scim/v2/Users", bad, nil)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("the 31st failure answered %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res, _ := f.do(t, "GET", "/scim/v2/Users", "Bearer scim_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", nil); res.StatusCode != 401 {
		t.Errorf("another tenant's prefix from the same address got %d, want 401", res.StatusCode)
	}
	if res, _ := f.do(t, "GET", "/scim/v2/Users", "Bearer "+f.token, nil); res.StatusCode != 200 {
		t.Errorf("a valid token of another prefix got %d", res.StatusCode)
	}
}

func TestAPanicAnswers500WithTheRequestIDOnlyAndTheServerGoesOn(t *testing.T) {
	f := newFixture(t, nil)
	f.handlerSt.panicky = true
	res, raw := f.do(t, "GET", "/scim/directories", basic(f.pk, f.sk), nil)
	id := res.Header.Get("X-Request-Id")
	if res.StatusCode != 500 || !strings.Contains(string(raw), id) || strings.Contains(string(raw), "exploded") {
		t.Fatalf("panic answered %d %s", res.StatusCode, raw)
	}
	f.handlerSt.panicky = false
	if res, _ := f.do(t, "GET", "/scim/directories", basic(f.pk, f.sk), nil); res.StatusCode != 200 {
		t.Fatalf("after a panic: %d", res.StatusCode)
	}
	if !strings.Contains(f.logs.String(), "store exploded") {
		t.Errorf("the panic was not logged")
	}
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	f := newFixture(t, nil)
	if res, _ := f.do(t, "GET", "/readyz", "", nil); res.StatusCode != 200 {
		t.Fatalf("readyz = %d", res.StatusCode)
	}
	f.handlerSt.pingErr = errors.New("down")
	if res, _ := f.do(t, "GET", "/readyz", "", nil); res.StatusCode != 503 {
		t.Fatalf("readyz with the database down = %d, want 503", res.StatusCode)
	}
	if res, _ := f.do(t, "GET", "/healthz", "", nil); res.StatusCode != 200 {
		t.Fatalf("healthz = %d", res.StatusCode)
	}
}

func TestLogsAndMetricsNeverCarrySecretsOrTenants(t *testing.T) {
	f := newFixture(t, nil)
	f.do(t, "GET", "/scim/v2/Users", "Bearer "+f.token, nil)
	f.do(t, "GET", "/scim/v2/Users?filter=userName+eq+%22x%22", "Bearer "+f.token+"x", nil)
	f.do(t, "GET", "/scim/directories", basic(f.pk, f.sk), nil)
	f.do(t, "GET", "/scim/directories", basic(f.pk, f.sk+"x"), nil)
	f.do(t, "GET", "/api/admin/organizations", "Bearer "+f.adminKey, nil)
	res, raw := f.do(t, "POST", "/api/admin/organizations/"+f.orgID+"/apiKeys", "Bearer "+f.adminKey, strings.NewReader(`{}`))
	var created struct{ SecretKey string }
	json.Unmarshal(raw, &created)
	if res.StatusCode != 201 || created.SecretKey == "" {
		t.Fatalf("admin key creation: %d %s", res.StatusCode, raw)
	}
	_, metrics := f.do(t, "GET", "/metrics", "", nil)
	logs := f.logs.String()
	for _, secret := range []string{f.token, f.sk, f.adminKey, created.SecretKey, basic(f.pk, f.sk)} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret")
		}
		if strings.Contains(string(metrics), secret) {
			t.Errorf("the metrics hold a secret")
		}
	}
	if strings.Contains(string(metrics), f.orgID) {
		t.Errorf("the metrics are labelled by organization")
	}
	if !strings.Contains(string(metrics), `route="GET /scim/v2/Users"`) {
		t.Errorf("the metrics lack the route pattern label")
	}
	lines := strings.Count(logs, `"msg":"request"`)
	if lines < 7 {
		t.Errorf("%d request log lines for 7 requests", lines)
	}
}

func TestRequestIDsAreEchoedWhenSaneAndMadeOtherwise(t *testing.T) {
	f := newFixture(t, nil)
	if res, _ := f.do(t, "GET", "/healthz", "", nil, "X-Request-Id", "abc-123"); res.Header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("a sane id was not echoed: %q", res.Header.Get("X-Request-Id"))
	}
	if res, _ := f.do(t, "GET", "/healthz", "", nil, "X-Request-Id", "bad id\"<>"); res.Header.Get("X-Request-Id") == "bad id\"<>" || res.Header.Get("X-Request-Id") == "" {
		t.Errorf("a garbage id was echoed or none made: %q", res.Header.Get("X-Request-Id"))
	}
}

func TestTheAdminAPIIsOffWithoutItsKey(t *testing.T) {
	f := newFixture(t, func(d *httpapi.Deps) { d.AdminKey = "" })
	if res, _ := f.do(t, "GET", "/api/admin/organizations", "Bearer anything", nil); res.StatusCode != 404 {
		t.Errorf("admin API without a key = %d, want 404", res.StatusCode)
	}
	g := newFixture(t, nil)
	if res, _ := g.do(t, "GET", "/api/admin/organizations", basic(g.pk, g.sk), nil); res.StatusCode != 401 {
		t.Errorf("an org key on the admin API = %d, want 401", res.StatusCode)
	}
	if res, _ := g.do(t, "GET", "/api/admin/organizations", "Bearer wrong", nil); res.StatusCode != 401 {
		t.Errorf("a wrong admin key = %d, want 401", res.StatusCode)
	}
}
