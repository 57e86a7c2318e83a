package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

//go:embed migrations
var migrations embed.FS

// Options tune Open.
type Options struct {
	// Logger receives migration progress; nil discards it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the SQL store. It reads through r and writes through w: on PostgreSQL both are
// one pool; on SQLite w is a single connection (SQLite has one writer at a time, and a
// queue in Go is cheaper than busy-waiting on the file lock) and r is a pool of readers.
type Store struct {
	d   dialect
	r   *sql.DB
	w   *sql.DB
	now func() time.Time
	// batch is the group-commit writer (SQLite only).
	batch *batcher
	// rc caches prepared statements of the read pool (SQLite only).
	rc *stmtCache
	// tokens caches verified directory tokens (SQLite only).
	tokens *tokenCache
	// projectKeys caches verified project keys (SQLite only), under tokens' generation.
	projectKeys *projectKeyCache
	reader
}

var _ store.Store = (*Store)(nil)

// IsPostgres reports whether a --database value names PostgreSQL rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database named by dsn (a postgres:// URL or a SQLite file path) and
// applies pending migrations. Several processes may call it at once on one database: on
// PostgreSQL an advisory lock serialises them, on SQLite a lock file does.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var (
		s   *Store
		err error
	)
	if IsPostgres(dsn) {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	s.now = opts.Now
	s.reader = reader{q: s.r, d: s.d}
	if err := s.migrate(ctx, dsn, opts.Logger); err != nil {
		s.Close()
		return nil, err
	}
	if s.d.name() == "sqlite" {
		s.rc = &stmtCache{db: s.r}
		s.reader = reader{q: cachedDB{db: s.r, c: s.rc}, d: s.d}
		s.tokens = newTokenCache()
		s.projectKeys = &projectKeyCache{m: map[string]projectKeyEntry{}}
		s.batch = newBatcher(s)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context, dsn string, log *slog.Logger) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.d.name())
	if err != nil {
		return err
	}
	unlock, err := s.d.migrationLock(dsn)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer unlock()
	var popts []goose.ProviderOption
	if l := s.d.sessionLocker(); l != nil {
		popts = append(popts, goose.WithSessionLocker(l))
	}
	p, err := goose.NewProvider(s.d.gooseDialect(), s.w, sub, popts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	for _, r := range res {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// DB returns the read pool, for metrics collectors.
func (s *Store) DB() *sql.DB { return s.r }

// WriteDB returns the write pool (the same as DB on PostgreSQL), for metrics collectors.
func (s *Store) WriteDB() *sql.DB { return s.w }

// Dialect names the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes both pools, after the group-commit writer has finished what it holds.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.stop()
		s.batch = nil
	}
	if s.rc != nil {
		s.rc.close()
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Backup writes an online, consistent copy of a SQLite database to path.
func (s *Store) Backup(ctx context.Context, path string) error {
	return s.d.backup(ctx, s.w, path)
}

// Tx runs fn in one write transaction on behalf of actor.
func (s *Store) Tx(ctx context.Context, actor roster.Actor, fn func(store.Tx) error) (err error) {
	if s.batch != nil {
		return s.batch.submit(ctx, actor, fn)
	}
	sqltx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.d.translate(err)
	}
	done := false
	defer func() {
		if !done {
			_ = sqltx.Rollback()
		}
	}()
	t := &txn{
		reader: reader{q: sqltx, d: s.d},
		actor:  actor,
		meta:   roster.RequestMetaFrom(ctx),
		now:    s.now().UTC().Truncate(time.Microsecond),
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := flushAudit(ctx, sqltx, s.d, t.audits); err != nil {
		return err
	}
	done = true
	if err := sqltx.Commit(); err != nil {
		return s.d.translate(err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements store.Reader on a pool or a transaction.
type reader struct {
	q querier
	d dialect
}

// txn implements store.Tx.
type txn struct {
	reader
	actor roster.Actor
	meta  roster.RequestMeta
	now   time.Time
	// credentialsChanged is set by every write to directories, their tokens or
	// organizations: after the commit, cached token verifications are dropped.
	credentialsChanged bool
	// audits are the audit entries of this transaction, written at its end.
	audits []auditRow
}

// exec runs a statement and translates driver errors into roster kinds.
func (r reader) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := r.q.ExecContext(ctx, query, args...)
	return res, r.d.translate(err)
}

// execOne runs a statement that must change exactly one row, else ErrNotFound.
func (r reader) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := r.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return roster.E(roster.NotFound, "%s not found", what)
	}
	return nil
}

// notFound turns sql.ErrNoRows into a NotFound error naming what was missing.
func (r reader) notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return roster.E(roster.NotFound, "%s not found", what)
	}
	return r.d.translate(err)
}

// record adds the audit entry of a change made in this transaction. Entries are written
// together when the transaction's work is done (flushAudit), in the same transaction: a
// write that changes two things costs one insert, not two.
func (t *txn) record(ctx context.Context, orgID, action string, target roster.Target, before, after any) error {
	b, err := jsonOrNil(before)
	if err != nil {
		return err
	}
	a, err := jsonOrNil(after)
	if err != nil {
		return err
	}
	t.audits = append(t.audits, auditRow{id: roster.NewID(), orgID: orgID, at: micros(t.now), actorType: string(t.actor.Type),
		actorID: t.actor.ID, action: action, targetType: target.Type, targetID: target.ID, before: b, after: a,
		requestID: t.meta.RequestID, ip: t.meta.IP})
	return nil
}

// auditRow is an audit entry waiting for its transaction's flush.
type auditRow struct {
	id, orgID                  string
	at                         int64
	actorType, actorID, action string
	targetType, targetID       string
	before, after              any
	requestID, ip              string
}

// auditChunk is the most entries one insert carries (12 parameters each).
const auditChunk = 32

// flushAudit writes audit entries with as few statements as it can.
func flushAudit(ctx context.Context, q querier, d dialect, rows []auditRow) error {
	for len(rows) > 0 {
		n := min(len(rows), auditChunk)
		var sb strings.Builder
		sb.WriteString(`INSERT INTO audit_log (id, org_id, created_at, actor_type, actor_id, action,
		target_type, target_id, before_json, after_json, request_id, ip) VALUES `)
		args := make([]any, 0, n*12)
		for i, r := range rows[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := range 12 {
				if j > 0 {
					sb.WriteString(", ")
				}
				if d.name() == "sqlite" {
					// Anonymous parameters: the SQLite driver looks each numbered one up by
					// name, which costs the square of their count in a long insert.
					sb.WriteByte('?')
					continue
				}
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(i*12 + j + 1))
			}
			sb.WriteByte(')')
			args = append(args, r.id, r.orgID, r.at, r.actorType, r.actorID, r.action, r.targetType, r.targetID,
				r.before, r.after, r.requestID, r.ip)
		}
		if _, err := q.ExecContext(ctx, sb.String(), args...); err != nil {
			return d.translate(err)
		}
		rows = rows[n:]
	}
	return nil
}

func jsonOrNil(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit snapshot: %w", err)
	}
	return string(b), nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// limit clamps a page size.
func limit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}

func microsDuration(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
