// Package sqltest opens fresh Roster databases for tests: a SQLite file in a temporary
// directory, or a new database on the PostgreSQL server named by ROSTER_TEST_POSTGRES (each
// test gets its own database, so packages run in parallel). PostgreSQL tests skip, with the
// reason printed, when the variable is unset.
package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// EnvPostgres names the variable that holds the DSN of a PostgreSQL server on which tests
// may create databases.
const EnvPostgres = "ROSTER_TEST_POSTGRES"

// SQLitePath returns a fresh database path in a temporary directory.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "roster.db")
}

// SQLite opens a fresh SQLite store, closed at the end of the test.
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, SQLitePath(t))
}

// Postgres opens a store on a fresh PostgreSQL database, or skips the test.
func Postgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, PostgresDSN(t))
}

// SQLiteWith and PostgresWith open fresh stores with options (benchmarks of the outbox).
func SQLiteWith(t testing.TB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	return openWith(t, SQLitePath(t), opts)
}

// PostgresWith is Postgres with options.
func PostgresWith(t testing.TB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	return openWith(t, PostgresDSN(t), opts)
}

// PostgresDSN creates a fresh PostgreSQL database and returns its DSN; the database is
// dropped at the end of the test. It skips the test when ROSTER_TEST_POSTGRES is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skipf("%s is unset: skipping the PostgreSQL variant (set it to a DSN such as postgres://postgres@127.0.0.1:5432/postgres)", EnvPostgres)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "roster_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connecting to %s: %v", EnvPostgres, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dropping %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	return openWith(t, dsn, sqlstore.Options{})
}

func openWith(t testing.TB, dsn string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
