package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env builds a getenv from pairs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// cli runs one CLI command and returns stdout, stderr and the exit code main would give.
func cli(t *testing.T, getenv func(string) string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// cliJSON runs a --json command that must succeed and decodes its one object.
func cliJSON(t *testing.T, getenv func(string) string, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := cli(t, getenv, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("roster %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("roster %s --json printed no JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		t.Fatalf("roster %s --json printed more than one JSON value:\n%s", strings.Join(args, " "), out)
	}
	return m
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCommandsPrintExactlyTheContractShapes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)

	org := cliJSON(t, e, "org", "create", "--name", "Acme")
	if d := cmp.Diff([]string{"createdAt", "id", "name"}, keys(org)); d != "" {
		t.Errorf("org create --json fields (-want +got):\n%s", d)
	}
	list := cliJSON(t, e, "org", "list")
	if d := cmp.Diff([]string{"organizations"}, keys(list)); d != "" {
		t.Errorf("org list --json fields (-want +got):\n%s", d)
	}
	if n := len(list["organizations"].([]any)); n != 1 {
		t.Errorf("org list shows %d organizations, want 1", n)
	}
	orgID := org["id"].(string)
	key := cliJSON(t, e, "org", "key", "create", "--org", orgID, "--note", "ci")
	if d := cmp.Diff([]string{"createdAt", "displaySecretKey", "id", "note", "publicKey", "secretKey"}, keys(key)); d != "" {
		t.Errorf("org key create --json fields (-want +got):\n%s", d)
	}
	if !strings.HasPrefix(key["publicKey"].(string), "pk-org-") || !strings.HasPrefix(key["secretKey"].(string), "sk-org-") {
		t.Errorf("key pair has wrong prefixes: %v", key)
	}
	dir := cliJSON(t, e, "scim", "directory", "create", "--org", orgID, "--name", "Okta", "--base-url", "https://roster.example.com")
	if d := cmp.Diff([]string{"id", "name", "orgId", "scimBaseUrl", "token", "tokenExpiresAt"}, keys(dir)); d != "" {
		t.Errorf("scim directory create --json fields (-want +got):\n%s", d)
	}
	if dir["scimBaseUrl"] != "https://roster.example.com/scim/v2" {
		t.Errorf("scimBaseUrl = %v, want the --base-url plus /scim/v2", dir["scimBaseUrl"])
	}
	exp, err := time.Parse(time.RFC3339, dir["tokenExpiresAt"].(string))
	if err != nil || exp.Sub(time.Now()) < 364*24*time.Hour || exp.Sub(time.Now()) > 366*24*time.Hour {
		t.Errorf("tokenExpiresAt = %v, want about a year from now", dir["tokenExpiresAt"])
	}
}

func TestBadUsageExitsTwoWithAClearMessage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"an unknown command", []string{"frobnicate"}, "unknown command"},
		{"org create without a name", []string{"org", "create"}, "--name is required"},
		{"an unknown flag", []string{"org", "list", "--colour"}, "colour"},
		{"a directory that would provision owners", []string{"scim", "directory", "create", "--org", "x", "--name", "y", "--default-role", "GOD"}, "unknown role"},
		{"a stray argument", []string{"migrate", "now"}, "unexpected argument"},
		{"backup without a target", []string{"backup"}, "--to is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, env("ROSTER_DATABASE", db), tc.args...)
			if code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not say %q", errOut, tc.want)
			}
			if out != "" && tc.args != nil {
				t.Errorf("stdout should be empty on bad usage, got %q", out)
			}
		})
	}
	t.Run("a malformed environment twin", func(t *testing.T) {
		_, errOut, code := cli(t, env("ROSTER_DATABASE", db, "ROSTER_READ_TIMEOUT", "soon"), "serve")
		if code != 2 || !strings.Contains(errOut, "ROSTER_READ_TIMEOUT") {
			t.Errorf("exit %d, stderr %q: want 2 naming ROSTER_READ_TIMEOUT", code, errOut)
		}
	})
	t.Run("an organization that does not exist is an error, not bad usage", func(t *testing.T) {
		_, errOut, code := cli(t, env("ROSTER_DATABASE", db), "org", "key", "create", "--org", "nope")
		if code != 1 || !strings.Contains(errOut, "not found") {
			t.Errorf("exit %d, stderr %q: want 1 and 'not found'", code, errOut)
		}
	})
}

