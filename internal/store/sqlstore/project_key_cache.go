package sqlstore

import (
	"context"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// The host application verifies a project key on every request it serves
// (POST /api/admin/apiKeys/verify), so the verification is answered from memory
// when it can, as directory tokens are (tokencache.go): entries are stamped with the token
// cache's generation, which every commit that changes credentials bumps before it is
// acknowledged (project key writes mark their transaction so), and they age out after
// tokenCacheTTL, the bound on how late a change by another process on the same file is seen.
// Unknown keys are never cached. On PostgreSQL the same notifications that clear the token
// cache on every replica (tokencache.go) bump the generation.
type projectKeyCache struct {
	mu sync.Mutex
	m  map[string]projectKeyEntry
}

type projectKeyEntry struct {
	key roster.APIKey
	gen uint64
	at  time.Time
}

// LookupProjectKey answers from the cache when it can, else reads the database.
func (s *Store) LookupProjectKey(ctx context.Context, publicKey string) (*roster.APIKey, error) {
	c, tc := s.projectKeys, s.tokens
	if c == nil || tc == nil {
		return s.reader.LookupProjectKey(ctx, publicKey)
	}
	gen, on := tc.generation()
	if !on {
		return s.reader.LookupProjectKey(ctx, publicKey)
	}
	c.mu.Lock()
	e, ok := c.m[publicKey]
	c.mu.Unlock()
	if ok && e.gen == gen && time.Since(e.at) < tokenCacheTTL {
		k := e.key
		return &k, nil
	}
	k, err := s.reader.LookupProjectKey(ctx, publicKey)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= tokenCacheMax {
		clear(c.m)
	}
	// Stamped with the generation read before the row: a change that committed meanwhile
	// bumped it, and the entry is then never used.
	c.m[publicKey] = projectKeyEntry{key: *k, gen: gen, at: time.Now()}
	c.mu.Unlock()
	return k, nil
}
