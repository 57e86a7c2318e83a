package admin

import (
	"errors"
	"html/template"
	"net/url"
	"strings"

	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The Members page: every live member with email, name, org role, source, status and last
// change; search and filters; keyset pages (store.SearchMembers), so page 1,000 of 100,000
// members costs what page 1 does. Admins change roles, remove members and invite people;
// owners also issue password-reset links and grant OWNER.

// membersPageSize is the number of members on a page.
const membersPageSize = 50

type linkShown struct {
	Email     string
	URL       string
	ExpiresAt any
	// Mailed says the invitation was also sent by email; MailError why it could not be.
	Mailed    bool
	MailError string
}

type linkRow struct {
	roster.MemberLink
	Email string
}

// memberRow is one row of the page, prepared in Go: templates call functions by reflection,
// which at 50 rows of five role options each cost more than the query.
type memberRow struct {
	ID, Email, Name string
	Role            roster.Role
	Source          string
	SCIM            bool
	Status          roster.MemberStatus
	Changed         template.HTML
	// Options are the roles the signed-in member may set on this one, when it may edit it.
	Options             []roleOption
	CanRemove, CanReset bool
}

type roleOption struct {
	Role     roster.Role
	Selected bool
}

type membersPage struct {
	Filter  store.MemberFilter
	Rows    []memberRow
	Next    string
	Query   string
	Roles   []roster.Role
	Links   []linkRow
	Invited *linkShown
	Reset   *linkShown
}

var allRoles = []roster.Role{roster.RoleOwner, roster.RoleAdmin, roster.RoleMember, roster.RoleViewer, roster.RoleNone}

// memberFilter reads the page's filters from the query string, ignoring values it does not
// know (a filter link is never an error).
func memberFilter(v url.Values) store.MemberFilter {
	f := store.MemberFilter{Search: strings.TrimSpace(v.Get("q")), Limit: membersPageSize}
	if len(f.Search) > 200 {
		f.Search = f.Search[:200]
	}
	if r, err := roster.ParseRole(v.Get("role")); err == nil && v.Get("role") != "" {
		f.Role = r
	}
	switch s := roster.MemberStatus(v.Get("status")); s {
	case roster.MemberActive, roster.MemberSuspended:
		f.Status = s
	}
	switch s := v.Get("source"); s {
	case "scim", "manual":
		f.Source = s
	}
	if a := v.Get("after"); roster.ValidID(a) {
		f.After = a
	}
	return f
}

func (c *Console) membersData(q *req) (*membersPage, error) {
	f := memberFilter(q.r.URL.Query())
	rows, next, err := c.Store.SearchMembers(q.ctx(), q.org.ID, f)
	if err != nil {
		return nil, err
	}
	qs := url.Values{}
	for k, v := range map[string]string{"q": f.Search, "role": string(f.Role), "status": string(f.Status), "source": f.Source} {
		if v != "" {
			qs.Set(k, v)
		}
	}
	d := &membersPage{Filter: f, Next: next, Query: qs.Encode(), Roles: allRoles}
	canChange, isOwner := q.me.Role.AtLeast(changeRole), q.me.Role == roster.RoleOwner
	d.Rows = make([]memberRow, len(rows))
	for i := range rows {
		m := &rows[i]
		row := memberRow{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, Status: m.Status, Changed: fmtTime(m.ChangedAt),
			Source: "manual", CanReset: isOwner}
		if m.DirectoryID != "" {
			row.Source, row.SCIM = "SCIM: "+m.DirectoryName, true
		}
		if canChange && (isOwner || m.Role != roster.RoleOwner) {
			for _, r := range allRoles {
				if r != roster.RoleOwner || isOwner {
					row.Options = append(row.Options, roleOption{Role: r, Selected: r == m.Role})
				}
			}
			row.CanRemove = m.ID != q.me.ID
		}
		d.Rows[i] = row
	}
	if q.me.Role.AtLeast(changeRole) {
		links, err := c.Store.ListMemberLinks(q.ctx(), q.org.ID, c.Now())
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(links))
		for _, l := range links {
			ids = append(ids, l.MemberID)
		}
		byID, err := c.Store.MembersByID(q.ctx(), q.org.ID, ids)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			row := linkRow{MemberLink: l}
			if m := byID[l.MemberID]; m != nil {
				row.Email = m.Email
			}
			d.Links = append(d.Links, row)
		}
	}
	return d, nil
}

// Members answers GET /orgs/{orgId}/members.
func (c *Console) Members(q *req) error {
	d, err := c.membersData(q)
	if err != nil {
		return err
	}
	return c.show(q, "members", q.view("members", "Members", d), "")
}

