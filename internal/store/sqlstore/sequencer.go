package sqlstore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// On PostgreSQL a transaction does not number its events: its last statement inserts them,
// unnumbered, into event_inbox, beside its audit records, and it commits without waiting for
// any other writer. The sequencer numbers them afterwards, many at a time: one statement moves
// the inbox's committed rows into events, taking each organization's next numbers from its
// event_seqs row. That row stays locked until the moving statement commits, so number n+1 is
// only ever handed out after the holder of n has committed: a reader that sees n+1 sees n, and
// the cursor of the events API never skips an event that is still to appear (docs/events.md).
//
// Before, each transaction bumped the counter row itself and held its lock until its own
// commit was flushed, so that the commits of one organization ran one after the other, one WAL
// flush each. Now concurrent commits share WAL flushes, and the counter is taken once per
// batch.
//
// An event is visible in the events API as soon as its transaction has committed: ListEvents
// (and the webhook dispatcher's ClaimWebhooks) run a pass before they read. Every replica runs
// a sequencer, woken after each of its own commits and every second (for the rows of a
// replica that stopped between its commit and its pass). Passes run one at a time across
// replicas, under a transaction-level advisory lock taken before the moving statement reads
// the inbox: two passes at once could each take part of the inbox and number the later part
// first. The order within a pass is the inbox order, which is the order of the transactions'
// last statements: of two changes to one row, the second waited for the first's commit, so
// it comes after it.

// sequenceBatch bounds the events one pass numbers.
const sequenceBatch = 1000

// sequenceSQL moves up to $1 inbox events into events, numbered. With oneOrg, only those of
// organization $2.
func sequenceSQL(oneOrg bool) string {
	where := ""
	if oneOrg {
		where = ` WHERE org_id = $2`
	}
	return `WITH moved AS (
			DELETE FROM event_inbox WHERE pos IN (
				SELECT pos FROM event_inbox` + where + ` ORDER BY pos LIMIT $1)
			RETURNING pos, org_id, id, type, created_at, actor_type, actor_id, data),
		counts AS (SELECT org_id, COUNT(*) AS n FROM moved GROUP BY org_id),
		bumped AS (INSERT INTO event_seqs (org_id, seq) SELECT org_id, n FROM counts ORDER BY org_id
			ON CONFLICT (org_id) DO UPDATE SET seq = event_seqs.seq + excluded.seq RETURNING org_id, seq)
		INSERT INTO events (org_id, seq, id, type, created_at, actor_type, actor_id, data)
		SELECT m.org_id, b.seq - c.n + ROW_NUMBER() OVER (PARTITION BY m.org_id ORDER BY m.pos),
			m.id, m.type, m.created_at, m.actor_type, m.actor_id, m.data
		FROM moved m JOIN counts c ON c.org_id = m.org_id JOIN bumped b ON b.org_id = m.org_id`
}

// sequenceLockSQL takes the advisory lock that one pass at a time holds, until its commit.
const sequenceLockSQL = `SELECT pg_advisory_xact_lock(8245936386494038017)` // the bytes of "roster", 0, 1

// sequencer runs the passes of one store in the background.
type sequencer struct {
	s    *Store
	log  *slog.Logger
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
	// mu serialises this replica's passes: two passes of one process would only wait for
	// each other's counter rows.
	mu sync.Mutex
}

// sequencePoll is how often a sequencer looks for events it was not woken for.
const sequencePoll = time.Second

func newSequencer(s *Store, log *slog.Logger) *sequencer {
	q := &sequencer{s: s, log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// notify asks for a pass; a burst of commits coalesces into one.
func (q *sequencer) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *sequencer) run() {
	defer close(q.done)
	tick := time.NewTicker(sequencePoll)
	defer tick.Stop()
	for {
		select {
		case <-q.quit:
			return
		case <-q.wake:
		case <-tick.C:
		}
		if _, err := q.drain(context.Background()); err != nil {
			q.log.Warn("numbering events", "err", err)
		}
	}
}

// drain runs passes until the inbox holds no committed event, and says how many it numbered.
// The dispatcher is woken when any were.
func (q *sequencer) drain(ctx context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var total int64
	for {
		n, err := q.pass(ctx)
		if err != nil {
			return total, err
		}
		total += n
		if n < sequenceBatch {
			break
		}
	}
	if total > 0 && q.s.opts.OnEvents != nil {
		q.s.opts.OnEvents()
	}
	return total, nil
}

// pass is one transaction, one round trip: the lock, the move, the commit.
func (q *sequencer) pass(ctx context.Context) (int64, error) {
	p, err := beginPipeline(ctx, q.s.w, q.s.d)
	if err != nil {
		return 0, err
	}
	committed := false
	defer func() { p.close(committed) }()
	var n int64
	p.queue(sequenceLockSQL, nil, nil)
	p.queueCounted(sequenceSQL(false), []any{sequenceBatch}, &n)
	if err := p.commit(ctx); err != nil {
		return 0, err
	}
	committed = true
	return n, nil
}

func (q *sequencer) stop() {
	close(q.quit)
	<-q.done
}

// sequenceOrg numbers the committed inbox events of one organization inside transaction t,
// which then holds the organization's counter row until it commits. A transaction that must
// know exactly which events come after its own (one that creates a webhook endpoint) numbers
// its events itself, after these.
func (t *txn) sequenceOrg(ctx context.Context, org string) error {
	if _, err := t.exec(ctx, sequenceLockSQL); err != nil {
		return err
	}
	for {
		res, err := t.exec(ctx, sequenceSQL(true), sequenceBatch, org)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n < sequenceBatch {
			return nil
		}
	}
}

// syncEvents numbers what is committed before a read of events, so that an event is in the
// events API as soon as its transaction has committed. Nothing to do on SQLite.
func (s *Store) syncEvents(ctx context.Context) error {
	if s.seq == nil {
		return nil
	}
	_, err := s.seq.drain(ctx)
	return err
}

// ListEvents reads an organization's events after a sequence number, once the committed
// ones have their numbers.
func (s *Store) ListEvents(ctx context.Context, orgID string, after int64, types []string, n int) ([]roster.Event, error) {
	if err := s.syncEvents(ctx); err != nil {
		return nil, err
	}
	return s.reader.ListEvents(ctx, orgID, after, types, n)
}
