package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// pipeline is a PostgreSQL transaction that sends its writes together. The writes whose only
// outcome is success or an error (inserts: a create is five of them, with its audit records and
// events) are queued, and go to the server in one round trip with BEGIN before them and, at
// the end, with COMMIT after them: a SCIM create is one round trip instead of seven, which is
// most of what a write costs against a server on the same machine. Any other statement (a
// read, an update whose row count matters) first sends what is queued, then runs as usual.
//
// A queued write that fails fails the transaction: the error is kept (sticky) and returned by
// the transaction whatever fn returned, after its own translation (onErr), so that a unique
// violation found at COMMIT is the same Conflict the statement would have returned at once.
type pipeline struct {
	conn   *sql.Conn
	d      dialect
	begun  bool // BEGIN has been sent
	queued []queuedExec
	err    error // the first failure of a queued write
}

type queuedExec struct {
	q     string
	args  []any
	onErr func(error) error
	// affected, when set, receives the statement's row count.
	affected *int64
}

var _ querier = (*pipeline)(nil)

// beginPipeline takes a connection for a transaction; nothing is sent yet.
func beginPipeline(ctx context.Context, db *sql.DB, d dialect) (*pipeline, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, d.translate(err)
	}
	return &pipeline{conn: conn, d: d}, nil
}

// queue adds a write whose result is only its error; onErr (nil: none) translates that error.
func (p *pipeline) queue(q string, args []any, onErr func(error) error) {
	p.queued = append(p.queued, queuedExec{q: q, args: args, onErr: onErr})
}

// queueCounted is queue for a write whose row count the caller needs after the send.
func (p *pipeline) queueCounted(q string, args []any, affected *int64) {
	p.queued = append(p.queued, queuedExec{q: q, args: args, affected: affected})
}

// send runs BEGIN (the first time), the queued writes and, when commit, COMMIT, in one round
// trip.
func (p *pipeline) send(ctx context.Context, commit bool) error {
	if p.err != nil {
		return p.err
	}
	if len(p.queued) == 0 && !commit && p.begun {
		return nil
	}
	if commit && !p.begun && len(p.queued) == 0 {
		return nil // a transaction that did nothing
	}
	_, err := p.sendWith(ctx, commit, nil)
	return err
}

// sendWith is send with, when last is set and commit is not, one more statement after the
// queued writes in the same round trip: its row count and its own error (untranslated, and
// not kept: the caller decides what it means) are returned.
func (p *pipeline) sendWith(ctx context.Context, commit bool, last *queuedExec) (int64, error) {
	b := &pgx.Batch{}
	if !p.begun {
		b.Queue("BEGIN")
	}
	for _, e := range p.queued {
		b.Queue(e.q, e.args...)
	}
	if last != nil {
		b.Queue(last.q, last.args...)
	}
	if commit {
		b.Queue("COMMIT")
	}
	queued := p.queued
	p.queued = nil
	begun := p.begun
	p.begun = true
	var lastN int64
	var lastErr error
	err := p.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: pipeline on a %T connection", dc)
		}
		br := c.Conn().SendBatch(ctx, b)
		var first error
		if !begun {
			if _, err := br.Exec(); err != nil {
				first = err
			}
		}
		for _, e := range queued {
			tag, err := br.Exec()
			if err == nil && e.affected != nil {
				*e.affected = tag.RowsAffected()
			}
			if err != nil && first == nil {
				first = p.d.translate(err)
				if e.onErr != nil {
					first = e.onErr(first)
				}
			}
		}
		if last != nil {
			tag, err := br.Exec()
			lastN, lastErr = tag.RowsAffected(), err
		}
		if commit {
			if _, err := br.Exec(); err != nil && first == nil {
				first = p.d.translate(err)
			}
		}
		if err := br.Close(); err != nil && first == nil && (last == nil || lastErr == nil) {
			first = p.d.translate(err)
		}
		return first
	})
	if err != nil {
		p.err = err
		return 0, err
	}
	return lastN, lastErr
}

// ExecContext runs a write whose result the caller needs, with BEGIN and the queued writes
// before it in its round trip.
func (p *pipeline) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.begun && len(p.queued) == 0 {
		return p.conn.ExecContext(ctx, q, args...)
	}
	n, err := p.sendWith(ctx, false, &queuedExec{q: q, args: args})
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(n), nil
}

func (p *pipeline) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := p.send(ctx, false); err != nil {
		return nil, err
	}
	return p.conn.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a read after the queued writes. Should those fail, the read runs in the
// failed transaction and fails too; the transaction returns the writes' error.
func (p *pipeline) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	_ = p.send(ctx, false)
	return p.conn.QueryRowContext(ctx, q, args...)
}

// commit sends what is left with COMMIT. A queued write's error is returned as it was
// translated.
func (p *pipeline) commit(ctx context.Context) error {
	return p.send(ctx, true)
}

// close ends the transaction if it did not commit, and gives the connection back. A
// connection whose rollback failed is discarded rather than returned in a transaction.
func (p *pipeline) close(committed bool) {
	if p.begun && !committed {
		if _, err := p.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			_ = p.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	_ = p.conn.Close()
}

// execQueued runs a write whose result is only its error: queued on a PostgreSQL pipeline,
// at once (with onErr applied) elsewhere.
func (t *txn) execQueued(ctx context.Context, onErr func(error) error, q string, args ...any) error {
	if p, ok := t.q.(*pipeline); ok {
		p.queue(q, args, onErr)
		return nil
	}
	_, err := t.exec(ctx, q, args...)
	if err != nil && onErr != nil {
		err = onErr(err)
	}
	return err
}

// pipelineErr is the error a transaction fails with: a queued write's, before fn's own.
func pipelineErr(p *pipeline, err error) error {
	if p != nil && p.err != nil && !errors.Is(err, p.err) {
		return p.err
	}
	return err
}

// pipelineTx runs fn in a PostgreSQL transaction whose writes are pipelined.
func (s *Store) pipelineTx(ctx context.Context, actor roster.Actor, fn func(store.Tx) error) error {
	p, err := beginPipeline(ctx, s.w, s.d)
	if err != nil {
		return err
	}
	committed := false
	defer func() { p.close(committed) }()
	t := &txn{
		reader: reader{q: p, d: s.d},
		actor:  actor,
		meta:   roster.RequestMetaFrom(ctx),
		now:    s.now().UTC().Truncate(time.Microsecond),
	}
	if err := fn(t); err != nil {
		return pipelineErr(p, err)
	}
	if t.credentialsChanged {
		p.queue(notifyCredentialsSQL, nil, nil) // every replica's token cache (listener.go)
	}
	if err := p.commit(ctx); err != nil {
		return err
	}
	committed = true
	if t.credentialsChanged && s.tokens != nil {
		s.tokens.invalidate() // this replica's, before the change is acknowledged
	}
	return nil
}
