package sqlstore

import "time"

// WaitListening waits until the store's token cache is on (PostgreSQL: its listener listens).
func (s *Store) WaitListening(d time.Duration) bool {
	if s.tokens == nil {
		return false
	}
	return s.tokens.waitListening(d)
}
