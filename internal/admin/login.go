package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// Sign-in (GET, POST /login), sign-out (POST /logout), the root (/ sends a signed-in member
// to its organization) and the password links of invitations and resets.

type loginPage struct {
	Email    string
	Org      string
	Pending  string
	Choose   []auth.PendingMember
	NeedCode bool
	Next     string
	// SSO offers the sign-in through the organization's SSO connection.
	SSO bool
}

// safeNext keeps a post-sign-in destination only when it is a path of this console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/orgs/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return ""
}

// Root answers GET /: the member's organization, or the sign-in page.
func (c *Console) Root(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	if r.URL.Path != "/" {
		c.fail(w, r, nil, roster.E(roster.NotFound, "no such page"))
		return
	}
	me := signedIn(r)
	if me == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/orgs/"+me.OrgID+"/members", http.StatusSeeOther)
}

// OrgRoot answers GET /orgs/{orgId}/: the members page.
func (c *Console) OrgRoot(w http.ResponseWriter, r *http.Request) {
	c.page(seeRole, func(q *req) error { return q.seeOther(q.base()+"/members", "") })(w, r)
}

// LoginForm answers GET /login.
func (c *Console) LoginForm(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	if me := signedIn(r); me != nil {
		http.Redirect(w, r, "/orgs/"+me.OrgID+"/members", http.StatusSeeOther)
		return
	}
	v := &view{Title: "Sign in", Data: loginPage{Org: r.URL.Query().Get("org"), Next: safeNext(r.URL.Query().Get("next")), SSO: c.SSO != nil}}
	v.Notice = notices[r.URL.Query().Get("notice")]
	if err := c.render(w, r, http.StatusOK, "login", v); err != nil {
		c.fail(w, r, nil, err)
	}
}

// loginKey is the failure limiter's key of a sign-in: the source address and the email
// together (DESIGN.md section 3), so one person's typos never lock out another.
func loginKey(r *http.Request, email string) string {
	return roster.RequestMetaFrom(r.Context()).IP + "|login:" + roster.NormalizeEmail(email)
}

