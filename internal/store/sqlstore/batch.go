package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// SQLite commits durably with one fsync per transaction (synchronous=FULL), and it has one
// writer. Write transactions that arrive together are therefore committed together: one
// goroutine takes queued transactions, runs each inside a savepoint of one SQLite
// transaction, and commits them with a single fsync (group commit). A transaction that
// fails rolls back to its savepoint and fails alone; the others commit. Each caller gets
// its answer only after the commit is durable, so nothing acknowledged is lost.

// maxBatch bounds a group commit: enough to amortise the fsync, small enough that the
// first caller in a batch does not wait long for the last.
const maxBatch = 64

type writeReq struct {
	ctx   context.Context
	actor roster.Actor
	fn    func(store.Tx) error
	done  chan writeRes
}

type writeRes struct {
	err   error
	panic any
}

// batcher is the group-commit writer of a SQLite store.
type batcher struct {
	s    *Store
	reqs chan *writeReq
	quit chan struct{}
	// stmts holds statements prepared on the writer connection, by SQL text, for every
	// batch to reuse; only the batcher's goroutine touches it.
	stmts map[string]*sql.Stmt
}

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s, reqs: make(chan *writeReq, 4096), quit: make(chan struct{}), stmts: map[string]*sql.Stmt{}}
	go b.loop()
	return b
}

func (b *batcher) stop() {
	close(b.reqs)
	<-b.quit
	for _, st := range b.stmts {
		st.Close()
	}
}

// submit queues a transaction and waits until it is committed or failed.
func (b *batcher) submit(ctx context.Context, actor roster.Actor, fn func(store.Tx) error) error {
	req := &writeReq{ctx: ctx, actor: actor, fn: fn, done: make(chan writeRes, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	res := <-req.done // once queued, wait for the outcome: it may have committed
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

func (b *batcher) loop() {
	defer close(b.quit)
	for first := range b.reqs {
		batch := []*writeReq{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-b.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		b.run(batch)
	}
}

// run executes one batch in one SQLite transaction.
func (b *batcher) run(batch []*writeReq) {
	results := make([]writeRes, len(batch))
	ok := make([]bool, len(batch))
	s := b.s
	sqltx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.done <- writeRes{err: s.d.translate(err)}
		}
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	credentials := false
	var audits []auditRow
	bq := &batchQuerier{tx: sqltx, kept: b.stmts, stmts: map[string]*sql.Stmt{}}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		if _, err := bq.ExecContext(context.Background(), "SAVEPOINT roster_tx"); err != nil {
			results[i].err = s.d.translate(err)
			continue
		}
		t := &txn{reader: reader{q: detached{bq}, d: s.d}, actor: r.actor, meta: roster.RequestMetaFrom(r.ctx), now: now}
		results[i] = runFn(r.fn, t)
		credentials = credentials || t.credentialsChanged
		if results[i].err != nil || results[i].panic != nil {
			_, _ = bq.ExecContext(context.Background(), "ROLLBACK TO roster_tx")
		}
		if _, err := bq.ExecContext(context.Background(), "RELEASE roster_tx"); err != nil && results[i].err == nil {
			results[i].err = s.d.translate(err)
		}
		ok[i] = results[i].err == nil && results[i].panic == nil
		if ok[i] {
			audits = append(audits, t.audits...)
		}
	}
	// The audit entries of the transactions that succeeded, in one insert or a few: they
	// commit with their changes or not at all.
	err = flushAudit(context.Background(), bq, s.d, audits)
	if err == nil {
		err = sqltx.Commit()
	} else {
		_ = sqltx.Rollback()
	}
	if err != nil {
		err = fmt.Errorf("commit: %w", s.d.translate(err))
		for i := range batch {
			if ok[i] {
				results[i].err = err
			}
		}
	}
	if credentials && s.tokens != nil {
		s.tokens.invalidate() // before any caller hears of the change
	}
	for i, r := range batch {
		r.done <- results[i]
	}
	b.keep(bq.missed)
}

// keep prepares on the writer connection, now that no transaction holds it, the statements
// a batch had to prepare for itself, so that later batches reuse them. The set of texts is
// small (writes are a fixed set, filters a text per shape); past maxCached it stops growing.
func (b *batcher) keep(queries []string) {
	for _, q := range queries {
		if len(b.stmts) >= maxCached {
			return
		}
		if _, ok := b.stmts[q]; ok {
			continue
		}
		st, err := b.s.w.PrepareContext(context.Background(), q)
		if err != nil {
			continue // it failed in the batch too, and will again be prepared there
		}
		b.stmts[q] = st
	}
}

// runFn runs one transaction function, catching a panic so that it is re-raised in the
// caller's goroutine instead of killing the writer.
func runFn(fn func(store.Tx) error, t *txn) (res writeRes) {
	defer func() {
		if p := recover(); p != nil {
			res = writeRes{panic: p}
		}
	}()
	return writeRes{err: fn(t)}
}

// detached runs statements of a batched transaction without the caller's cancellation:
// SQLite rolls back the whole transaction when a statement is interrupted, which would fail
// every other transaction of the batch. A cancelled caller is skipped before it starts
// instead.
type detached struct{ tx querier }

func (d detached) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.tx.ExecContext(context.WithoutCancel(ctx), q, args...)
}

func (d detached) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.tx.QueryContext(context.WithoutCancel(ctx), q, args...)
}

func (d detached) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.tx.QueryRowContext(context.WithoutCancel(ctx), q, args...)
}

// batchQuerier runs the statements of a batch on statements prepared once: those the
// writer connection keeps (database/sql reuses the connection's prepared statement inside
// the transaction), else prepared for this batch and kept for the next ones. Parsing SQL
// costs the SQLite driver more than running these indexed statements.
type batchQuerier struct {
	tx     *sql.Tx
	kept   map[string]*sql.Stmt // prepared on the writer connection; read only here
	stmts  map[string]*sql.Stmt // this transaction's statements
	missed []string             // texts to prepare on the connection after the batch
}

func (q *batchQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := q.stmts[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if k, ok := q.kept[query]; ok {
		s = q.tx.StmtContext(ctx, k)
	} else {
		var err error
		if s, err = q.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		q.missed = append(q.missed, query)
	}
	q.stmts[query] = s
	return s, nil
}

func (q *batchQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (q *batchQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (q *batchQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return q.tx.QueryRowContext(ctx, query, args...) // reports the same error on Scan
	}
	return s.QueryRowContext(ctx, args...)
}
