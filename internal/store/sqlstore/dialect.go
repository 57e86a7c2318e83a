package sqlstore

import (
	"context"
	"database/sql"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// dialect holds what differs between SQLite and PostgreSQL. Everything else is shared SQL.
type dialect interface {
	name() string
	gooseDialect() goose.Dialect
	// sessionLocker serialises concurrent migrators inside the database, or nil.
	sessionLocker() lock.SessionLocker
	// migrationLock serialises concurrent migrators outside the database (SQLite).
	migrationLock(dsn string) (unlock func(), err error)
	// translate maps driver errors to roster kinds (unique violation -> Conflict).
	translate(err error) error
	backup(ctx context.Context, db *sql.DB, path string) error
}
