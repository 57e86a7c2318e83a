package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/store"
)

// LastUsed coalesces credential last-use times in memory and writes them in batches, so that
// authenticating a request never costs a database write. Listings overlay the pending times.
type LastUsed struct {
	st      store.Store
	mu      sync.Mutex
	pending map[useKey]time.Time
}

type useKey struct {
	kind store.CredentialKind
	id   string
}

// NewLastUsed returns a coalescer writing to st.
func NewLastUsed(st store.Store) *LastUsed {
	return &LastUsed{st: st, pending: map[useKey]time.Time{}}
}

// Touch records a use; it is cheap and never blocks on the database.
func (l *LastUsed) Touch(kind store.CredentialKind, id string, at time.Time) {
	k := useKey{kind, id}
	l.mu.Lock()
	if at.After(l.pending[k]) {
		l.pending[k] = at
	}
	l.mu.Unlock()
}

// Overlay returns the newer of stored and the pending use of the credential.
func (l *LastUsed) Overlay(kind store.CredentialKind, id string, stored *time.Time) *time.Time {
	l.mu.Lock()
	p, ok := l.pending[useKey{kind, id}]
	l.mu.Unlock()
	if ok && (stored == nil || p.After(*stored)) {
		p = p.UTC().Truncate(time.Microsecond)
		return &p
	}
	return stored
}

// Flush writes every pending use. On failure the uses are kept for the next flush.
func (l *LastUsed) Flush(ctx context.Context) error {
	l.mu.Lock()
	if len(l.pending) == 0 {
		l.mu.Unlock()
		return nil
	}
	batch := make([]store.Use, 0, len(l.pending))
	for k, at := range l.pending {
		batch = append(batch, store.Use{Kind: k.kind, ID: k.id, At: at})
	}
	l.pending = map[useKey]time.Time{}
	l.mu.Unlock()
	if err := l.st.TouchLastUsed(ctx, batch); err != nil {
		for _, u := range batch {
			l.Touch(u.Kind, u.ID, u.At)
		}
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more.
func (l *LastUsed) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	FlushEvery(ctx, every, log, "credential last-use times", l.Flush)
}

// FlushEvery calls flush every interval until ctx ends, then once more with a short
// deadline of its own, so that what a coalescer holds is written on shutdown.
func FlushEvery(ctx context.Context, every time.Duration, log *slog.Logger, what string, flush func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := flush(fctx); err != nil {
				log.Error("flushing "+what, "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := flush(ctx); err != nil && ctx.Err() == nil {
				log.Warn("flushing "+what, "err", err)
			}
		}
	}
}
