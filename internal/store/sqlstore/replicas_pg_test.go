package sqlstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// twoReplicas opens two stores on one fresh PostgreSQL database, as two `roster serve`
// processes would, with an organization and a directory whose token each has verified once
// (so that both hold it in their caches).
func twoReplicas(t *testing.T) (a, b *sqlstore.Store, dir roster.Directory, hash []byte) {
	t.Helper()
	skipWithoutPostgres(t)
	dsn := sqltest.PostgresDSN(t)
	ctx := t.Context()
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if !s.WaitListening(10 * time.Second) {
			t.Fatal("the store's listener did not start listening for credential changes")
		}
		return s
	}
	a, b = open(), open()
	actor := roster.SystemActor("test")
	org := &roster.Organization{Name: "Acme"}
	v := "scim_" + rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(v))
	tok := &roster.DirectoryToken{Prefix: v[:9], Hash: sum[:], ExpiresAt: time.Now().Add(time.Hour)}
	dir = roster.Directory{Name: "Okta", Enabled: true, DefaultRole: roster.RoleNone}
	if err := a.Tx(ctx, actor, func(tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		dir.OrgID = org.ID
		return tx.CreateDirectory(ctx, &dir, tok)
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sqlstore.Store{a, b} {
		if _, _, err := s.LookupDirectoryToken(ctx, sum[:], time.Now()); err != nil {
			t.Fatalf("a fresh token is refused: %v", err)
		}
	}
	return a, b, dir, sum[:]
}

// refusedWithin polls s until it refuses the token, for at most d (well under the cache's
// one-second age limit, so that only a notification can explain a refusal in time).
func refusedWithin(ctx context.Context, s *sqlstore.Store, hash []byte, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, _, err := s.LookupDirectoryToken(ctx, hash, time.Now()); err != nil {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

func TestATokenRevokedOnOneReplicaIsRefusedByTheOtherAtOnce(t *testing.T) {
	a, b, dir, hash := twoReplicas(t)
	ctx := t.Context()
	// b revokes the token (a rotation without grace); a had it cached.
	v := "scim_" + rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(v))
	next := &roster.DirectoryToken{OrgID: dir.OrgID, DirectoryID: dir.ID, Prefix: v[:9], Hash: sum[:], ExpiresAt: time.Now().Add(time.Hour)}
	if err := b.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
		return tx.RotateDirectoryToken(ctx, next, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.LookupDirectoryToken(ctx, hash, time.Now()); err == nil {
		t.Fatal("the replica that revoked the token still accepts it after its commit")
	}
	if !refusedWithin(ctx, a, hash, 300*time.Millisecond) {
		t.Fatal("the other replica still accepts the revoked token 300 ms after the commit")
	}
}

func TestAReplicaWhoseListenerLosesItsConnectionForgetsItsCache(t *testing.T) {
	a, _, dir, hash := twoReplicas(t)
	ctx := t.Context()
	if _, _, err := a.LookupDirectoryToken(ctx, hash, time.Now()); err != nil { // freshly cached
		t.Fatal(err)
	}
	// Cut a's listening connection, as a network failure or a server restart would, then
	// expire the token behind Roster's back: no notification is sent for that change, so
	// only a cache that is forgotten when its listener goes deaf (off until it listens again,
	// then cleared) can refuse it before its entries age out.
	if _, err := a.DB().ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN roster_credentials'`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB().ExecContext(ctx, `UPDATE scim_directory_tokens SET expires_at = $2 WHERE directory_id = $1`,
		dir.ID, time.Now().Add(-time.Minute).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if !refusedWithin(ctx, a, hash, 300*time.Millisecond) {
		t.Fatal("a replica whose listener lost its connection still answers from its cache 300 ms later")
	}
	if !a.WaitListening(10 * time.Second) {
		t.Fatal("the listener did not reconnect")
	}
}

// TestTwoReplicasNumberEventsWithoutGapsAndInTheOrderOfTheChanges writes from two stores on
// one database at once, as two replicas behind a load balancer: one user updated over and
// over by writers on both (each update a compare-and-swap on its version, retried when
// another won), while a reader follows the events with its cursor, alternating between the
// replicas. The reader must see every event exactly once, numbers without gaps, and the
// user's versions in increasing order: the events of two changes to one row come in the order
// the changes were made, whichever replica numbered them.
func TestTwoReplicasNumberEventsWithoutGapsAndInTheOrderOfTheChanges(t *testing.T) {
	a, b, dir, _ := twoReplicas(t)
	ctx := t.Context()
	actor := roster.SystemActor("test")
	u := &roster.SCIMUser{OrgID: dir.OrgID, DirectoryID: dir.ID, UserName: "ada@example.com", Active: true, Resource: []byte(`{}`)}
	if err := a.Tx(ctx, actor, func(tx store.Tx) error {
		m := &roster.Member{OrgID: dir.OrgID, Email: "ada@example.com", Name: "Ada", Role: roster.RoleMember}
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		u.MemberID = m.ID
		return tx.CreateSCIMUser(ctx, u)
	}); err != nil {
		t.Fatal(err)
	}
	const writers, updates = 6, 15
	errs := make(chan error, writers)
	for w := range writers {
		s := []*sqlstore.Store{a, b}[w%2]
		go func() {
			for i := 0; i < updates; {
				err := s.Tx(ctx, actor, func(tx store.Tx) error {
					cur, err := tx.GetSCIMUser(ctx, dir.OrgID, dir.ID, u.ID)
					if err != nil {
						return err
					}
					next := *cur
					next.DisplayName = fmt.Sprintf("writer %d update %d", w, i)
					return tx.UpdateSCIMUser(ctx, cur, &next)
				})
				switch {
				case err == nil:
					i++
				case errors.Is(err, store.ErrStale):
				default:
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var seen []roster.Event
	var cursor int64
	read := func(s *sqlstore.Store) {
		evs, err := s.ListEvents(ctx, dir.OrgID, cursor, nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq != cursor+1 {
				t.Fatalf("after event %d the reader got event %d: a gap or a repeat", cursor, e.Seq)
			}
			cursor = e.Seq
			seen = append(seen, e)
		}
	}
	for done, i := 0, 0; done < writers; i++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
			done++
		default:
		}
		read([]*sqlstore.Store{a, b}[i%2])
	}
	read(a)
	read(b)
	var versions []int64
	for _, e := range seen {
		if e.Type != "user.updated" {
			continue
		}
		var doc struct {
			Meta struct{ Version string } `json:"meta"`
		}
		if err := json.Unmarshal(e.Data, &doc); err != nil {
			t.Fatal(err)
		}
		var v int64
		if _, err := fmt.Sscanf(doc.Meta.Version, `W/"%d"`, &v); err != nil {
			t.Fatalf("event %d: version %q: %v", e.Seq, doc.Meta.Version, err)
		}
		versions = append(versions, v)
	}
	if len(versions) != writers*updates {
		t.Fatalf("the reader saw %d updates of %d", len(versions), writers*updates)
	}
	for i := range versions {
		if versions[i] != int64(i+2) {
			t.Fatalf("update events carry versions %v: want 2, 3, 4, … in order", versions)
		}
	}
}
