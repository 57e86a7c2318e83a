package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

func TestSSODisableIsTheBreakGlass(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)
	org := cliJSON(t, e, "org", "create", "--name", "Acme")["id"].(string)

	// Enforcement on, as PATCH /saml/enforce leaves it.
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error { return tx.SetSSOEnforced(ctx, org, true) }); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, errOut, code := cli(t, e, "sso", "disable", "--org", org)
	if code != 0 || !strings.Contains(out, "enforcement is off") {
		t.Fatalf("sso disable: exit %d, %q %q", code, out, errOut)
	}
	st, err = sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if s, _ := st.GetSSOSettings(ctx, org); s.Enforced {
		t.Error("enforcement is still on")
	}
	recs, _, _ := st.ListAudit(ctx, org, store.AuditFilter{Action: "sso.enforcement_changed", Page: store.Page{Limit: 10}})
	if len(recs) != 2 || recs[0].Actor.ID != "cli" {
		t.Errorf("audit %+v; want the CLI's change recorded", recs)
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"sso", "disable"}, 2},
		{[]string{"sso", "enable", "--org", org}, 2},
		{[]string{"sso", "disable", "--org", "org_missing"}, 1},
	} {
		if _, errOut, code := cli(t, e, c.args...); code != c.code || errOut == "" {
			t.Errorf("roster %v: exit %d %q; want %d with a message", c.args, code, errOut, c.code)
		}
	}
}
