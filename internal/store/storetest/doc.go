// Package storetest is the conformance suite of store.Store: the one set of tests that every
// backend passes (DESIGN.md section 4 and convention 5, after dex's storage/conformance).
//
// A backend's own test calls Run with a function that opens a fresh, empty store:
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return sqltest.SQLite(t) })
//	}
//
// The suite speaks only through the store interfaces, so it cannot depend on how a backend
// lays out its tables. It checks what callers rely on: create, read, update and delete of every
// kind of row; that organization B never reads or changes organization A's rows; that
// uniqueness holds when many transactions race for the same credential; that a change and its
// audit record commit together or not at all, and that audit snapshots never carry a secret
// hash; credential lookups, rotation with and without a grace period, last-use times and
// expiry listings; and that concurrent writers all succeed.
//
// A new store method starts with its case here, including "org B cannot see org A's row".
package storetest
