package sqlstore_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
	"github.com/rosterhq/roster/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return sqltest.SQLite(t) })
}

func TestPostgres(t *testing.T) {
	skipWithoutPostgres(t)
	storetest.Run(t, func(t *testing.T) store.Store { return sqltest.Postgres(t) })
}

// skipWithoutPostgres skips once for the whole test rather than once per case.
func skipWithoutPostgres(tb testing.TB) {
	tb.Helper()
	if os.Getenv(sqltest.EnvPostgres) == "" {
		tb.Skipf("%s is unset: skipping the PostgreSQL variant (set it to a DSN such as postgres://postgres@127.0.0.1:5432/postgres)", sqltest.EnvPostgres)
	}
}

// backends names the fresh databases the tests below run on.
var backends = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", sqltest.SQLitePath},
	{"postgres", func(tb testing.TB) string { skipWithoutPostgres(tb); return sqltest.PostgresDSN(tb) }},
}

func TestOpenConcurrently(t *testing.T) {
	for _, b := range backends {
		t.Run("two processes opening one fresh "+b.name+" database both migrate it", func(t *testing.T) {
			ctx := t.Context()
			dsn := b.dsn(t)
			stores := make([]*sqlstore.Store, 2)
			errs := make([]error, 2)
			start := make(chan struct{})
			var ready, done sync.WaitGroup
			for i := range stores {
				ready.Add(1)
				done.Add(1)
				go func() {
					defer done.Done()
					ready.Done()
					<-start
					stores[i], errs[i] = sqlstore.Open(ctx, dsn, sqlstore.Options{})
				}()
			}
			ready.Wait()
			close(start)
			done.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open %d of 2 at once: %v; want both to succeed, migrations one after the other", i+1, err)
				}
			}
			for _, s := range stores {
				if s != nil {
					t.Cleanup(func() { s.Close() })
				}
			}
			if t.Failed() {
				return
			}

			// Both see one schema: a write through one is read through the other.
			o := &roster.Organization{Name: "Acme"}
			if err := stores[0].Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
				return tx.CreateOrganization(ctx, o)
			}); err != nil {
				t.Fatalf("creating an organization through the first store: %v", err)
			}
			if _, err := stores[1].GetOrganization(ctx, o.ID); err != nil {
				t.Errorf("reading it through the second store: %v; want the organization", err)
			}

			// A later Open finds nothing left to apply.
			again, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
			if err != nil {
				t.Fatalf("opening the migrated database again: %v", err)
			}
			again.Close()
		})
	}
}

