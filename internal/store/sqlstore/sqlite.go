package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rosterhq/roster/internal/roster"
)

type sqliteDialect struct{}

// sqlitePragmas: WAL for concurrent readers, FULL sync so that an acknowledged write survives
// power loss, foreign keys on, and a busy timeout for other processes sharing the file.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)"

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, roster.E(roster.Invalid, "database path is empty")
	}
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + sqlitePragmas
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so read-then-write
	// transactions never fail half-way with "database is locked".
	// Page caches (SQLite's default is 2 MB a connection): the writer touches the B-tree
	// paths of every index a provisioning write changes; readers mostly the upper levels.
	// Together about 64 MB at most, inside the server's memory budget.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-32768)")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The first connection turns a new file to WAL, which needs an exclusive lock that SQLite
	// refuses at once (SQLITE_BUSY, no busy wait) while another process does the same: hold the
	// migration lock for it, so that processes opening one new file together take turns.
	unlock, err := lockFile(path + ".migrate.lock")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	err = w.PingContext(ctx)
	unlock()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=cache_size(-8192)")
	if err != nil {
		w.Close()
		return nil, err
	}
	n := 2 * runtime.GOMAXPROCS(0)
	if n < 4 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	return &Store{d: sqliteDialect{}, r: r, w: w}, nil
}

func (sqliteDialect) name() string                      { return "sqlite" }
func (sqliteDialect) gooseDialect() goose.Dialect       { return goose.DialectSQLite3 }
func (sqliteDialect) sessionLocker() lock.SessionLocker { return nil }

func (sqliteDialect) migrationLock(path string) (func(), error) {
	return lockFile(path + ".migrate.lock")
}

func (sqliteDialect) translate(err error) error {
	if err == nil {
		return nil
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return roster.Wrap(roster.Conflict, err, "already exists")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return roster.Wrap(roster.NotFound, err, "referenced resource not found")
		}
	}
	return err
}

// backup uses VACUUM INTO, which copies a consistent snapshot while readers and writers go on.
func (sqliteDialect) backup(ctx context.Context, db *sql.DB, path string) error {
	if _, err := os.Stat(path); err == nil {
		return roster.E(roster.Conflict, "%s already exists", path)
	}
	_, err := db.ExecContext(ctx, "VACUUM INTO $1", path)
	return err
}

// sqlitePath renders a JSON path for json_extract: $."a"."b" (quoted, so URNs with colons
// and dots are single keys).
func sqlitePath(path []string) string {
	var sb strings.Builder
	sb.WriteString("$")
	for _, p := range path {
		sb.WriteString(`."`)
		sb.WriteString(strings.ReplaceAll(p, `"`, `\"`))
		sb.WriteString(`"`)
	}
	return sb.String()
}

func (sqliteDialect) doc(alias string) string { return alias + ".resource" }

func (sqliteDialect) jsonText(b *sqlb, src string, path []string, elem bool) string {
	if elem && len(path) == 0 {
		return src
	}
	return "json_extract(" + src + ", " + b.arg(sqlitePath(path)) + ")"
}

func (sqliteDialect) jsonElements(b *sqlb, src string, path []string) string {
	p := b.arg(sqlitePath(path))
	return "json_each(CASE WHEN json_type(" + src + ", " + p + ") = 'array' THEN json_extract(" + src + ", " + p + ") ELSE '[]' END) AS e"
}

func (sqliteDialect) jsonPresent(x string) string {
	return "(" + x + " IS NOT NULL AND " + x + " <> '' AND " + x + " <> '[]' AND " + x + " <> '{}')"
}

func (sqliteDialect) jsonBool(v bool) any {
	if v {
		return 1
	}
	return 0
}

func (sqliteDialect) jsonNumber(x string) string { return x }

func (sqliteDialect) strpos(h, n string) string { return "instr(" + h + ", " + n + ")" }

func (sqliteDialect) directoryCount(alias string) string {
	col := "users"
	if alias == "g" {
		col = "groups"
	}
	return `SELECT c.` + col + ` FROM scim_directory_counts c JOIN scim_directories d ON d.id = c.directory_id
		WHERE d.org_id = $1 AND c.directory_id = $2`
}

func (sqliteDialect) userGroups(alias string) string {
	return `(SELECT json_group_array(json_object('value', g.id, 'display', g.display_name)) FROM (
		SELECT g.id, g.display_name FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id
		WHERE gm.member_id = ` + alias + `.id ORDER BY g.display_name_key, g.id) g)`
}
