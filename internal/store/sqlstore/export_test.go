package sqlstore

import (
	"context"
	"time"
)

// WaitListening waits until the store's token cache is on (PostgreSQL: its listener listens).
func (s *Store) WaitListening(d time.Duration) bool {
	if s.tokens == nil {
		return false
	}
	return s.tokens.waitListening(d)
}

// waitListening waits, for at most d, until the cache is on: a new store serves its first
// requests from the database until then.
func (c *tokenCache) waitListening(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, on := c.generation(); on {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// AnalyzeStale runs one pass of the PostgreSQL analyzer now and returns the tables it
// analyzed.
func (s *Store) AnalyzeStale(ctx context.Context) ([]string, error) {
	return s.analyzer.pass(ctx)
}

// NewPersonTakenSQL is the check a SCIM create makes for a returning person.
const NewPersonTakenSQL = newPersonTaken