// member reads a live member of the organization named by the path.
func (c *Console) member(q *req, tx store.Reader) (*roster.Member, error) {
	id := q.r.PathValue("memberId")
	if !roster.ValidID(id) {
		return nil, roster.E(roster.NotFound, "no such member")
	}
	m, err := tx.GetMember(q.ctx(), q.org.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Status == roster.MemberDeleted) {
		return nil, roster.E(roster.NotFound, "no such member")
	}
	return m, err
}

// grantable refuses what the signed-in member may not hand out: only an owner makes or
// unmakes owners.
func grantable(q *req, from, to roster.Role) error {
	if (to == roster.RoleOwner || from == roster.RoleOwner) && q.me.Role != roster.RoleOwner {
		return roster.E(roster.Forbidden, "only an owner can grant or take away OWNER")
	}
	return nil
}

// SetRole answers POST /orgs/{orgId}/members/{memberId}/role (role): the same batch write
// as the organization API's membership PUT, with its last-OWNER guard.
func (c *Console) SetRole(q *req) error {
	role, err := roster.ParseRole(q.r.PostForm.Get("role"))
	if err != nil {
		return err
	}
	err = c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		m, err := c.member(q, tx)
		if err != nil {
			return err
		}
		if err := grantable(q, m.Role, role); err != nil {
			return err
		}
		return tx.SetOrgRoles(q.ctx(), q.org.ID, []store.RoleChange{{Before: m, Role: role}})
	})
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/members", "role")
}

// RemoveMember answers POST /orgs/{orgId}/members/{memberId}/remove.
func (c *Console) RemoveMember(q *req) error {
	err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		m, err := c.member(q, tx)
		if err != nil {
			return err
		}
		if err := grantable(q, m.Role, roster.RoleNone); err != nil {
			return err
		}
		return tx.DeleteMember(q.ctx(), q.org.ID, m.ID)
	})
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/members", "removed")
}

// Invite answers POST /orgs/{orgId}/invitations (email, name, role): the member is made at
// once with its role, and the one-time link to choose a password is shown once.
func (c *Console) Invite(q *req) error {
	role, err := roster.ParseRole(q.r.PostForm.Get("role"))
	if err != nil {
		return err
	}
	if err := grantable(q, roster.RoleNone, role); err != nil {
		return err
	}
	m, link, token, err := c.People.Invite(q.ctx(), q.actor(), q.org.ID, q.r.PostForm.Get("email"), q.r.PostForm.Get("name"), role)
	if err != nil {
		return err
	}
	d, err := c.membersData(q)
	if err != nil {
		return err
	}
	d.Invited = &linkShown{Email: m.Email, URL: c.BaseURL + "/password/" + token, ExpiresAt: link.ExpiresAt}
	if c.Mailer != nil {
		err := c.Mailer.Send(q.ctx(), mail.Message{To: m.Email, Subject: "Join " + q.org.Name + " on Roster",
			Body: q.me.Email + " invited you to " + q.org.Name + " on Roster.\n\nChoose your password here (the link works once, until " +
				link.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + "):\n\n" + d.Invited.URL + "\n"})
		if err != nil {
			c.Logger.Warn("mailing an invitation", "org_id", q.org.ID, "err", err)
			d.Invited.MailError = "the email could not be sent (" + roster.MessageOf(err) + "): send the link yourself"
		} else {
			d.Invited.Mailed = true
		}
	}
	return c.show(q, "members", q.view("members", "Members", d), q.base()+"/members")
}

// ResetLink answers POST /orgs/{orgId}/members/{memberId}/reset-link (owners only).
func (c *Console) ResetLink(q *req) error {
	m, err := c.member(q, c.Store)
	if err != nil {
		return err
	}
	link, token, err := c.People.ResetLink(q.ctx(), q.actor(), q.org.ID, m.ID)
	if err != nil {
		return err
	}
	d, err := c.membersData(q)
	if err != nil {
		return err
	}
	d.Reset = &linkShown{Email: m.Email, URL: c.BaseURL + "/password/" + token, ExpiresAt: link.ExpiresAt}
	return c.show(q, "members", q.view("members", "Members", d), q.base()+"/members")
}

// RevokeLink answers POST /orgs/{orgId}/invitations/{linkId}/revoke.
func (c *Console) RevokeLink(q *req) error {
	id := q.r.PathValue("linkId")
	if !roster.ValidID(id) {
		return roster.E(roster.NotFound, "no such link")
	}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error { return tx.RevokeMemberLink(q.ctx(), q.org.ID, id) }); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/members", "revoked")
}
