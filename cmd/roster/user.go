package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// runUser: `roster user create` makes a member who signs in to the console with a password,
// the way an organization gets its first owner.
func runUser(ctx context.Context, args []string, env envFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("user: want 'create'")
	}
	fs, c, errs := flagSet("user create", env, stderr, false)
	orgID := fs.String("org", "", "organization id (required)")
	email := fs.String("email", "", "the member's email, which it signs in with (required)")
	name := fs.String("name", "", "the member's name")
	roleFlag := fs.String("role", string(roster.RoleOwner), "organization role: OWNER, ADMIN, MEMBER, VIEWER or NONE")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, c, errs, args[1:]); err != nil {
		return helpOK(err)
	}
	switch {
	case *orgID == "":
		return usagef("user create: --org is required")
	case *email == "":
		return usagef("user create: --email is required")
	case !*pwStdin:
		return usagef("user create: --password-stdin is required (passwords are never taken as flags)")
	}
	role, err := roster.ParseRole(*roleFlag)
	if err != nil {
		return usagef("user create: %s", roster.MessageOf(err))
	}
	if err := auth.CheckEmail(*email); err != nil {
		return usagef("user create: %s", roster.MessageOf(err))
	}
	password, err := readPasswordLine(stdin)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(password); err != nil {
		return err
	}
	st, err := openStore(ctx, c, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := auth.NewPeople(st, auth.PeopleConfig{}).CreateUser(ctx, cliActor, *orgID, *email, *name, role, password)
	if err != nil {
		if roster.KindOf(err) == roster.NotFound {
			return fmt.Errorf("organization %s not found", *orgID)
		}
		return err
	}
	if *asJSON {
		return printJSON(stdout, struct {
			ID    string      `json:"id"`
			Email string      `json:"email"`
			OrgID string      `json:"orgId"`
			Role  roster.Role `json:"role"`
		}{m.ID, m.Email, m.OrgID, m.Role})
	}
	fmt.Fprintf(stdout, "Created member %s (%s) with role %s in organization %s\nSign in at /login.\n", m.ID, m.Email, m.Role, m.OrgID)
	return nil
}

// readPasswordLine reads the first line of r without its line ending (DESIGN.md section 1).
func readPasswordLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReaderSize(r, 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("--password-stdin: standard input holds no password")
	}
	return line, nil
}
