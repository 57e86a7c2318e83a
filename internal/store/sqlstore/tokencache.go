package sqlstore

import (
	"context"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// Every SCIM request verifies its bearer token, and on SQLite that read cost as much CPU as
// the request's own work. A SQLite database is served by one process, whose store commits
// every change to directories and tokens itself: tokenCache keeps the tokens it verified and
// forgets all of them when such a change commits, before the change is acknowledged, so a
// token that is revoked, rotated out, or whose directory is disabled or deleted is refused at
// once. Entries also age out after tokenCacheTTL, the bound on how late a change made by
// another process on the same file (a CLI command) is seen. Unknown tokens are never cached:
// each failed attempt reads the database (and is rate limited above). PostgreSQL, where
// several replicas share the database, reads every time.
type tokenCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]tokenEntry
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

// LookupDirectoryToken answers from the cache when it can, else reads the database.
func (s *Store) LookupDirectoryToken(ctx context.Context, hash []byte, now time.Time) (*roster.DirectoryToken, *roster.Directory, error) {
	c := s.tokens
	if c == nil {
		return s.reader.LookupDirectoryToken(ctx, hash, now)
	}
	key := string(hash)
	c.mu.Lock()
	e, ok := c.m[key]
	gen := c.gen
	c.mu.Unlock()
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
	if c.gen == gen {
		if len(c.m) >= tokenCacheMax {
			clear(c.m)
		}
		c.m[key] = tokenEntry{tok: *tok, dir: *dir, at: time.Now()}
	}
	c.mu.Unlock()
	return tok, dir, nil
}
