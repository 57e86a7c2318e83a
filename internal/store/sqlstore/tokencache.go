package sqlstore

import (
	"context"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// Every SCIM request verifies its bearer token, and that read cost as much CPU as the
// request's own work. tokenCache keeps the tokens a store verified and forgets all of them
// when a change to directories, tokens, projects or keys commits, so a token that is revoked,
// rotated out, or whose directory is disabled or deleted is refused at once:
//
//   - SQLite is served by one process, whose store commits every change itself: the cache is
//     cleared after the commit, before the change is acknowledged.
//   - On PostgreSQL, where several replicas share the database, such a transaction also sends
//     a notification (NOTIFY, delivered at its commit) that every replica listens for
//     (listener.go) and clears its cache on: another replica refuses a revoked token as soon
//     as the notification has reached it, a fraction of a millisecond on one network. While a
//     replica's listening connection is down, its cache is off and every lookup reads the
//     database, so a lost notification never keeps a revoked token alive.
//
// Entries also age out after tokenCacheTTL, the bound on how late a change made by another
// process on the same SQLite file (a CLI command) is seen. Unknown tokens are never cached:
// each failed attempt reads the database (and is rate limited above).
type tokenCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]tokenEntry
	// off turns the cache off: on PostgreSQL while no notification can reach it.
	off bool
}

type tokenEntry struct {
	tok roster.DirectoryToken
	dir roster.Directory
	at  time.Time
}

const (
	tokenCacheTTL = time.Second
	tokenCacheMax = 10_000
)

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]tokenEntry{}} }

// invalidate forgets every entry; called after a commit that changed directories or tokens.
func (c *tokenCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}

// setOff turns the cache off or (back) on; either way it forgets everything.
func (c *tokenCache) setOff(off bool) {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.off = off
	c.mu.Unlock()
}

// generation is the current generation, and whether entries may be used and kept at all.
func (c *tokenCache) generation() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, !c.off
}

// LookupDirectoryToken answers from the cache when it can, else reads the database.
func (s *Store) LookupDirectoryToken(ctx context.Context, hash []byte, now time.Time) (*roster.DirectoryToken, *roster.Directory, error) {
	c := s.tokens
	if c == nil {
		return s.reader.LookupDirectoryToken(ctx, hash, now)
	}
	key := string(hash)
	c.mu.Lock()
	e, ok := c.m[key]
	gen, on := c.gen, !c.off
	c.mu.Unlock()
	if !on {
		return s.reader.LookupDirectoryToken(ctx, hash, now)
	}
	if ok && time.Since(e.at) < tokenCacheTTL && e.tok.ExpiresAt.After(now) {
		tok, dir := e.tok, e.dir
		return &tok, &dir, nil
	}
	tok, dir, err := s.reader.LookupDirectoryToken(ctx, hash, now)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	// A change that committed while the row was read bumped gen: what was read may predate
	// it, so it is not kept.
	if c.gen == gen && !c.off {
		if len(c.m) >= tokenCacheMax {
			clear(c.m)
		}
		c.m[key] = tokenEntry{tok: *tok, dir: *dir, at: time.Now()}
	}
	c.mu.Unlock()
	return tok, dir, nil
}
