package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

// env is a Roster server on a fresh database with one organization and one directory.
type env struct {
	t       testing.TB
	handler http.Handler
	url     string
	token   string
	st      store.Store
	orgID   string
	dir     *roster.Directory
	svc     *auth.Service
}

// backends runs fn on SQLite and, when ROSTER_TEST_POSTGRES is set, on PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, sqltest.SQLite(t))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnv(t, sqltest.Postgres(t))) })
}

func newEnv(t *testing.T, st store.Store) *env { return newEnvOn(t, st) }

// newEnvTB makes an env on SQLite for a benchmark.
func newEnvTB(b *testing.B) *env { return newEnvOn(b, sqltest.SQLite(b)) }

func newEnvOn(t testing.TB, st store.Store) *env {
	t.Helper()
	ctx := context.Background()
	svc := auth.NewService(st, auth.Config{})
	org, err := svc.CreateOrganization(ctx, roster.SystemActor("test"), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	dir, token, err := svc.CreateDirectory(ctx, roster.SystemActor("test"), org.ID, "IdP", roster.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	h := httpapi.NewServer(httpapi.Deps{Store: st, Auth: svc, BaseURL: srv.URL})
	srv.Config.Handler = h
	t.Cleanup(srv.Close)
	return &env{t: t, handler: h, url: srv.URL, token: token, st: st, orgID: org.ID, dir: dir, svc: svc}
}

// resp is one answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a SCIM request with the directory token; body may be a string (sent as is) or a
// value (encoded as JSON).
func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasPrefix(path, "/scim/") && !strings.HasPrefix(path, "/api/") {
		path = "/scim/v2" + path
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		_ = dec.Decode(&out.body)
	}
	return out
}

// must fails the test unless the answer has the status.
func (r resp) must(t *testing.T, status int, what string) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	return r
}

func (r resp) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// get walks a path of keys and indexes into a decoded body.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// user is a typical user body.
func user(userName, externalID string) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":   userName,
		"externalId": externalID,
		"name":       map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":     []any{map[string]any{"value": strings.ToLower(userName), "type": "work", "primary": true}},
		"active":     true,
	}
}
