package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/sso"
)

// runSSO: `roster sso disable --org ID` is the break-glass for an organization locked out
// by SSO enforcement (an IdP outage, a wrong certificate): it turns enforcement off so that
// members can sign in with their passwords again. Connections are left as they are.
func runSSO(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "disable" {
		return usagef("sso: want 'disable'")
	}
	fs, c, errs := flagSet("sso disable", env, stderr, false)
	org := fs.String("org", "", "organization id (required)")
	if err := parse(fs, c, errs, args[1:]); err != nil {
		return helpOK(err)
	}
	if *org == "" {
		return usagef("sso disable: --org is required")
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := sso.New(sso.Config{Store: st}).DisableEnforcement(ctx, cliActor, *org); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SSO enforcement is off for organization %s: members may sign in with passwords\n", *org)
	return nil
}
