package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// An identity provider that imports a directory pages through it by startIndex (Okta's
// import asks for startIndex=1, 101, 201, … with count=100), and a page by offset costs the
// rows before it: the last pages of a million users would each skip a million index
// entries. pageAnchors remembers, for a list in creation order, the id of the last row of
// each full page it served, by the position that follows it: the next page then starts
// after that id (as a cursor would) and costs its own rows only, wherever it is. Any
// committed write to a directory's users or groups forgets the directory's anchors (a
// create or delete moves every later position), so a page read by anchor is the page the
// offset would have read. SQLite only: one process writes the file, and sees every write.
type pageAnchors struct {
	mu  sync.Mutex
	gen map[string]uint64      // directory id -> generation, bumped by every write
	m   map[anchorKey]anchorAt // position -> the id just before it
}

type anchorKey struct {
	dir, table, where string
	offset            int
}

type anchorAt struct {
	id  string
	gen uint64
}

// maxAnchors bounds memory: past it, the anchors are forgotten and collected anew.
const maxAnchors = 100_000

func newPageAnchors() *pageAnchors {
	return &pageAnchors{gen: map[string]uint64{}, m: map[anchorKey]anchorAt{}}
}

// changed forgets the anchors of directories written by a committed transaction.
func (a *pageAnchors) changed(dirs map[string]bool) {
	a.mu.Lock()
	for d := range dirs {
		a.gen[d]++
	}
	a.mu.Unlock()
}

// anchored tells whether q is a page in creation order by offset, the kind anchors serve.
func anchored(q store.Query) bool {
	return q.Offset > 0 && q.Limit > 0 && q.After == "" && q.SortBy.Column == "" && len(q.SortBy.Path) == 0 && !q.SortDesc
}

func whereKey(q store.Query) string { return fmt.Sprintf("%#v", q.Where) }

// lookup returns q rewritten to start after the anchor at its offset, and the directory's
// generation to record the page's own anchor with.
func (a *pageAnchors) lookup(table, dirID string, q store.Query) (store.Query, uint64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.gen[dirID]
	at, ok := a.m[anchorKey{dirID, table, whereKey(q), q.Offset}]
	if !ok || at.gen != g {
		return q, g, false
	}
	q.After, q.Offset = at.id, 0
	return q, g, true
}

// record keeps the anchor after a full page that ended at position end.
func (a *pageAnchors) record(table, dirID string, q store.Query, end int, lastID string, g uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen[dirID] != g {
		return // written while the page was read
	}
	if len(a.m) >= maxAnchors {
		clear(a.m)
	}
	a.m[anchorKey{dirID, table, whereKey(q), end}] = anchorAt{id: lastID, gen: g}
}

// ListSCIMUsers reads a page of users, starting at the page anchor of its position if any.
func (s *Store) ListSCIMUsers(ctx context.Context, orgID, dirID string, q store.Query) ([]roster.SCIMUser, int, error) {
	if s.anchors == nil || !anchored(q) {
		return s.reader.ListSCIMUsers(ctx, orgID, dirID, q)
	}
	aq, g, _ := s.anchors.lookup("users", dirID, q)
	users, total, err := s.reader.ListSCIMUsers(ctx, orgID, dirID, aq)
	if err == nil && len(users) == q.Limit {
		s.anchors.record("users", dirID, q, q.Offset+len(users), users[len(users)-1].ID, g)
	}
	return users, total, err
}

// ListSCIMGroups reads a page of groups, starting at the page anchor of its position if any.
func (s *Store) ListSCIMGroups(ctx context.Context, orgID, dirID string, q store.Query) ([]roster.SCIMGroup, int, error) {
	if s.anchors == nil || !anchored(q) {
		return s.reader.ListSCIMGroups(ctx, orgID, dirID, q)
	}
	aq, g, _ := s.anchors.lookup("groups", dirID, q)
	groups, total, err := s.reader.ListSCIMGroups(ctx, orgID, dirID, aq)
	if err == nil && len(groups) == q.Limit {
		s.anchors.record("groups", dirID, q, q.Offset+len(groups), groups[len(groups)-1].ID, g)
	}
	return groups, total, err
}

// touch notes that this transaction writes the users or groups of a directory.
func (t *txn) touch(dirID string) {
	if t.dirs == nil {
		t.dirs = map[string]bool{}
	}
	t.dirs[dirID] = true
}
