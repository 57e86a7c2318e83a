package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// cliActor is the audit actor of changes made with the local CLI.
var cliActor = roster.SystemActor("cli")

// quietLogger is the logger of CLI verbs: warnings and errors only, on stderr.
func quietLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// printJSON writes exactly one JSON object on stdout.
func printJSON(stdout io.Writer, v any) error {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runOrg(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("org: want 'create', 'list' or 'key create'")
	}
	switch args[0] {
	case "create":
		return runOrgCreate(ctx, args[1:], env, stdout, stderr)
	case "list":
		return runOrgList(ctx, args[1:], env, stdout, stderr)
	case "key":
		if len(args) < 2 || args[1] != "create" {
			return usagef("org key: want 'create'")
		}
		return runOrgKeyCreate(ctx, args[2:], env, stdout, stderr)
	}
	return usagef("org: unknown command %q", args[0])
}

func runOrgCreate(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs, c, errs := flagSet("org create", env, stderr, false)
	name := fs.String("name", "", "organization name (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, c, errs, args); err != nil {
		return helpOK(err)
	}
	if *name == "" {
		return usagef("org create: --name is required")
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	org, err := auth.NewService(st, auth.Config{}).CreateOrganization(ctx, cliActor, *name)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, struct {
			ID        string    `json:"id"`
			Name      string    `json:"name"`
			CreatedAt time.Time `json:"createdAt"`
		}{org.ID, org.Name, org.CreatedAt})
	}
	fmt.Fprintf(stdout, "Created organization %q with id %s\n", org.Name, org.ID)
	return nil
}

func runOrgList(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs, c, errs := flagSet("org list", env, stderr, false)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, c, errs, args); err != nil {
		return helpOK(err)
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	all := []roster.Organization{}
	page := store.Page{Limit: 1000}
	for {
		orgs, next, err := st.ListOrganizations(ctx, page)
		if err != nil {
			return err
		}
		all = append(all, orgs...)
		if next == "" {
			break
		}
		page.After = next
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"organizations": all})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, o := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func runOrgKeyCreate(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs, c, errs := flagSet("org key create", env, stderr, false)
	orgID := fs.String("org", "", "organization id (required)")
	note := fs.String("note", "", "a note to tell keys apart")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, c, errs, args); err != nil {
		return helpOK(err)
	}
	if *orgID == "" {
		return usagef("org key create: --org is required")
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetOrganization(ctx, *orgID); err != nil {
		return err
	}
	key, secret, err := auth.NewService(st, auth.Config{}).CreateOrgKey(ctx, cliActor, *orgID, *note, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, struct {
			ID               string    `json:"id"`
			PublicKey        string    `json:"publicKey"`
			SecretKey        string    `json:"secretKey"`
			DisplaySecretKey string    `json:"displaySecretKey"`
			Note             string    `json:"note"`
			CreatedAt        time.Time `json:"createdAt"`
		}{key.ID, key.PublicKey, secret, key.DisplaySecretKey, key.Note, key.CreatedAt})
	}
	fmt.Fprintf(stdout, "Created organization API key %s\n  public key: %s\n  secret key: %s\n\nThe secret key is shown only now: store it safely.\n",
		key.ID, key.PublicKey, secret)
	return nil
}
