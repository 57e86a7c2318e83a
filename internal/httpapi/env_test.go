package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// testBaseURL is the public URL of the scenario servers. They are given it with a trailing
// slash, which NewServer drops.
const testBaseURL = "http://roster.test"

// backends are the stores every scenario table runs on. PostgreSQL skips, saying why, when
// ROSTER_TEST_POSTGRES is unset.
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store { return sqltest.SQLite(tb) }},
	{"postgres", func(tb testing.TB) store.Store { return sqltest.Postgres(tb) }},
}

// tenant is an organization with one org key and one directory, made through auth.Service
// the way the CLI makes them.
type tenant struct {
	orgID, keyID, pk, sk string
	dirID, token         string
}

// env is one server on one store, with two tenants and an admin key.
type env struct {
	st       store.Store
	svc      *auth.Service
	srv      *httptest.Server
	adminKey string
	a, b     tenant
}

// newEnv serves NewServer on st; mutate may adjust the dependencies before the server starts.
func newEnv(t testing.TB, st store.Store, cfg auth.Config, mutate func(*httpapi.Deps)) *env {
	t.Helper()
	e := &env{st: st, svc: auth.NewService(st, cfg), adminKey: "roster-admin-" + auth.NewSecret("")}
	e.a = e.newTenant(t, "Acme")
	e.b = e.newTenant(t, "Umbrella")
	d := httpapi.Deps{Store: st, Auth: e.svc, BaseURL: testBaseURL + "/", AdminKey: auth.Secret(e.adminKey)}
	if mutate != nil {
		mutate(&d)
	}
	e.srv = httptest.NewServer(httpapi.NewServer(d))
	t.Cleanup(e.srv.Close)
	return e
}

var cli = roster.SystemActor("test")

func (e *env) newOrg(t testing.TB, name string) string {
	t.Helper()
	org, err := e.svc.CreateOrganization(context.Background(), cli, name)
	if err != nil {
		t.Fatalf("creating organization %q: %v", name, err)
	}
	return org.ID
}

func (e *env) newKey(t testing.TB, orgID string) (keyID, pk, sk string) {
	t.Helper()
	key, secret, err := e.svc.CreateOrgKey(context.Background(), cli, orgID, "", nil)
	if err != nil {
		t.Fatalf("creating org key: %v", err)
	}
	return key.ID, key.PublicKey, secret
}

func (e *env) newDirectory(t testing.TB, orgID, name string) (dirID, token string) {
	t.Helper()
	dir, token, err := e.svc.CreateDirectory(context.Background(), cli, orgID, name, roster.RoleNone)
	if err != nil {
		t.Fatalf("creating directory %q: %v", name, err)
	}
	return dir.ID, token
}

func (e *env) newTenant(t testing.TB, name string) tenant {
	t.Helper()
	var tn tenant
	tn.orgID = e.newOrg(t, name)
	tn.keyID, tn.pk, tn.sk = e.newKey(t, tn.orgID)
	tn.dirID, tn.token = e.newDirectory(t, tn.orgID, name+" IdP")
	return tn
}

// vars are the placeholders a scenario row may use in its path, credentials and body.
type vars map[string]string

func (v vars) expand(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	for k, val := range v {
		s = strings.ReplaceAll(s, "{"+k+"}", val)
	}
	return s
}

// vars returns the placeholders of the environment's fixtures.
func (e *env) vars() vars {
	return vars{
		"admin": e.adminKey,
		"orgA":  e.a.orgID, "keyA": e.a.keyID, "pkA": e.a.pk, "skA": e.a.sk, "dirA": e.a.dirID, "tokenA": e.a.token,
		"orgB": e.b.orgID, "keyB": e.b.keyID, "pkB": e.b.pk, "skB": e.b.sk, "dirB": e.b.dirID, "tokenB": e.b.token,
		"basicA": basicAuth(e.a.pk, e.a.sk), "basicB": basicAuth(e.b.pk, e.b.sk),
	}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// do sends one request; a non-empty body goes as application/json unless hdr says otherwise.
// hdr holds header name and value pairs.
func (e *env) do(t testing.TB, method, path, authz, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return e.send(t, method, path, authz, rd, hdr...)
}

func (e *env) send(t testing.TB, method, path, authz string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return res, raw
}

// status answers only the status code of a request.
func (e *env) status(t testing.TB, method, path, authz string) int {
	t.Helper()
	res, _ := e.do(t, method, path, authz, "")
	return res.StatusCode
}

// json makes a request that must answer want, and decodes its JSON object.
func (e *env) json(t testing.TB, want int, method, path, authz, body string) map[string]any {
	t.Helper()
	res, raw := e.do(t, method, path, authz, body)
	if res.StatusCode != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	return decodeObject(t, raw)
}

func decodeObject(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("the body is not a JSON object: %v: %q", err, raw)
	}
	return m
}

