package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

func TestGroupCommitFailsOnlyTheTransactionsThatFail(t *testing.T) {
	s := sqltest.SQLite(t)
	ctx := context.Background()
	actor := roster.SystemActor("test")
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Tx(ctx, actor, func(tx store.Tx) error {
				if err := tx.CreateOrganization(ctx, &roster.Organization{Name: fmt.Sprintf("org %d", i)}); err != nil {
					return err
				}
				if i%3 == 0 {
					return errors.New("refused after writing")
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		switch {
		case i%3 == 0 && err == nil:
			t.Fatalf("transaction %d should have failed", i)
		case i%3 != 0 && err != nil:
			t.Fatalf("transaction %d failed with its batch neighbour: %v", i, err)
		case i%3 != 0:
			want++
		}
	}
	orgs, _, err := s.ListOrganizations(ctx, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != want {
		t.Fatalf("%d organizations committed, want exactly the %d successful transactions", len(orgs), want)
	}
	for _, o := range orgs {
		var i int
		fmt.Sscanf(o.Name, "org %d", &i)
		if i%3 == 0 {
			t.Fatalf("%q was committed although its transaction failed", o.Name)
		}
	}
	audit, _, err := s.ListAudit(ctx, orgs[0].ID, store.AuditFilter{})
	if err != nil || len(audit) != 1 {
		t.Fatalf("audit of a committed org: %d records, %v", len(audit), err)
	}
}

func TestAPanicInATransactionReachesItsCallerAndSparesTheWriter(t *testing.T) {
	s := sqltest.SQLite(t)
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the caller")
			}
		}()
		_ = s.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
			_ = tx.CreateOrganization(ctx, &roster.Organization{Name: "doomed"})
			panic("boom")
		})
	}()
	if err := s.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
		return tx.CreateOrganization(ctx, &roster.Organization{Name: "after"})
	}); err != nil {
		t.Fatalf("the writer did not survive a panic: %v", err)
	}
	orgs, _, _ := s.ListOrganizations(ctx, store.Page{})
	if len(orgs) != 1 || orgs[0].Name != "after" {
		t.Fatalf("orgs after a panicking transaction = %v, want only \"after\"", orgs)
	}
}

func TestACancelledCallerDoesNotSpoilItsBatch(t *testing.T) {
	s := sqltest.SQLite(t)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var wg sync.WaitGroup
	var okCount int
	var mu sync.Mutex
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := ctx
			if i%2 == 0 {
				c = cancelled
			}
			err := s.Tx(c, roster.SystemActor("test"), func(tx store.Tx) error {
				return tx.CreateOrganization(c, &roster.Organization{Name: fmt.Sprint(i)})
			})
			if i%2 == 1 {
				if err != nil {
					t.Errorf("transaction %d failed beside cancelled ones: %v", i, err)
				}
				mu.Lock()
				okCount++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	orgs, _, _ := s.ListOrganizations(ctx, store.Page{Limit: 1000})
	if len(orgs) < okCount {
		t.Fatalf("%d committed, want at least the %d live callers'", len(orgs), okCount)
	}
}