func TestBackup(t *testing.T) {
	ctx := t.Context()
	t.Run("a SQLite backup opens as a store with the same organizations", func(t *testing.T) {
		s := sqltest.SQLite(t)
		var keys []roster.APIKey
		for i := range 3 {
			o := &roster.Organization{Name: fmt.Sprintf("Org %d", i)}
			k := &roster.APIKey{PublicKey: fmt.Sprintf("pk-org-backup-%d", i), SecretHash: hash(fmt.Sprint(i)), DisplaySecretKey: "sk-org-...0000"}
			if err := s.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
				if err := tx.CreateOrganization(ctx, o); err != nil {
					return err
				}
				k.OrgID = o.ID
				return tx.CreateOrgKey(ctx, k)
			}); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, *k)
		}
		want, _, err := s.ListOrganizations(ctx, store.Page{})
		if err != nil {
			t.Fatal(err)
		}

		dst := filepath.Join(t.TempDir(), "backup.db")
		if err := s.Backup(ctx, dst); err != nil {
			t.Fatalf("Backup: %v", err)
		}
		b, err := sqlstore.Open(ctx, dst, sqlstore.Options{})
		if err != nil {
			t.Fatalf("opening the backup: %v", err)
		}
		defer b.Close()
		got, _, err := b.ListOrganizations(ctx, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the backup must hold the same organizations (-original +backup):\n%s", diff)
		}
		for _, k := range keys {
			got, err := b.LookupOrgKey(ctx, k.PublicKey)
			if err != nil {
				t.Errorf("LookupOrgKey(%s) in the backup: %v", k.PublicKey, err)
				continue
			}
			if diff := cmp.Diff(k, *got); diff != "" {
				t.Errorf("key %s differs in the backup (-original +backup):\n%s", k.PublicKey, diff)
			}
		}
	})

	t.Run("a backup never overwrites an existing file", func(t *testing.T) {
		s := sqltest.SQLite(t)
		dst := filepath.Join(t.TempDir(), "backup.db")
		if err := os.WriteFile(dst, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Backup(ctx, dst); err == nil {
			t.Errorf("Backup to an existing file succeeded; want an error")
		}
		if b, err := os.ReadFile(dst); err != nil || string(b) != "precious" {
			t.Errorf("the existing file now holds %q, %v; want it untouched", b, err)
		}
	})

	t.Run("backing up PostgreSQL is refused", func(t *testing.T) {
		skipWithoutPostgres(t)
		s := sqltest.Postgres(t)
		dst := filepath.Join(t.TempDir(), "backup.db")
		err := s.Backup(ctx, dst)
		if roster.KindOf(err) != roster.Invalid {
			t.Errorf("Backup of a PostgreSQL store: %v; want an Invalid error pointing to PostgreSQL's own tools", err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Backup of a PostgreSQL store left a file at %s", dst)
		}
	})
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// --- Benchmarks ---

// benchBackends runs fn on a fresh store of each backend.
func benchBackends(b *testing.B, fn func(b *testing.B, s *sqlstore.Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, sqltest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) {
		skipWithoutPostgres(b)
		fn(b, sqltest.Postgres(b))
	})
}

const (
	benchOrgs       = 100
	benchPerOrg     = 10
	benchCredential = benchOrgs * benchPerOrg
)

// seeded is a store holding benchOrgs organizations, each with benchPerOrg keys and
// benchPerOrg directories with one token each: enough rows that lookups go through indexes.
type seeded struct {
	orgs      []string
	keys      []roster.APIKey
	tokens    []roster.DirectoryToken
	tokenHash [][]byte
}

func seed(b *testing.B, s *sqlstore.Store) seeded {
	b.Helper()
	ctx := b.Context()
	var out seeded
	exp := time.Now().Add(roster.DefaultTokenTTL)
	err := s.Tx(ctx, roster.SystemActor("bench"), func(tx store.Tx) error {
		for i := range benchOrgs {
			o := &roster.Organization{Name: fmt.Sprintf("Org %d", i)}
			if err := tx.CreateOrganization(ctx, o); err != nil {
				return err
			}
			out.orgs = append(out.orgs, o.ID)
			for j := range benchPerOrg {
				k := &roster.APIKey{OrgID: o.ID, PublicKey: fmt.Sprintf("pk-org-%d-%d", i, j),
					SecretHash: hash(fmt.Sprintf("sk-org-%d-%d", i, j)), DisplaySecretKey: "sk-org-...0000"}
				if err := tx.CreateOrgKey(ctx, k); err != nil {
					return err
				}
				out.keys = append(out.keys, *k)
				tok := &roster.DirectoryToken{Prefix: "scim_0000", Hash: hash(fmt.Sprintf("scim_%d_%d", i, j)), ExpiresAt: exp}
				d := &roster.Directory{OrgID: o.ID, Name: fmt.Sprintf("Directory %d", j), DefaultRole: roster.RoleNone, Enabled: true}
				if err := tx.CreateDirectory(ctx, d, tok); err != nil {
					return err
				}
				out.tokens = append(out.tokens, *tok)
				out.tokenHash = append(out.tokenHash, tok.Hash)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seeding: %v", err)
	}
	return out
}

// BenchmarkLookupDirectoryToken measures the read that authenticates every SCIM request.
func BenchmarkLookupDirectoryToken(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		data := seed(b, s)
		ctx := b.Context()
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1) % benchCredential
				if _, _, err := s.LookupDirectoryToken(ctx, data.tokenHash[i], time.Now()); err != nil {
					b.Errorf("LookupDirectoryToken: %v", err)
					return
				}
			}
		})
	})
}

// BenchmarkLookupOrgKey measures the read that authenticates every organization API request.
func BenchmarkLookupOrgKey(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		data := seed(b, s)
		ctx := b.Context()
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1) % benchCredential
				if _, err := s.LookupOrgKey(ctx, data.keys[i].PublicKey); err != nil {
					b.Errorf("LookupOrgKey: %v", err)
					return
				}
			}
		})
	})
}

// BenchmarkCreateOrgKey measures the typical write: one transaction with a row and its audit
// record, committed durably.
func BenchmarkCreateOrgKey(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		data := seed(b, s)
		ctx := b.Context()
		actor := roster.Actor{Type: roster.ActorOrgKey, ID: data.keys[0].ID}
		i := 0
		for b.Loop() {
			i++
			k := &roster.APIKey{OrgID: data.orgs[i%benchOrgs], PublicKey: fmt.Sprintf("pk-org-bench-%d", i),
				SecretHash: hash(fmt.Sprint(i)), DisplaySecretKey: "sk-org-...0000"}
			if err := s.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrgKey(ctx, k) }); err != nil {
				b.Fatalf("CreateOrgKey: %v", err)
			}
		}
	})
}

// BenchmarkTouchLastUsed measures one flush of the last-use coalescer: a batch of 100 uses,
// half org keys and half directory tokens. ns/op is per batch.
func BenchmarkTouchLastUsed(b *testing.B) {
	const batch = 100
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		data := seed(b, s)
		ctx := b.Context()
		at := time.Now()
		uses := make([]store.Use, batch)
		n := 0
		for b.Loop() {
			at = at.Add(time.Millisecond)
			for j := range uses {
				n++
				c := n % benchCredential
				if j%2 == 0 {
					uses[j] = store.Use{Kind: store.OrgKeyCredential, ID: data.keys[c].ID, At: at}
				} else {
					uses[j] = store.Use{Kind: store.DirectoryTokenCredential, ID: data.tokens[c].ID, At: at}
				}
			}
			if err := s.TouchLastUsed(ctx, uses); err != nil {
				b.Fatalf("TouchLastUsed: %v", err)
			}
		}
	})
}
