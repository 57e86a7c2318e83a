// Package sqlstore is Roster's one database/sql implementation of store.Store, serving the
// embedded SQLite default (modernc.org/sqlite, pure Go) and PostgreSQL (pgx). One SQL text
// serves both: parameters are bound as $1…$n, times are microseconds since the epoch, and the
// few differences live in sqlite.go and postgres.go. Migrations are numbered files per dialect,
// embedded, and applied by Open.
package sqlstore
