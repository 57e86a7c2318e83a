package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// The SQLite driver prepares every statement it runs anew, and parsing SQL costs more than
// running these small indexed queries. stmtCache keeps prepared statements by SQL text;
// database/sql then prepares each once per connection and reuses it. Filters compile to a
// text per shape (values are parameters), so the set of texts is small; past maxCached the
// cache stops growing and further texts run unprepared.
type stmtCache struct {
	db *sql.DB
	m  sync.Map // string -> *sql.Stmt
	n  atomic.Int64
}

const maxCached = 1024

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	if c.n.Load() >= maxCached {
		return nil, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	c.n.Add(1)
	return s, nil
}

func (c *stmtCache) close() {
	c.m.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
}

// cachedDB runs statements on a pool through the cache.
type cachedDB struct {
	db *sql.DB
	c  *stmtCache
}

func (q cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s, err := q.c.stmt(ctx, query); err == nil && s != nil {
		return s.ExecContext(ctx, args...)
	}
	return q.db.ExecContext(ctx, query, args...)
}

func (q cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s, err := q.c.stmt(ctx, query); err == nil && s != nil {
		return s.QueryContext(ctx, args...)
	}
	return q.db.QueryContext(ctx, query, args...)
}

func (q cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s, err := q.c.stmt(ctx, query); err == nil && s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return q.db.QueryRowContext(ctx, query, args...)
}

// cachedTx runs statements of a transaction through the cache of its pool: a statement
// already prepared on the transaction's connection is reused.
type cachedTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (q cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s, err := q.c.stmt(ctx, query); err == nil && s != nil {
		return q.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s, err := q.c.stmt(ctx, query); err == nil && s != nil {
		return q.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s, err := q.c.stmt(ctx, query); err == nil && s != nil {
		return q.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
