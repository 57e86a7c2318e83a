package scim

import (
	"context"
	"log/slog"
	"strings"
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
//
// Successful reads, the bulk of an identity provider's traffic, are kept only in memory (the
// last readsKept of each directory on this replica): persisting them would add a write to
// every read. Writes and failures, which are what an admin looks for, are persisted.
type RequestLog struct {
	st    store.Store
	mu    sync.Mutex
	buf   []roster.SCIMRequest
	reads map[string][]roster.SCIMRequest // directory id -> recent successful reads, oldest first
}

// readsKept is how many successful reads of a directory each replica keeps in memory.
const readsKept = 200

// isRead tells requests that change nothing.
func isRead(e roster.SCIMRequest) bool {
	return e.Method == "GET" || e.Method == "HEAD" || (e.Method == "POST" && strings.HasSuffix(strings.SplitN(e.Path, "?", 2)[0], "/.search"))
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
	if e.Status < 400 && isRead(e) {
		if l.reads == nil {
			l.reads = map[string][]roster.SCIMRequest{}
		}
		r := append(l.reads[e.DirectoryID], e)
		if len(r) > readsKept {
			r = r[len(r)-readsKept:]
		}
		l.reads[e.DirectoryID] = r
		l.mu.Unlock()
		return
	}
	if len(l.buf) >= maxBuffered {
		l.buf = l.buf[1:]
	}
	l.buf = append(l.buf, e)
	l.mu.Unlock()
}

// Reads returns the recent successful reads of a directory on this replica, newest first.
func (l *RequestLog) Reads(dirID string) []roster.SCIMRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reads[dirID]
	out := make([]roster.SCIMRequest, len(r))
	for i := range r {
		out[i] = r[len(r)-1-i]
	}
	return out
}

// Forget drops what is kept in memory for a deleted directory.
func (l *RequestLog) Forget(dirID string) {
	l.mu.Lock()
	delete(l.reads, dirID)
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
