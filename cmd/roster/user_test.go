package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// cliStdin runs one CLI command with stdin and returns stdout, stderr and the exit code.
func cliStdin(t *testing.T, getenv func(string) string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestUserCreateMakesAMemberWhoSignsInWithThePassword(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)
	orgID := cliJSON(t, e, "org", "create", "--name", "Acme")["id"].(string)

	out, errOut, code := cliStdin(t, e, "first owner pass\nsecond line ignored\n",
		"user", "create", "--org", orgID, "--email", "Ada@Acme.example", "--name", "Ada", "--password-stdin", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %q", out)
	}
	if d := cmp.Diff([]string{"email", "id", "orgId", "role"}, keys(got)); d != "" {
		t.Errorf("user create --json fields (-want +got):\n%s", d)
	}
	if got["email"] != "ada@acme.example" || got["orgId"] != orgID || got["role"] != "OWNER" {
		t.Errorf("user create = %v; want the normalized email, the org and OWNER by default", got)
	}

	// A second run for the same email sets the new password on the same member; the last
	// owner is never demoted.
	if _, errOut, code := cliStdin(t, e, "replacement pass\n", "user", "create", "--org", orgID, "--email", "ada@acme.example",
		"--role", "ADMIN", "--password-stdin"); code != 1 || !strings.Contains(errOut, "last OWNER") {
		t.Errorf("demoting the last owner: exit %d, %q; want 1 naming the last OWNER", code, errOut)
	}
	out2, errOut, code := cliStdin(t, e, "replacement pass\r\n",
		"user", "create", "--org", orgID, "--email", "ada@acme.example", "--password-stdin", "--json")
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	var again map[string]any
	_ = json.Unmarshal([]byte(out2), &again)
	if again["id"] != got["id"] || again["role"] != "OWNER" {
		t.Errorf("second run = %v; want the same member, still OWNER", again)
	}

	st, err := sqlstore.Open(t.Context(), db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	people := auth.NewPeople(st, auth.PeopleConfig{})
	if _, err := people.SignIn(t.Context(), "ada@acme.example", "first owner pass", ""); err == nil {
		t.Error("the replaced password still signs in")
	}
	ms, err := people.SignIn(t.Context(), "ADA@acme.example", "replacement pass", "")
	if err != nil || len(ms) != 1 || ms[0].Member.ID != got["id"] {
		t.Errorf("SignIn with the password read from stdin (without its CR LF) = %v, %v", ms, err)
	}
}

func TestUserCreateRefusesBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)
	orgID := cliJSON(t, e, "org", "create", "--name", "Acme")["id"].(string)
	for _, c := range []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		want     string
	}{
		{"no --password-stdin", "long enough pass\n", []string{"--org", orgID, "--email", "a@b.example"}, 2, "--password-stdin is required"},
		{"no --org", "long enough pass\n", []string{"--email", "a@b.example", "--password-stdin"}, 2, "--org is required"},
		{"no --email", "long enough pass\n", []string{"--org", orgID, "--password-stdin"}, 2, "--email is required"},
		{"an unknown role", "long enough pass\n", []string{"--org", orgID, "--email", "a@b.example", "--role", "GOD", "--password-stdin"}, 2, "unknown role"},
		{"an email that is not one", "long enough pass\n", []string{"--org", orgID, "--email", "nobody", "--password-stdin"}, 2, "not an email address"},
		{"an empty standard input", "", []string{"--org", orgID, "--email", "a@b.example", "--password-stdin"}, 1, "holds no password"},
		{"a short password", "short\n", []string{"--org", orgID, "--email", "a@b.example", "--password-stdin"}, 1, "at least 10 characters"},
		{"an unknown organization", "long enough pass\n", []string{"--org", "0190a0a0-0000-7000-8000-000000000000", "--email", "a@b.example", "--password-stdin"}, 1, "not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := cliStdin(t, e, c.stdin, append([]string{"user", "create"}, c.args...)...)
			if code != c.wantCode || !strings.Contains(errOut, c.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d saying %q", code, out, errOut, c.wantCode, c.want)
			}
		})
	}
}
