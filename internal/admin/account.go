package admin

import "github.com/rosterhq/roster/internal/roster"

// Your account: a member turns two-factor sign-in (TOTP, RFC 6238) on and off for its own
// membership. Any signed-in member may, whatever its role.

type accountPage struct {
	Enabled     bool
	Secret, URI string
}

func (c *Console) accountView(q *req, secret, uri string) (*view, error) {
	need, err := c.People.NeedsTOTP(q.ctx(), q.org.ID, q.me.ID)
	if err != nil {
		return nil, err
	}
	return q.view("account", "Your account", &accountPage{Enabled: need, Secret: secret, URI: uri}), nil
}

// Account answers GET /orgs/{orgId}/account.
func (c *Console) Account(q *req) error {
	v, err := c.accountView(q, "", "")
	if err != nil {
		return err
	}
	return c.show(q, "account", v, "")
}

// BeginTOTP answers POST /orgs/{orgId}/account/totp/begin: a new seed, shown once, to add
// to an authenticator app; it is required only once confirmed.
func (c *Console) BeginTOTP(q *req) error {
	if on, err := c.People.NeedsTOTP(q.ctx(), q.org.ID, q.me.ID); err != nil {
		return err
	} else if on {
		return roster.E(roster.Conflict, "two-factor sign-in is already on: turn it off first to set up another authenticator")
	}
	secret, uri, err := c.People.BeginTOTP(q.ctx(), q.actor(), q.me, "Roster ("+q.org.Name+")")
	if err != nil {
		return err
	}
	v, err := c.accountView(q, secret, uri)
	if err != nil {
		return err
	}
	return c.show(q, "account", v, q.base()+"/account")
}

// ConfirmTOTP answers POST /orgs/{orgId}/account/totp/confirm (code).
func (c *Console) ConfirmTOTP(q *req) error {
	if err := c.People.ConfirmTOTP(q.ctx(), q.actor(), q.org.ID, q.me.ID, q.r.PostForm.Get("code")); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/account", "totp-on")
}

// DisableTOTP answers POST /orgs/{orgId}/account/totp/disable.
func (c *Console) DisableTOTP(q *req) error {
	if err := c.People.DisableTOTP(q.ctx(), q.actor(), q.org.ID, q.me.ID); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/account", "totp-off")
}
