package sqlstore

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL plans with the statistics ANALYZE gathers, and autovacuum gathers them only on
// its rounds (a minute apart by default). A new table has none until then, and a table that
// grew tenfold since its last ANALYZE has ones that no longer fit: the planner then takes
// every index whose leading columns a query names as equally good. A SCIM create's check
// for a returning person (org, directory and userName) was planned on the directory's paging
// index with a filter on userName, a scan of the whole directory per create: an identity
// provider's first push into a new installation slowed as it went (852 creates a second in a
// 12 s run on the benchmark machine, 1,461 with the analyzer; docs/performance.md).
//
// The analyzer therefore looks every second for tables of Roster's schema that changed
// much since their last ANALYZE (by more than half of their live rows, for tables of at least
// analyzeMinRows rows) and analyzes them. One replica at a time does it, under an advisory
// lock.

// analyzePoll is how often the analyzer looks (a read of the statistics views: cheap).
const analyzePoll = time.Second

// analyzeMinRows is the fewest live rows that make a table worth analyzing: below it, a
// scan costs little (and queues such as event_inbox, whose rows come and go, stay below it).
// A directory of a thousand users is above it: its userName filters were planned as scans.
const analyzeMinRows = 100

// analyzeLockSQL takes, if free, the lock under which one replica analyzes at a time.
const analyzeLockSQL = `SELECT pg_try_advisory_xact_lock(8245936386494038018)` // "roster", 0, 2

// staleTablesSQL names Roster's tables whose statistics are missing or stale.
const staleTablesSQL = `SELECT relname FROM pg_stat_user_tables
	WHERE schemaname = current_schema() AND n_live_tup >= $1 AND n_mod_since_analyze > n_live_tup / 2
	ORDER BY relname`

// analyzer runs ANALYZE in the background for a PostgreSQL store.
type analyzer struct {
	s    *Store
	log  *slog.Logger
	quit chan struct{}
	done chan struct{}
}

func startAnalyzer(s *Store, log *slog.Logger) *analyzer {
	a := &analyzer{s: s, log: log, quit: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *analyzer) run() {
	defer close(a.done)
	t := time.NewTicker(analyzePoll)
	defer t.Stop()
	for {
		select {
		case <-a.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := a.pass(ctx); err != nil {
			a.log.Warn("analyzing tables for the planner failed", "err", err)
		}
		cancel()
	}
}

func (a *analyzer) stop() {
	close(a.quit)
	<-a.done
}

// pass analyzes the tables whose statistics are stale, in one transaction under the lock, and
// returns their names (none when another replica holds the lock).
func (a *analyzer) pass(ctx context.Context) ([]string, error) {
	tx, err := a.s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var mine bool
	if err := tx.QueryRowContext(ctx, analyzeLockSQL).Scan(&mine); err != nil || !mine {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, staleTablesSQL, analyzeMinRows)
	if err != nil {
		return nil, err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		stale = append(stale, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range stale {
		if _, err := tx.ExecContext(ctx, "ANALYZE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, err
		}
		a.log.Debug("analyzed a table for the planner", "table", name)
	}
	return stale, tx.Commit()
}
