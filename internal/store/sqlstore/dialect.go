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

	// JSON access for filters on attributes kept only in the resource document.
	doc(alias string) string                                       // the document of a row as JSON
	jsonText(b *sqlb, src string, path []string, elem bool) string // the value at path, scalar
	jsonElements(b *sqlb, src string, path []string) string        // FROM source "… AS e" of an array's elements
	jsonPresent(x string) string                                   // x holds a value (not null, not "")
	jsonBool(v bool) any                                           // a boolean as jsonText yields it
	jsonNumber(x string) string                                    // a jsonText expression as a number
	strpos(haystack, needle string) string                         // 1-based position or 0
	userGroups(alias string) string                                // a JSON array of the user's groups
	// directoryCount is a query ($1 org, $2 directory) for the number of users ("u") or
	// groups ("g") of a directory, where the dialect keeps the counts; "" where it counts.
	directoryCount(alias string) string
}