func TestFlagsWinOverTheirEnvironmentTwins(t *testing.T) {
	dir := t.TempDir()
	envDB, flagDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	cliJSON(t, env("ROSTER_DATABASE", envDB), "org", "create", "--name", "in env db", "--database", flagDB)
	if _, err := os.Stat(flagDB); err != nil {
		t.Fatalf("the --database flag was not used: %v", err)
	}
	if _, err := os.Stat(envDB); err == nil {
		t.Fatalf("ROSTER_DATABASE was used although --database was given")
	}
}

// server is a running `roster serve`.
type server struct {
	url  string
	logs *syncBuffer
	stop func() error
}

// serve starts `roster serve` on a free loopback port and waits until it listens.
func serve(t *testing.T, getenv func(string) string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), io.Discard, logs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct {
				Msg     string `json:"msg"`
				BaseURL string `json:"base_url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				var once sync.Once
				var stopErr error
				s := &server{url: rec.BaseURL, logs: logs, stop: func() error {
					once.Do(func() { cancel(); stopErr = <-done })
					return stopErr
				}}
				t.Cleanup(func() { s.stop() })
				return s
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("roster serve exited early: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("roster serve did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// call makes one HTTP request and returns status and body.
func call(t *testing.T, method, url, authz string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s %s: 401 without WWW-Authenticate", method, url)
	}
	return resp.StatusCode, m
}

func bearer(token string) string { return "Bearer " + token }

func basic(pk, sk string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(pk, sk)
	return req.Header.Get("Authorization")
}

// fixture is an organization with an org key and a directory made with the CLI.
type fixture struct {
	orgID, pk, sk, dirID, token string
}

func newFixture(t *testing.T, e func(string) string, name string) fixture {
	t.Helper()
	org := cliJSON(t, e, "org", "create", "--name", name)
	id := org["id"].(string)
	key := cliJSON(t, e, "org", "key", "create", "--org", id)
	dir := cliJSON(t, e, "scim", "directory", "create", "--org", id, "--name", name+" IdP")
	return fixture{orgID: id, pk: key["publicKey"].(string), sk: key["secretKey"].(string),
		dirID: dir["id"].(string), token: dir["token"].(string)}
}

func TestAServerOnTheEmbeddedDatabaseHonoursCredentials(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	const adminKey = "admin-key-for-the-test-0123456789"
	e := env("ROSTER_DATABASE", db, "ROSTER_ADMIN_API_KEY", adminKey)
	a := newFixture(t, e, "Org A")
	b := newFixture(t, e, "Org B")
	srv := serve(t, e)

	t.Run("a token from the CLI opens GET /scim/v2/Users", func(t *testing.T) {
		code, body := call(t, "GET", srv.url+"/scim/v2/Users", bearer(a.token), nil)
		if code != 200 || body["totalResults"] != float64(0) {
			t.Fatalf("GET /Users = %d %v, want 200 and an empty list", code, body)
		}
	})
	t.Run("after regeneration the old token gets 401 at once", func(t *testing.T) {
		code, body := call(t, "POST", srv.url+"/scim/directories/"+a.dirID+"/regenerate-token", basic(a.pk, a.sk), nil)
		if code != 200 {
			t.Fatalf("regenerate-token = %d %v", code, body)
		}
		if code, _ := call(t, "GET", srv.url+"/scim/v2/Users", bearer(a.token), nil); code != 401 {
			t.Errorf("old token answered %d, want 401", code)
		}
		a.token = body["token"].(string)
		if code, _ := call(t, "GET", srv.url+"/scim/v2/Users", bearer(a.token), nil); code != 200 {
			t.Errorf("new token answered %d, want 200", code)
		}
	})
	t.Run("an expired token gets 401", func(t *testing.T) {
		sqlDB, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		defer sqlDB.Close()
		if _, err := sqlDB.Exec(`UPDATE scim_directory_tokens SET expires_at = $1 WHERE directory_id = $2`,
			time.Now().Add(-time.Second).UnixMicro(), b.dirID); err != nil {
			t.Fatal(err)
		}
		if code, _ := call(t, "GET", srv.url+"/scim/v2/Users", bearer(b.token), nil); code != 401 {
			t.Errorf("expired token answered %d, want 401", code)
		}
	})
	t.Run("org A's key gets 404 for org B's directory", func(t *testing.T) {
		for _, m := range []struct{ method, path string }{
			{"GET", "/scim/directories/" + b.dirID},
			{"PATCH", "/scim/directories/" + b.dirID},
			{"DELETE", "/scim/directories/" + b.dirID},
			{"POST", "/scim/directories/" + b.dirID + "/regenerate-token"},
		} {
			body := map[string]any{}
			if m.method == "PATCH" {
				body["name"] = "taken over"
			}
			if code, resp := call(t, m.method, srv.url+m.path, basic(a.pk, a.sk), body); code != 404 {
				t.Errorf("%s %s with org A's key = %d %v, want 404", m.method, m.path, code, resp)
			}
		}
		code, dir := call(t, "GET", srv.url+"/scim/directories/"+b.dirID, basic(b.pk, b.sk), nil)
		if code != 200 || dir["name"] != "Org B IdP" {
			t.Errorf("org B's directory changed: %d %v", code, dir)
		}
	})
	t.Run("no secret appears in list responses", func(t *testing.T) {
		for _, path := range []string{"/scim/directories"} {
			req, _ := http.NewRequest("GET", srv.url+path, nil)
			req.Header.Set("Authorization", basic(a.pk, a.sk))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, secret := range []string{a.sk, a.token, b.token} {
				if strings.Contains(string(raw), secret) {
					t.Errorf("GET %s shows a secret", path)
				}
			}
		}
		req, _ := http.NewRequest("GET", srv.url+"/api/admin/organizations/"+a.orgID+"/apiKeys", nil)
		req.Header.Set("Authorization", bearer(adminKey))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(raw), a.sk) || strings.Contains(string(raw), "secretKey") {
			t.Errorf("admin key list = %d %s: want 200 without secrets", resp.StatusCode, raw)
		}
	})

	if err := srv.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	t.Run("no secret appears in clear in the database file or the logs", func(t *testing.T) {
		var files []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			raw, err := os.ReadFile(db + suffix)
			if err == nil {
				files = append(files, raw...)
			}
		}
		if len(files) == 0 {
			t.Fatal("read nothing of the database")
		}
		for _, secret := range []string{a.sk, a.token, b.sk, b.token, adminKey} {
			if bytes.Contains(files, []byte(secret)) {
				t.Errorf("the database holds a secret in clear")
			}
			if strings.Contains(srv.logs.String(), secret) {
				t.Errorf("the log holds a secret in clear")
			}
		}
	})
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)
	f := newFixture(t, e, "Acme")
	srv := serve(t, e)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", srv.url+"/scim/directories", pr)
	req.Header.Set("Authorization", basic(f.pk, f.sk))
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	if _, err := pw.Write([]byte(`{"name":`)); err != nil { // the request is now in flight
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- srv.stop() }()
	time.Sleep(200 * time.Millisecond)
	if _, err := pw.Write([]byte(`"late but finished"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-res
	if r.err != nil || r.code != http.StatusCreated {
		t.Fatalf("request in flight during shutdown: %d %v, want 201", r.code, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("serve returned %v after a graceful shutdown", err)
	}
}

func TestBackupMakesAConsistentCopyThatOpens(t *testing.T) {
	dir := t.TempDir()
	db, copyPath := filepath.Join(dir, "roster.db"), filepath.Join(dir, "copy.db")
	e := env("ROSTER_DATABASE", db)
	for i := 0; i < 3; i++ {
		cliJSON(t, e, "org", "create", "--name", fmt.Sprintf("org %d", i))
	}
	if out, errOut, code := cli(t, e, "backup", "--to", copyPath); code != 0 {
		t.Fatalf("backup: exit %d %s %s", code, out, errOut)
	}
	list := cliJSON(t, env("ROSTER_DATABASE", copyPath), "org", "list")
	if n := len(list["organizations"].([]any)); n != 3 {
		t.Errorf("the copy has %d organizations, want 3", n)
	}
	if _, _, code := cli(t, e, "backup", "--to", copyPath); code != 1 {
		t.Errorf("a backup over an existing file exited %d, want 1", code)
	}
}

// replicasEnv is the environment of servers that share one fresh PostgreSQL database and
// one keyring, as replicas do.
func replicasEnv(t *testing.T) func(string) string {
	t.Helper()
	secretKey, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return env("ROSTER_DATABASE", sqltest.PostgresDSN(t), "ROSTER_SECRET_KEY", secretKey)
}

func TestTwoServersOnOnePostgreSQLActAsOne(t *testing.T) {
	e := replicasEnv(t)
	f := newFixture(t, e, "Acme")
	one, two := serve(t, e), serve(t, e)

	code, created := call(t, "POST", one.url+"/scim/directories", basic(f.pk, f.sk), map[string]any{"name": "Entra"})
	if code != 201 {
		t.Fatalf("create directory on replica one = %d %v", code, created)
	}
	token := created["token"].(string)
	if code, _ := call(t, "GET", two.url+"/scim/v2/Users", bearer(token), nil); code != 200 {
		t.Fatalf("a token created through replica one answered %d on replica two, want 200", code)
	}
	code, _ = call(t, "POST", two.url+"/scim/directories/"+created["id"].(string)+"/regenerate-token", basic(f.pk, f.sk), nil)
	if code != 200 {
		t.Fatalf("regenerate on replica two = %d", code)
	}
	if code, _ := call(t, "GET", one.url+"/scim/v2/Users", bearer(token), nil); code != 401 {
		t.Fatalf("a token revoked through replica two answered %d on replica one, want 401", code)
	}
	code, _ = call(t, "DELETE", one.url+"/scim/directories/"+f.dirID, basic(f.pk, f.sk), nil)
	if code != 200 {
		t.Fatalf("delete directory on replica one = %d", code)
	}
	if code, _ := call(t, "GET", two.url+"/scim/v2/Users", bearer(f.token), nil); code != 401 {
		t.Fatalf("the token of a directory deleted through replica one answered %d on replica two, want 401", code)
	}
}

func TestPostgreSQLServeRequiresTheSharedKeyring(t *testing.T) {
	dsn := sqltest.PostgresDSN(t)
	_, errOut, code := cli(t, env("ROSTER_DATABASE", dsn), "serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "ROSTER_SECRET_KEY") {
		t.Fatalf("serve on PostgreSQL without ROSTER_SECRET_KEY: exit %d %q, want 1 naming the variable", code, errOut)
	}
}

func TestSQLiteServeCreatesAKeyFileBesideTheDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	srv := serve(t, env("ROSTER_DATABASE", db))
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(db + ".key")
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestVersionPrintsVersionCommitAndGo(t *testing.T) {
	out, _, code := cli(t, env(), "version", "--json")
	if code != 0 {
		t.Fatal(code)
	}
	var v map[string]string
	if err := json.NewDecoder(bufio.NewReader(strings.NewReader(out))).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v["version"] == "" || v["go"] == "" || v["commit"] == "" {
		t.Errorf("version --json = %v, want version, commit and go", v)
	}
}

func TestTheRequestLogShowsWhyAPushFailed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)
	f := newFixture(t, e, "Acme")
	srv := serve(t, e)
	if code, _ := call(t, "POST", srv.url+"/scim/v2/Users", bearer(f.token), map[string]any{"userName": "ada@example.com"}); code != 201 {
		t.Fatalf("create = %d", code)
	}
	if code, _ := call(t, "GET", srv.url+"/scim/v2/Users?count=1", bearer(f.token), nil); code != 200 {
		t.Fatalf("list = %d", code)
	}
	if code, _ := call(t, "POST", srv.url+"/scim/v2/Users", bearer(f.token), map[string]any{"userName": "ADA@example.com"}); code != 409 {
		t.Fatalf("duplicate = %d", code)
	}
	code, body := call(t, "GET", srv.url+"/scim/directories/"+f.dirID+"/requests", basic(f.pk, f.sk), nil)
	if code != 200 {
		t.Fatalf("request log = %d %v", code, body)
	}
	reqs, _ := body["requests"].([]any)
	if len(reqs) != 3 {
		t.Fatalf("request log has %d entries, want 3: %v", len(reqs), body)
	}
	if read := reqs[1].(map[string]any); read["method"] != "GET" || read["status"] != float64(200) {
		t.Errorf("the successful read is not in the log, in order: %v", reqs)
	}
	newest := reqs[0].(map[string]any)
	if newest["status"] != float64(409) || newest["scimType"] != "uniqueness" || newest["method"] != "POST" ||
		newest["path"] != "/scim/v2/Users" || newest["detail"] == "" || newest["requestId"] == "" {
		t.Errorf("newest entry = %v, want the 409 with its SCIM error", newest)
	}
	raw, _ := json.Marshal(body)
	if strings.Contains(string(raw), f.token) || strings.Contains(string(raw), "ada@example.com\"}") {
		t.Errorf("the request log holds a credential or a body: %s", raw)
	}
	if code, _ := call(t, "GET", srv.url+"/scim/directories/"+f.dirID+"/requests", bearer(f.token), nil); code != 401 {
		t.Errorf("a directory token read the request log: %d", code)
	}
}
