package sqlstore_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// TestAnEarlierTransactionThatCommitsLaterIsNotSkippedByTheCursor is the case a sequence
// assigned at insert time gets wrong: transaction A writes first but commits after B. A reader
// that already passed B's event must still see A's, so A's number must come after B's.
// PostgreSQL only: on SQLite the second writer waits for the first.
func TestAnEarlierTransactionThatCommitsLaterIsNotSkippedByTheCursor(t *testing.T) {
	st, org := postgresWithOrg(t)
	ctx := context.Background()
	actor := roster.SystemActor("test")
	key := func() *roster.APIKey {
		return &roster.APIKey{OrgID: org.ID, PublicKey: "pk-org-" + roster.NewID(), SecretHash: []byte(roster.NewID())}
	}
	a, b := key(), key()
	aWrote, aCommit, aDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		aDone <- st.Tx(ctx, actor, func(tx store.Tx) error {
			if err := tx.CreateOrgKey(ctx, a); err != nil {
				return err
			}
			close(aWrote)
			<-aCommit
			return nil
		})
	}()
	<-aWrote
	if err := st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrgKey(ctx, b) }); err != nil {
		t.Fatalf("B, committing while A is open: %v", err)
	}
	seen, err := st.ListEvents(ctx, org.ID, 0, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[1].Seq != 2 {
		t.Fatalf("while A is open the reader sees %+v; want organization.created 1 and B's event 2", seen)
	}
	cursor := seen[1].Seq
	close(aCommit)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	next, err := st.ListEvents(ctx, org.ID, cursor, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].Seq != 3 || next[0].Type != "api_key.created" {
		t.Fatalf("after the cursor of B's event the reader sees %+v; want A's event, number 3", next)
	}
}
