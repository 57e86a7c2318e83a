package sqlstore

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// credentialsChannel is the PostgreSQL notification channel of credential changes: a
// transaction that changes directories, tokens, projects or keys notifies it, and every
// replica clears its token cache when the notification arrives (tokencache.go).
const credentialsChannel = "roster_credentials"

// notifyCredentialsSQL is queued before the COMMIT of such a transaction; PostgreSQL delivers
// the notification when, and only if, the transaction commits.
const notifyCredentialsSQL = `SELECT pg_notify('` + credentialsChannel + `', '')`

// listener holds one connection of its own that listens for credential changes.
type listener struct {
	cfg   *pgx.ConnConfig
	cache *tokenCache
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}
}

// startListener turns the cache on once it listens, and off whenever it does not.
func startListener(cfg *pgx.ConnConfig, cache *tokenCache, log *slog.Logger) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cfg: cfg, cache: cache, log: log, stop: cancel, done: make(chan struct{})}
	go l.run(ctx)
	return l
}

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx)
		l.cache.setOff(true)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("listening for credential changes; the token cache is off until it resumes", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen connects, listens, and clears the cache on every notification until the connection
// fails.
func (l *listener) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+credentialsChannel); err != nil {
		return err
	}
	// Listening from here on: what changed before is forgotten, what changes after is heard.
	l.cache.setOff(false)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		l.cache.invalidate()
	}
}

func (l *listener) close() {
	l.stop()
	<-l.done
}
