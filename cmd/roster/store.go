package main

import (
	"context"
	"log/slog"

	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// openStore opens the database of c, applying pending migrations, as every command that
// opens the database must.
func openStore(ctx context.Context, c *config, log *slog.Logger) (*sqlstore.Store, error) {
	return sqlstore.Open(ctx, c.Database, sqlstore.Options{Logger: log})
}
