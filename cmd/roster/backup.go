package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/store/sqlstore"
)

func runBackup(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs, c, errs := flagSet("backup", env, stderr, false)
	to := fs.String("to", "", "file to write the copy to (must not exist)")
	if err := parse(fs, c, errs, args); err != nil {
		return helpOK(err)
	}
	if *to == "" {
		return usagef("backup: --to is required")
	}
	if sqlstore.IsPostgres(c.Database) {
		return fmt.Errorf("roster backup copies SQLite databases; back up PostgreSQL with pg_dump or its continuous archiving")
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s\n", c.Database, *to)
	return nil
}
