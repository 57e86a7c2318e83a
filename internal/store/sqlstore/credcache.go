package sqlstore

import (
	"context"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// Some credentials are verified on every request of their kind, and are answered from memory
// when they can, as directory tokens are (tokencache.go):
//
//   - project keys: the host application verifies one on every request it serves
//     (POST /api/admin/apiKeys/verify);
//   - OAuth clients: every token, introspection and revocation request authenticates one.
//
// Entries are stamped with the token cache's generation, which every commit that changes
// credentials bumps before it is acknowledged (project key and OAuth app writes mark their
// transaction so), and they age out after tokenCacheTTL, the bound on how late a change by
// another process on the same file is seen. Unknown credentials are never cached. On
// PostgreSQL the same notifications that clear the token cache on every replica
// (tokencache.go) bump the generation, and while no notification can arrive nothing is
// cached.
type credCache[V any] struct {
	tokens *tokenCache
	mu     sync.Mutex
	m      map[string]credEntry[V]
}

type credEntry[V any] struct {
	v   V
	gen uint64
	at  time.Time
}

func newCredCache[V any](tokens *tokenCache) *credCache[V] {
	return &credCache[V]{tokens: tokens, m: map[string]credEntry[V]{}}
}

// get answers key from the cache when it can, else with read, whose answer it keeps.
func (c *credCache[V]) get(key string, read func() (*V, error)) (*V, error) {
	if c == nil {
		return read()
	}
	gen, on := c.tokens.generation()
	if !on {
		return read()
	}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.gen == gen && time.Since(e.at) < tokenCacheTTL {
		v := e.v
		return &v, nil
	}
	v, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= tokenCacheMax {
		clear(c.m)
	}
	// Stamped with the generation read before the row: a change that committed meanwhile
	// bumped it, and the entry is then never used.
	c.m[key] = credEntry[V]{v: *v, gen: gen, at: time.Now()}
	c.mu.Unlock()
	return v, nil
}

// LookupProjectKey answers from the cache when it can, else reads the database.
func (s *Store) LookupProjectKey(ctx context.Context, publicKey string) (*roster.APIKey, error) {
	return s.projectKeys.get(publicKey, func() (*roster.APIKey, error) { return s.reader.LookupProjectKey(ctx, publicKey) })
}

// LookupOAuthClient answers from the cache when it can, else reads the database. The copy
// it returns shares its slices with the cached entry: callers only read an app.
func (s *Store) LookupOAuthClient(ctx context.Context, clientID string) (*roster.OAuthApp, error) {
	return s.oauthClients.get(clientID, func() (*roster.OAuthApp, error) { return s.reader.LookupOAuthClient(ctx, clientID) })
}
