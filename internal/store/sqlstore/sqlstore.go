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
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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
	// OnEvents is called after a transaction that wrote events has committed, so that the
	// webhook dispatcher of this process starts at once instead of at its next poll.
	OnEvents func()
	// BaseURL is the public URL of the server, for meta.location in the SCIM JSON of events.
	BaseURL string
	// NoEvents turns the outbox off. It exists only so that a benchmark can measure what the
	// outbox costs; a server never sets it.
	NoEvents bool
}

// Store is the SQL store. It reads through r and writes through w: on PostgreSQL both are
// one pool; on SQLite w is a single connection (SQLite has one writer at a time, and a
// queue in Go is cheaper than busy-waiting on the file lock) and r is a pool of readers.
type Store struct {
	d    dialect
	r    *sql.DB
	w    *sql.DB
	now  func() time.Time
	opts Options
	// batch is the group-commit writer (SQLite only).
	batch *batcher
	// rc caches prepared statements of the read pool (SQLite only).
	rc *stmtCache
	// tokens caches verified directory tokens.
	tokens *tokenCache
	// anchors start pages by startIndex where the previous page ended (SQLite only).
	anchors *pageAnchors
	// flushStmts are the statements that write a transaction's changes, prepared once on the
	// SQLite writer (events.go).
	flushStmts map[string]*sql.Stmt
	// projectKeys and oauthClients cache verified project keys and OAuth clients, under
	// tokens' generation (credcache.go).
	projectKeys  *credCache[roster.APIKey]
	oauthClients *credCache[roster.OAuthApp]
	// pgConfig is the PostgreSQL connection configuration, for the listener's connection.
	pgConfig *pgx.ConnConfig
	// listener clears tokens on the credential changes of every replica (PostgreSQL only).
	listener *listener
	// seq numbers the events PostgreSQL transactions leave in the inbox (sequencer.go).
	seq *sequencer
	// analyzer keeps the planner's statistics fresh on PostgreSQL (analyze.go).
	analyzer *analyzer
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
	s.opts = opts
	s.opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	s.reader = reader{q: s.r, d: s.d}
	if err := s.migrate(ctx, dsn, opts.Logger); err != nil {
		s.Close()
		return nil, err
	}
	if s.d.name() == "sqlite" {
		s.rc = &stmtCache{db: s.r}
		s.reader = reader{q: cachedDB{db: s.r, c: s.rc}, d: s.d}
		s.tokens = newTokenCache()
		s.anchors = newPageAnchors()
		if err := s.prepareFlush(ctx); err != nil {
			s.Close()
			return nil, err
		}
		s.projectKeys, s.oauthClients = newCredCache[roster.APIKey](s.tokens), newCredCache[roster.OAuthApp](s.tokens)
		s.batch = newBatcher(s)
	} else {
		s.seq = newSequencer(s, opts.Logger)
		s.analyzer = startAnalyzer(s, opts.Logger)
		s.tokens = newTokenCache()
		s.tokens.off = true // until the listener listens
		s.projectKeys, s.oauthClients = newCredCache[roster.APIKey](s.tokens), newCredCache[roster.OAuthApp](s.tokens)
		s.listener = startListener(s.pgConfig, s.tokens, opts.Logger)
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

// WritesPipelined is true on PostgreSQL, whose transactions send their writes in one round
// trip (pipeline.go).
func (s *Store) WritesPipelined() bool { return s.d.name() == "postgres" }

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
	if s.seq != nil {
		s.seq.stop()
		s.seq = nil
	}
	if s.analyzer != nil {
		s.analyzer.stop()
		s.analyzer = nil
	}
	if s.listener != nil {
		s.listener.close()
		s.listener = nil
	}
	if s.rc != nil {
		s.rc.close()
	}
	for _, st := range s.flushStmts {
		st.Close()
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

// SetBaseURL sets the public URL used in events once the listener is known.
func (s *Store) SetBaseURL(u string) { s.opts.BaseURL = strings.TrimSuffix(u, "/") }

// SetOnEvents sets the hook called after a transaction that wrote events commits.
func (s *Store) SetOnEvents(fn func()) { s.opts.OnEvents = fn }

// Tx runs fn in one write transaction on behalf of actor. The events the transaction
// recorded are numbered and inserted after fn, just before the commit (events.go).
func (s *Store) Tx(ctx context.Context, actor roster.Actor, fn func(store.Tx) error) error {
	wrote := false
	err := s.tx(ctx, actor, func(tx store.Tx) error {
		t := tx.(*txn)
		t.noEvents, t.baseURL, t.store = s.opts.NoEvents, s.opts.BaseURL, s
		if err := fn(t); err != nil {
			return err
		}
		wrote = len(t.events) > 0 && !t.noEvents
		return t.flushEvents(ctx)
	})
	switch {
	case err != nil || !wrote:
	case s.seq != nil:
		s.seq.notify() // it wakes the dispatcher once the events have their numbers
	case s.opts.OnEvents != nil:
		s.opts.OnEvents()
	}
	return err
}

func (s *Store) tx(ctx context.Context, actor roster.Actor, fn func(store.Tx) error) (err error) {
	if s.batch != nil {
		return s.batch.submit(ctx, actor, fn)
	}
	if s.d.name() == "postgres" {
		return s.pipelineTx(ctx, actor, fn)
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
	// credentialsChanged is set by every write to directories, their tokens, organizations,
	// project keys or OAuth apps: after the commit, cached verifications are dropped.
	credentialsChanged bool
	// dirs are the directories whose users or groups this transaction writes.
	dirs map[string]bool
	// events are the changes recorded so far (audit record and outbox event), inserted by
	// flushEvents.
	events      []pendingEvent
	newWebhooks []string // created in this transaction: their cursor starts after its events
	noEvents    bool
	baseURL     string
	store       *Store
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

// record writes the audit entry of a change made in this transaction, with its outbox event.
// Both are queued and inserted by flushEvents, one multi-row insert each per organization,
// just before the transaction commits (events.go).
func (t *txn) record(ctx context.Context, orgID, action string, target roster.Target, before, after any) error {
	b, err := jsonOrNil(before)
	if err != nil {
		return err
	}
	a, err := jsonOrNil(after)
	if err != nil {
		return err
	}
	c := pendingEvent{orgID: orgID, auditID: roster.NewID(), action: action, targetType: target.Type, targetID: target.ID,
		before: b, after: a}
	if !t.noEvents {
		if err := t.emit(&c, before, after); err != nil {
			return err
		}
	}
	t.events = append(t.events, c)
	return nil
}

// snapshotter is a snapshot that renders its own JSON, trusted to be valid: it embeds a
// stored document as it is, where encoding/json would scan it twice more.
type snapshotter interface{ snapshotJSON() []byte }

func jsonOrNil(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(snapshotter); ok {
		return string(s.snapshotJSON()), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit snapshot: %w", err)
	}
	return string(b), nil
}

// keysetPage runs a page query that asked for n+1 rows in id order and returns at most n of
// them with the cursor of the next page: the id of the last one returned, or "" at the end.
func keysetPage[T any](ctx context.Context, r reader, n int, scan func(*sql.Rows) (T, error), id func(*T) string,
	query string, args ...any) ([]T, string, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", r.d.translate(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = id(&out[n-1])
	}
	return out, next, nil
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