// Login answers POST /login: email and password (and optionally org) sign in and answer 303;
// a person whose password opens several organizations chooses one, and a member with
// two-factor sign-in gives a code, each as a further POST carrying the sealed pending state.
func (c *Console) Login(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, roster.E(roster.Invalid, "the form could not be read"))
		return
	}
	page := loginPage{Email: strings.TrimSpace(r.PostForm.Get("email")), Org: r.PostForm.Get("org"), Next: safeNext(r.PostForm.Get("next")), SSO: c.SSO != nil}
	again := func(status int, err error) {
		v := &view{Title: "Sign in", Data: page, Error: roster.MessageOf(err)}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		if rerr := c.render(w, r, status, "login", v); rerr != nil {
			c.fail(w, r, nil, rerr)
		}
	}
	var pending *auth.PendingSignIn
	var key string
	if sealed := r.PostForm.Get("pending"); sealed != "" {
		ps, err := c.People.OpenPending(sealed)
		if err != nil {
			page = loginPage{}
			again(http.StatusUnauthorized, err)
			return
		}
		pending = ps
		page.Pending = sealed
		key = roster.RequestMetaFrom(r.Context()).IP + "|login-pending:" + ps.Members[0].MemberID
	} else {
		if page.Email == "" || r.PostForm.Get("password") == "" {
			again(http.StatusBadRequest, roster.E(roster.Invalid, "enter your email and your password"))
			return
		}
		key = loginKey(r, page.Email)
	}
	if blocked, _ := c.Limiter.Blocked(key); blocked {
		again(http.StatusTooManyRequests, roster.E(roster.RateLimited, "too many failed sign-ins: wait a minute and try again"))
		return
	}
	if pending == nil {
		ms, err := c.People.SignIn(r.Context(), page.Email, r.PostForm.Get("password"), page.Org)
		if err != nil {
			if roster.KindOf(err) == roster.Unauthenticated {
				c.Limiter.Fail(key)
			}
			again(status(err), err)
			return
		}
		sealed, err := c.People.SealPending(ms)
		if err != nil && len(ms) > 1 {
			again(http.StatusBadRequest, err)
			return
		}
		if len(ms) > 1 {
			page.Pending = sealed
			for _, lm := range ms {
				page.Choose = append(page.Choose, auth.PendingMember{OrgID: lm.Member.OrgID, MemberID: lm.Member.ID, OrgName: lm.OrgName})
			}
			_ = c.render(w, r, http.StatusOK, "login", &view{Title: "Choose an organization", Data: page})
			return
		}
		page.Pending = sealed
		pending = &auth.PendingSignIn{Members: []auth.PendingMember{{OrgID: ms[0].Member.OrgID, MemberID: ms[0].Member.ID, OrgName: ms[0].OrgName}}}
	}
	var chosen *auth.PendingMember
	for i, pm := range pending.Members {
		if len(pending.Members) == 1 || pm.OrgID == page.Org {
			chosen = &pending.Members[i]
			break
		}
	}
	if chosen == nil {
		page.Choose = pending.Members
		again(http.StatusBadRequest, roster.E(roster.Invalid, "choose one of your organizations"))
		return
	}
	page.Org = chosen.OrgID
	need, err := c.People.NeedsTOTP(r.Context(), chosen.OrgID, chosen.MemberID)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if need {
		code := r.PostForm.Get("code")
		if code == "" || page.Pending == "" {
			page.NeedCode = true
			if page.Pending == "" {
				again(http.StatusBadRequest, roster.E(roster.Invalid, "two-factor sign-in needs the server's keyring"))
				return
			}
			_ = c.render(w, r, http.StatusOK, "login", &view{Title: "Two-factor sign-in", Data: page})
			return
		}
		if err := c.People.CheckTOTP(r.Context(), chosen.OrgID, chosen.MemberID, code); err != nil {
			if roster.KindOf(err) == roster.Unauthenticated {
				c.Limiter.Fail(key)
			}
			page.NeedCode = true
			again(status(err), err)
			return
		}
	}
	m, err := c.Store.GetMember(r.Context(), chosen.OrgID, chosen.MemberID)
	if err != nil || m.Status != roster.MemberActive {
		page = loginPage{}
		again(http.StatusUnauthorized, roster.E(roster.Unauthenticated, "this membership cannot sign in"))
		return
	}
	if _, err := c.Sessions.Start(w, r, m, roster.SessionPassword, ""); err != nil {
		if roster.KindOf(err) == roster.Forbidden {
			// The organization enforces SSO for this email's domain: no password session.
			page = loginPage{Email: m.Email, SSO: c.SSO != nil}
			again(http.StatusForbidden, roster.E(roster.Forbidden, "your organization signs in through single sign-on: use the button below"))
			return
		}
		c.fail(w, r, nil, err)
		return
	}
	next := page.Next
	if next == "" || !strings.HasPrefix(next, "/orgs/"+m.OrgID+"/") {
		next = "/orgs/" + m.OrgID + "/members"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// Logout answers POST /logout: the session ends and the browser goes to /login.
func (c *Console) Logout(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	if err := c.Sessions.End(w, r); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/login?notice=signed-out", http.StatusSeeOther)
}

type passwordPage struct {
	Token, Email, OrgName string
	MinLen                int
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, status int, token string, l *roster.MemberLink, m *roster.Member, msg string) {
	org, err := c.Store.GetOrganization(r.Context(), m.OrgID)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	title := "Choose a password"
	if l.Kind == roster.LinkPasswordReset {
		title = "Reset your password"
	}
	v := &view{Title: title, Error: msg, Data: passwordPage{Token: token, Email: m.Email, OrgName: org.Name, MinLen: auth.MinPasswordLen}}
	if err := c.render(w, r, status, "password", v); err != nil {
		c.fail(w, r, nil, err)
	}
}

// PasswordForm answers GET /password/{token}: the page of an invitation or reset link.
func (c *Console) PasswordForm(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	token := r.PathValue("token")
	l, m, err := c.People.Link(r.Context(), token)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.passwordPage(w, r, http.StatusOK, token, l, m, "")
}

// SetPassword answers POST /password/{token}: the link is used up and the member signs in
// with the new password on /login.
func (c *Console) SetPassword(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, roster.E(roster.Invalid, "the form could not be read"))
		return
	}
	l, m, err := c.People.Link(r.Context(), token)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		c.passwordPage(w, r, http.StatusBadRequest, token, l, m, "The two passwords differ.")
		return
	}
	if _, err := c.People.RedeemLink(r.Context(), token, pw); err != nil {
		if roster.KindOf(err) == roster.Invalid {
			c.passwordPage(w, r, http.StatusBadRequest, token, l, m, roster.MessageOf(err))
			return
		}
		c.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/login?notice=password&org="+url.QueryEscape(m.OrgID), http.StatusSeeOther)
}
