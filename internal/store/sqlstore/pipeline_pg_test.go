package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// TestAPipelinedTransactionsFirstWriteGoesWithItsBegin covers the PostgreSQL transaction
// that sends BEGIN and its queued writes in the round trip of the first write whose result
// it needs: that write's own failure is its caller's to translate (once), a queued write's
// failure fails the transaction before the write after it, and neither leaves anything
// behind nor a connection that cannot serve the next transaction.
func TestAPipelinedTransactionsFirstWriteGoesWithItsBegin(t *testing.T) {
	st, org := postgresWithOrg(t)
	ctx := context.Background()
	actor := roster.SystemActor("test")

	// The first statement fails on the primary key: a conflict, translated once.
	dup := &roster.Organization{ID: org.ID, Name: "Copy"}
	err := st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrganization(ctx, dup) })
	if roster.KindOf(err) != roster.Conflict || strings.Count(err.Error(), "already exists") != 1 {
		t.Errorf("creating an organization with a taken id = %v, want one conflict", err)
	}
	if got, err := st.GetOrganization(ctx, org.ID); err != nil || got.Name != "Acme" {
		t.Errorf("after the refused copy the organization reads %+v, %v; want Acme", got, err)
	}

	// A queued write fails (its organization does not exist): the write after it does not
	// run, and the transaction fails with the queued write's error.
	later := &roster.Organization{Name: "Later"}
	err = st.Tx(ctx, actor, func(tx store.Tx) error {
		n := time.Now()
		if err := tx.CreateOAuthTokens(ctx, &roster.OAuthToken{OrgID: roster.NewID(), AppID: roster.NewID(), UserID: roster.NewID(),
			Kind: roster.AccessToken, Hash: []byte("h"), FamilyID: roster.NewID(), AuthTime: n, ExpiresAt: n.Add(time.Hour)}); err != nil {
			return err
		}
		return tx.CreateOrganization(ctx, later)
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a transaction whose queued insert references nothing = %v, want NotFound", err)
	}
	if _, err := st.GetOrganization(ctx, later.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the organization written after the failed insert = %v, want NotFound (rolled back)", err)
	}

	// Each pooled connection serves the next transactions, whose first write counts rows.
	for i := range 20 {
		var revoked int
		if err := st.Tx(ctx, actor, func(tx store.Tx) (err error) {
			revoked, err = tx.RevokeOAuthFamily(ctx, org.ID, roster.NewID(), "test")
			return err
		}); err != nil || revoked != 0 {
			t.Fatalf("transaction %d after the failures: revoked %d, %v; want 0, nil", i, revoked, err)
		}
	}
}

// postgresWithOrg opens a fresh PostgreSQL store (skipping without one) holding one
// organization, Acme.
func postgresWithOrg(t *testing.T) (*sqlstore.Store, *roster.Organization) {
	t.Helper()
	st := sqltest.Postgres(t)
	ctx := context.Background()
	org := &roster.Organization{Name: "Acme"}
	if err := st.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error { return tx.CreateOrganization(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	return st, org
}
