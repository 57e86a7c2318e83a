package auth_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// benchStores runs bench on SQLite and on PostgreSQL (skipped when ROSTER_TEST_POSTGRES is
// unset). The store is opened once per backend, outside the timed loops.
func benchStores(b *testing.B, bench func(b *testing.B, st store.Store)) {
	backends := []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{
		{"sqlite", func(tb testing.TB) *sqlstore.Store { return sqltest.SQLite(tb) }},
		{"postgres", func(tb testing.TB) *sqlstore.Store { return sqltest.Postgres(tb) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { bench(b, be.open(b)) })
	}
}

// BenchmarkAuthenticateBearer measures the directory-token check every SCIM request pays: a
// hash, one indexed lookup, a constant-time compare and an in-memory last-use touch.
func BenchmarkAuthenticateBearer(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		e := newEnv(b, st, auth.Config{})
		_, token := e.directory(b, "Okta")
		ctx := context.Background()
		b.Run("valid", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.svc.AuthenticateBearer(ctx, token); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("unknown", func(b *testing.B) {
			unknown := auth.NewSecret(auth.TokenPrefix)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.svc.AuthenticateBearer(ctx, unknown); err == nil {
						b.Error("an unknown token was accepted")
						return
					}
				}
			})
		})
	})
}

// BenchmarkAuthenticateBasic measures the org-key check of the organization API.
func BenchmarkAuthenticateBasic(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		e := newEnv(b, st, auth.Config{})
		key, secret := e.orgKey(b, nil)
		ctx := context.Background()
		b.Run("valid", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.svc.AuthenticateBasic(ctx, key.PublicKey, secret); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("unknown", func(b *testing.B) {
			public, secret := auth.NewSecret(auth.OrgPublicPrefix), auth.NewSecret(auth.OrgSecretPrefix)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.svc.AuthenticateBasic(ctx, public, secret); err == nil {
						b.Error("an unknown key was accepted")
						return
					}
				}
			})
		})
	})
}
