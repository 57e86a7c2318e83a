package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

func runMigrate(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs, c, errs := flagSet("migrate", env, stderr, false)
	if err := parse(fs, c, errs, args); err != nil {
		return helpOK(err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

// helpOK turns the -h request into a clean exit.
func helpOK(err error) error {
	if err == errHelp {
		return nil
	}
	return err
}
