package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/rosterhq/roster/internal/roster"
)

type postgresDialect struct{}

// defaultPoolConns is the PostgreSQL pool size of a replica unless its DSN says otherwise.
const defaultPoolConns = 16

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, roster.Wrap(roster.Invalid, err, "bad PostgreSQL DSN")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// The pool's default (the larger of 4 and the CPU count) queues a burst of identity
		// provider requests behind four connections; PostgreSQL commits concurrent
		// transactions with one WAL flush, so more connections in flight mean more work per
		// fsync. The DSN's pool_max_conns overrides it.
		cfg.MaxConns = defaultPoolConns
	}
	// database/sql keeps the connections itself (idle ones included), so that a query takes
	// one it holds: over a pgxpool (stdlib.OpenDBFromPool) every query would acquire a
	// connection from the pool and give it back, which cost about 5% of a SCIM read's CPU.
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return &Store{d: postgresDialect{}, r: db, w: db, pgConfig: cfg.ConnConfig}, nil
}

func (postgresDialect) directoryCount(string) string { return "" }

func (postgresDialect) name() string                { return "postgres" }
func (postgresDialect) gooseDialect() goose.Dialect { return goose.DialectPostgres }

func (postgresDialect) sessionLocker() lock.SessionLocker {
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil
	}
	return l
}

func (postgresDialect) migrationLock(string) (func(), error) { return func() {}, nil }

func (postgresDialect) translate(err error) error {
	if err == nil {
		return nil
	}
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case "23505": // unique_violation
			return roster.Wrap(roster.Conflict, err, "already exists")
		case "23503": // foreign_key_violation
			return roster.Wrap(roster.NotFound, err, "referenced resource not found")
		case "22P02", "22021": // invalid text representation, bad encoding
			return roster.Wrap(roster.Invalid, err, "invalid value")
		}
	}
	return err
}

func (postgresDialect) backup(context.Context, *sql.DB, string) error {
	return roster.E(roster.Invalid, "roster backup copies SQLite databases; back up PostgreSQL with pg_dump or its continuous archiving")
}

func (postgresDialect) doc(alias string) string { return "(" + alias + ".resource::jsonb)" }

func (postgresDialect) jsonText(b *sqlb, src string, path []string, elem bool) string {
	if path == nil {
		path = []string{}
	}
	return "(" + src + " #>> " + b.arg(path) + "::text[])"
}

func (postgresDialect) jsonElements(b *sqlb, src string, path []string) string {
	p := b.arg(path)
	return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + src + " #> " + p + "::text[]) = 'array' THEN " + src + " #> " + p + "::text[] ELSE '[]'::jsonb END) AS e(value)"
}

func (postgresDialect) jsonPresent(x string) string {
	return "(" + x + " IS NOT NULL AND " + x + " <> '' AND " + x + " <> '[]' AND " + x + " <> '{}')"
}

func (postgresDialect) jsonBool(v bool) any {
	if v {
		return "true"
	}
	return "false"
}

func (postgresDialect) jsonNumber(x string) string {
	return "(CASE WHEN " + x + " ~ '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$' THEN " + x + "::numeric END)"
}

func (postgresDialect) strpos(h, n string) string { return "strpos(" + h + ", " + n + ")" }

func (postgresDialect) userGroups(alias string) string {
	return `(SELECT COALESCE(json_agg(json_build_object('value', g.id, 'display', g.display_name) ORDER BY g.display_name_key, g.id), '[]')::text
		FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id WHERE gm.member_id = ` + alias + `.id)`
}
