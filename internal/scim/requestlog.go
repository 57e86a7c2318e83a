package scim

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// RequestLog keeps the recent SCIM requests of each directory (GET
// /scim/directories/{id}/requests), so an admin can see why an identity provider's push
// failed. Entries are buffered in memory and written in batches, so logging never adds a
// database write to a request; a crash can lose the last second of entries, never data.
type RequestLog struct {
	st  store.Store
	mu  sync.Mutex
	buf []roster.SCIMRequest
}

// maxBuffered bounds memory between flushes; past it the oldest entries are dropped.
const maxBuffered = 10_000

// NewRequestLog returns a request log writing to st.
func NewRequestLog(st store.Store) *RequestLog { return &RequestLog{st: st} }

// Add records one request.
func (l *RequestLog) Add(e roster.SCIMRequest) {
	if len(e.Path) > 512 {
		e.Path = e.Path[:512]
	}
	if len(e.Detail) > 1024 {
		e.Detail = e.Detail[:1024]
	}
	l.mu.Lock()
	if len(l.buf) >= maxBuffered {
		l.buf = l.buf[1:]
	}
	l.buf = append(l.buf, e)
	l.mu.Unlock()
}

// Flush writes the buffered entries.
func (l *RequestLog) Flush(ctx context.Context) error {
	l.mu.Lock()
	batch := l.buf
	l.buf = nil
	l.mu.Unlock()
	return l.st.AppendSCIMRequests(ctx, batch)
}

// Run flushes every interval until ctx ends, then once more.
func (l *RequestLog) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	auth.FlushEvery(ctx, every, log, "the SCIM request log", l.Flush)
}
