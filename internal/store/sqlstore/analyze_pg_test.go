package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// TestTheAnalyzerGivesAFreshDirectoryItsPlans is the first push of an identity provider
// into a new installation: thousands of users in a directory whose tables PostgreSQL has no
// statistics for yet. The analyzer's pass gathers them (the table's row count and its
// columns' statistics), the check every create makes for a returning person is then planned
// on the userName's unique index, and a second pass finds nothing left to do.
func TestTheAnalyzerGivesAFreshDirectoryItsPlans(t *testing.T) {
	st, org := postgresWithOrg(t)
	ctx := context.Background()
	actor := roster.SystemActor("test")
	dir := &roster.Directory{OrgID: org.ID, Name: "Okta", DefaultRole: roster.RoleMember, Enabled: true}
	if err := st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateDirectory(ctx, dir, nil) }); err != nil {
		t.Fatal(err)
	}
	db := st.WriteDB()
	const n = 5000
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, org_id, email, name, status, created_at, updated_at)
		SELECT md5('u' || i), $1, 'lg-19imi2-' || i || '@example.com', 'User ' || i, 'active', 0, 0 FROM generate_series(1, $2) i`, org.ID, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO scim_users (id, org_id, directory_id, user_id, user_name, user_name_key, external_id, active, resource, version, created_at, updated_at)
		SELECT md5('s' || i), $1, $2, md5('u' || i), 'lg-19imi2-' || i || '@example.com', 'lg-19imi2-' || i || '@example.com', '00u19imi2' || i, true, '{}', 1, 0, 0
		FROM generate_series(1, $3) i`, org.ID, dir.ID, n); err != nil {
		t.Fatal(err)
	}

	// The inserting connection reports its row counts to the statistics system within a
	// second or so of going idle; then a pass (this one, or the store's own in the background)
	// analyzes both tables.
	analyzed := func(table string) bool {
		var tuples float64
		var columns int
		if err := db.QueryRowContext(ctx, `SELECT c.reltuples, (SELECT COUNT(*) FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = c.relname)
			FROM pg_class c WHERE c.oid = $1::regclass`, table).Scan(&tuples, &columns); err != nil {
			t.Fatal(err)
		}
		return tuples >= n && columns > 0
	}
	for deadline := time.Now().Add(20 * time.Second); !analyzed("scim_users") || !analyzed("users"); {
		if time.Now().After(deadline) {
			t.Fatalf("scim_users (analyzed: %v) and users (%v) still lack statistics for their %d new rows", analyzed("scim_users"), analyzed("users"), n)
		}
		if _, err := st.AnalyzeStale(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	rows, err := db.QueryContext(ctx, `EXPLAIN SELECT `+sqlstore.NewPersonTakenSQL,
		org.ID, dir.ID, "nobody@example.com", "ext-nobody", "nobody@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	rows.Close()
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "scim_users_user_name") || strings.Contains(text, "Filter: (user_name_key") {
		t.Errorf("the returning-person check is planned as\n%s\nwant the userName looked up in scim_users_user_name", text)
	}

	again, err := st.AnalyzeStale(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again, "scim_users") {
		t.Errorf("a second pass analyzed %v again; want nothing new for scim_users", again)
	}
}
