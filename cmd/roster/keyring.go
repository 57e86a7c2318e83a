package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/keyring"
)

// runKeyring: `roster keyring generate` prints a new key entry for ROSTER_SECRET_KEY. To
// rotate, put the new entry first and keep the old ones after it: the first key encrypts,
// all of them decrypt.
func runKeyring(_ context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "generate" {
		return usagef("keyring: want 'generate'")
	}
	k, err := keyring.Generate()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, k)
	return nil
}
