package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/roster"
)

func runSCIM(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "directory" || args[1] != "create" {
		return usagef("scim: want 'directory create'")
	}
	fs, c, errs := flagSet("scim directory create", env, stderr, false)
	orgID := fs.String("org", "", "organization id (required)")
	name := fs.String("name", "", "directory name, e.g. the identity provider's (required)")
	role := fs.String("default-role", "NONE", "org role of provisioned members: NONE, VIEWER, MEMBER or ADMIN")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, c, errs, args[2:]); err != nil {
		return helpOK(err)
	}
	if *orgID == "" || *name == "" {
		return usagef("scim directory create: --org and --name are required")
	}
	r, err := roster.ParseRole(*role)
	if err != nil {
		return usagef("--default-role: %v", err)
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetOrganization(ctx, *orgID); err != nil {
		return err
	}
	dir, token, err := auth.NewService(st, auth.Config{TokenTTL: c.TokenTTL}).CreateDirectory(ctx, cliActor, *orgID, *name, r)
	if err != nil {
		return err
	}
	out := httpapi.NewDirectoryCreated(dir, token, c.publicURL())
	if *asJSON {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "Created SCIM directory %q (%s)\n  SCIM base URL: %s\n  bearer token:  %s\n  expires:       %s\n\nThe token is shown only now: paste it into your identity provider.\n",
		out.Name, out.ID, out.SCIMBaseURL, token, out.TokenExpiresAt.Format("2006-01-02"))
	return nil
}

// publicURL is --base-url, or http://<addr>.
func (c *config) publicURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return "http://" + c.Addr
}
