// Command roster is the Roster identity provisioning server and its administration CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitCode prints err as one line and maps it to the exit status: 0, 1 for errors, 2 for
// bad usage.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "roster: %s\nRun 'roster help' for usage.\n", u.msg)
		return 2
	}
	fmt.Fprintf(stderr, "roster: %s\n", err)
	return 1
}

const usage = `Roster: organizations, SCIM 2.0 provisioning, SSO and OAuth for B2B SaaS.

Usage: roster <command> [flags]

Commands:
  serve                     run the server (applies migrations first)
  migrate                   apply database migrations and exit
  org create --name NAME    create an organization
  org list                  list organizations
  org key create --org ID   create an organization API key (the secret is shown once)
  scim directory create --org ID --name NAME [--default-role NONE]
                            create a SCIM directory and its bearer token (shown once)
  user create --org ID --email EMAIL [--name NAME] [--role OWNER] --password-stdin
                            create a member who signs in to the console
  sso disable --org ID      break-glass: turn SSO enforcement off for an organization
  backup --to FILE          online, consistent copy of a SQLite database
  keyring generate          print a new key for ROSTER_SECRET_KEY (first key encrypts, all decrypt)
  version                   print version information

Global flags (each has an environment twin; flags win):
  --database     ROSTER_DATABASE     SQLite file path (default roster.db) or postgres:// DSN
  --addr         ROSTER_ADDR         listen address (default 127.0.0.1:8080)
  --base-url     ROSTER_BASE_URL     public URL (default http://<addr>)
Run 'roster <command> --help' for a command's flags.
`

// run is the whole program: main only wires the process to it, and tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	env := envFunc(getenv)
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], env, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], env, stdout, stderr)
	case "org":
		return runOrg(ctx, args[1:], env, stdout, stderr)
	case "scim":
		return runSCIM(ctx, args[1:], env, stdout, stderr)
	case "user":
		return runUser(ctx, args[1:], env, stdin, stdout, stderr)
	case "sso":
		return runSSO(ctx, args[1:], env, stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], env, stdout, stderr)
	case "keyring":
		return runKeyring(ctx, args[1:], stdout)
	case "version", "--version", "-version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q", args[0])
}