// shapeOf replaces every leaf of a decoded JSON value with its type ("string", "number",
// "bool", "null", or "time" for an RFC 3339 string), so a test states the shape of a body
// without its generated ids and timestamps.
func shapeOf(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = shapeOf(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = shapeOf(x)
		}
		return out
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return "time"
		}
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// keysOf lists an object's keys, sorted.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The shapes of the management API's bodies.
var (
	orgShape = map[string]any{"id": "string", "name": "string", "createdAt": "time", "updatedAt": "time"}

	keyCreatedShape = map[string]any{"id": "string", "createdAt": "time", "expiresAt": "null", "lastUsedAt": "null",
		"note": "string", "publicKey": "string", "displaySecretKey": "string", "secretKey": "string"}

	keyListedKeys = []string{"createdAt", "displaySecretKey", "expiresAt", "id", "lastUsedAt", "note", "publicKey"}

	directoryCreatedShape = map[string]any{"id": "string", "orgId": "string", "name": "string",
		"scimBaseUrl": "string", "token": "string", "tokenExpiresAt": "time"}

	directoryShape = map[string]any{"id": "string", "orgId": "string", "name": "string", "defaultRole": "string",
		"enabled": "bool", "isDefault": "bool", "scimBaseUrl": "string", "tokenPrefix": "string",
		"tokenExpiresAt": "time", "tokenLastUsedAt": "null", "createdAt": "time", "updatedAt": "time"}

	tokenShape = map[string]any{"id": "string", "token": "string", "tokenExpiresAt": "time"}

	deletedShape = map[string]any{"success": "bool", "message": "string"}

	apiErrorShape = map[string]any{"error": map[string]any{"code": "string", "message": "string"}}

	scimErrorShape = map[string]any{"schemas": []any{"string"}, "status": "string", "detail": "string"}
)

const (
	jsonType     = "application/json; charset=utf-8"
	scimType     = "application/scim+json; charset=utf-8"
	errorSchema  = "urn:ietf:params:scim:api:messages:2.0:Error"
	listSchema   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	spcSchema    = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	scimV2       = "/scim/v2"
	scimABVBase  = "/api/public/scim"
	wwwAuthHdr   = "WWW-Authenticate"
	requestIDHdr = "X-Request-Id"
)

// isSCIM reports whether a path is answered in the SCIM wire format.
func isSCIM(path string) bool {
	path, _, _ = strings.Cut(path, "?")
	for _, base := range []string{scimV2, scimABVBase} {
		if path == base || strings.HasPrefix(path, base+"/") {
			return true
		}
	}
	return false
}

// checkError checks an error response: the body shape of its area, the status repeated as a
// string in SCIM, the management error code, and WWW-Authenticate on 401.
func checkError(t testing.TB, res *http.Response, raw []byte, scimArea bool, code string) {
	t.Helper()
	body := decodeObject(t, raw)
	if scimArea {
		if ct := res.Header.Get("Content-Type"); ct != scimType {
			t.Errorf("Content-Type %q, want %q", ct, scimType)
		}
		delete(body, "scimType") // present only where RFC 7644 section 3.12 names one
		if diff := cmp.Diff(scimErrorShape, shapeOf(body)); diff != "" {
			t.Errorf("SCIM error shape (-want +got):\n%s\n%s", diff, raw)
		}
		if body["status"] != fmt.Sprint(res.StatusCode) || fmt.Sprint(body["schemas"]) != "["+errorSchema+"]" {
			t.Errorf("SCIM error body %s does not match status %d", raw, res.StatusCode)
		}
	} else {
		if ct := res.Header.Get("Content-Type"); ct != jsonType {
			t.Errorf("Content-Type %q, want %q", ct, jsonType)
		}
		if diff := cmp.Diff(apiErrorShape, shapeOf(body)); diff != "" {
			t.Errorf("error shape (-want +got):\n%s\n%s", diff, raw)
		}
		if code != "" {
			if got := body["error"].(map[string]any)["code"]; got != code {
				t.Errorf("error code %q, want %q", got, code)
			}
		}
	}
	if res.StatusCode == http.StatusUnauthorized && len(res.Header.Values(wwwAuthHdr)) == 0 {
		t.Errorf("401 without %s", wwwAuthHdr)
	}
}

// lockedBuffer is a log sink that the server's goroutines and the test may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the buffer's JSON log lines.
func (b *lockedBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// brokenStore is a store whose failures a test switches on: ListDirectories panics, Ping
// fails.
type brokenStore struct {
	store.Store
	panicOnList atomic.Bool
	pingFails   atomic.Bool
}

func (s *brokenStore) ListDirectories(ctx context.Context, orgID string) ([]roster.Directory, error) {
	if s.panicOnList.Load() {
		panic("ListDirectories: connection pool corrupted")
	}
	return s.Store.ListDirectories(ctx, orgID)
}

func (s *brokenStore) Ping(ctx context.Context) error {
	if s.pingFails.Load() {
		return fmt.Errorf("dial tcp 10.0.0.5:5432: connection refused")
	}
	return s.Store.Ping(ctx)
}

// clock is a settable time source for auth.Config.Now.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func pastClock(d time.Duration) func() time.Time {
	return func() time.Time { return time.Now().Add(-d) }
}
